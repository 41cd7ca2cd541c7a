//! The store: redb is the source of truth for everything folio knows.
//!
//! Every change to shared data goes through [`Tx::record`], which appends an [`Op`] to the op
//! log and applies it to the tables in the same write transaction, so the log and the tables
//! can never disagree and sync (`sync`, through `Tx::receive`) replays exactly what happened here.
//! On a box that joined a grant of some classes of a school, `record` first refuses what the
//! box holding the school would refuse from it (`store::grant`), so its log never wedges sync.
//!
//! Writes made at the same time share one transaction and one fsync (`group`).
//!
//! The store is synchronous. Async code reaches it through `Folio::db`, which runs the
//! closure on tokio's blocking pool so redb never stalls the async worker threads.

mod apply;
pub mod class_rows;
pub mod codec;
pub mod dump;
pub mod family_sheets;
pub mod file_index;
pub mod grant;
mod group;
mod lazy;
mod migrate;
pub mod peers;
mod queries;
pub mod replication;
pub mod sessions;
pub mod snapshot;
pub mod summaries;
pub mod tables;
pub mod uploads;
pub mod weekly;

pub use apply::ReflectionEdit;
pub use file_index::{FileReads, PeerReads};
pub use queries::{FactsCache, Queries, ReadTables};
pub use replication::{Received, SyncReads};
pub use sessions::Session;

use redb::{Database, ReadableDatabase, ReadableTable, WriteTransaction};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::domain::hlc::wall_clock_ms;
use crate::domain::partition::{self, Rule};
use crate::domain::{ArtifactId, Change, Hlc, Op, OpId, ReplicaId, SchoolId, Scope, UserId};
use tables::{META, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    #[error(
        "The data in {path} uses data format {found}, but this folio reads format {expected}. \
         Nothing was changed. {advice}"
    )]
    SchemaMismatch { path: PathBuf, found: u32, expected: u32, advice: &'static str },
    #[error(
        "Another folio is already using {0}. Stop it first (systemctl stop folio), or give this one its own --data directory."
    )]
    InUse(PathBuf),
    #[error("the database is damaged: {0}. Restore it from a backup (folio restore).")]
    Corrupt(String),
    #[error("cannot use the data directory: {0}")]
    Io(#[from] std::io::Error),
    /// A change about a person who was erased: refused, whatever asked for it.
    #[error("that person's account was erased")]
    Erased,
    /// A change recorded under a partition that is not the one it belongs in (a bug in the
    /// caller: peers would refuse it).
    #[error("internal error: {change} recorded in partition {given:?}, but it belongs in {expected:?}")]
    WrongPartition { change: String, given: Scope, expected: Scope },
    /// Two different operations with the same origin and sequence: two boxes wrote as one
    /// replica (a copied data directory that was not noticed).
    /// A change this box may not make: it joined a grant of only some classes of the school,
    /// and the box holding the school would refuse the change (`store::grant`).
    #[error(
        "This box holds only some classes of the school; add new people, and change accounts, classes \
         and the school's settings, on the school's main box (the change reaches this box at its next \
         sync). Not done here: {kind}, because {why}."
    )]
    WholeSchoolOnly { kind: &'static str, why: &'static str },
    /// The commit of a batch of writes failed: every write of the batch gets its error.
    #[error("{0}")]
    Shared(Arc<StoreError>),
    #[error(
        "two different operations claim to be number {} of box replica {}: a copy of that box's data is writing as that box too",
        .0.seq, .0.replica
    )]
    Collision(OpId),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
from_redb!(redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

const META_SCHEMA_VERSION: &str = "schema_version";

/// How much of the database file is kept in memory unless configured (`--db-cache-mb`).
/// redb's own default, 1 GiB, let an idle box with 120,000 pieces of work hold most of a
/// gigabyte; the hot pages read summaries and indexes, whose pages fit in a few tens of MiB.
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;
const META_REPLICA: &str = "replica_id";
const META_FINGERPRINT: &str = "fingerprint";
const META_SEQ: &str = "seq";
const META_HLC: &str = "hlc";

/// Where the store reads the time (ms since 1970): the wall clock, or a simulated one in
/// tests of clock skew.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A cheap handle to the database; clone it freely.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    replica: ReplicaId,
    clock: Clock,
    /// Woken after every commit that recorded an operation, for the workers that follow the
    /// store (the search indexer).
    changed: Arc<tokio::sync::Notify>,
    /// Counts those commits, for any number of followers (the sync scheduler): unlike
    /// `changed`, watching it takes a wake-up from no one.
    commits: Arc<tokio::sync::watch::Sender<u64>>,
    /// "Seen" marks and session use not yet written: they go with the next write
    /// transaction ([`lazy`]).
    pending: lazy::Pending,
    /// Write transactions committed (each one durable, so one fsync), for tests and benchmarks.
    durable_commits: Arc<std::sync::atomic::AtomicU64>,
    /// The writes waiting to share a transaction and its fsync ([`group`]).
    group: Arc<group::Group>,
}

impl Store {
    pub fn db_path(data_dir: &Path) -> PathBuf {
        data_dir.join("folio.redb")
    }

    /// Opens (or creates) the database in `data_dir`, refusing a file of another schema.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Self::open_with_cache(data_dir, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] keeping up to `cache_bytes` of the file in memory.
    pub fn open_with_cache(data_dir: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        Self::open_with(data_dir, Arc::new(wall_clock_ms), cache_bytes)
    }

    /// [`Store::open`] with the time read from `clock` instead of the wall clock (tests that
    /// put a box in 1970 or 2038).
    pub fn open_with_clock(data_dir: &Path, clock: Clock) -> Result<Store, StoreError> {
        Self::open_with(data_dir, clock, DEFAULT_CACHE_BYTES)
    }

    fn open_with(data_dir: &Path, clock: Clock, cache_bytes: usize) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let path = Self::db_path(data_dir);
        let db = Database::builder().set_cache_size(cache_bytes).create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse(data_dir.to_path_buf()),
            redb::DatabaseError::UpgradeRequired(_) => StoreError::SchemaMismatch {
                path: path.clone(),
                found: 0,
                expected: SCHEMA_VERSION,
                advice: "It was written by a much older folio; restore a backup made with this version.",
            },
            other => StoreError::Db(other.into()),
        })?;
        let fingerprint = machine_fingerprint(&path);
        let txn = db.begin_write()?;
        let mut migrate_from = None;
        let replica = {
            let mut meta = txn.open_table(META)?;
            let found = meta.get(META_SCHEMA_VERSION)?.map(|v| read_u32(v.value())).transpose()?;
            match found {
                Some(found) if (tables::OLDEST_MIGRATABLE_SCHEMA..SCHEMA_VERSION).contains(&found) => {
                    migrate_from = Some(found);
                }
                Some(found) if found != SCHEMA_VERSION => {
                    return Err(StoreError::SchemaMismatch {
                        path,
                        found,
                        expected: SCHEMA_VERSION,
                        advice: if found > SCHEMA_VERSION {
                            "It was written by a newer folio: install that version again (or newer)."
                        } else {
                            "It was written by an older folio that this one cannot upgrade: run that version to make a backup, then restore it with a folio that can read it."
                        },
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION.to_be_bytes().as_slice())?;
                }
            }
            let stored_replica = meta.get(META_REPLICA)?.map(|v| v.value().to_vec());
            let stored_fingerprint = meta.get(META_FINGERPRINT)?.map(|v| v.value().to_vec());
            match (stored_replica, stored_fingerprint) {
                (Some(r), Some(f)) if f == fingerprint.as_bytes() => {
                    let bytes: [u8; 16] =
                        r.try_into().map_err(|_| StoreError::Corrupt("the replica id is malformed".into()))?;
                    ReplicaId(uuid::Uuid::from_bytes(bytes))
                }
                (previous, _) => {
                    // A new database, or this file was copied or restored here: a new replica
                    // id keeps our sequence numbers from colliding with the original's.
                    let replica = ReplicaId::random();
                    if previous.is_some() {
                        tracing::warn!(%replica, "the data directory was copied or restored; this box now writes as a new replica");
                    }
                    meta.insert(META_REPLICA, replica.bytes().as_slice())?;
                    meta.insert(META_FINGERPRINT, fingerprint.as_bytes())?;
                    meta.insert(META_SEQ, 0u64.to_be_bytes().as_slice())?;
                    replica
                }
            }
        };
        tables::create_all(&txn)?;
        if let Some(from) = migrate_from {
            if from < 2 {
                // Replays the whole log through today's `apply`, which fills the skills, counts and
                // summaries too.
                migrate::from_v1(&txn)?;
            } else {
                if from < 3 {
                    migrate::from_v2(&txn)?;
                }
                // Rebuilds every report row from the work: what 3 → 4 needs, and more.
                migrate::from_v4(&txn)?;
                // The work summaries (4 → 5), worked out for the work already there.
                migrate::summaries_from_v4(&txn)?;
            }
            txn.open_table(META)?.insert(META_SCHEMA_VERSION, SCHEMA_VERSION.to_be_bytes().as_slice())?;
            tracing::info!(from, to = SCHEMA_VERSION, "the database was brought up to this folio's data format");
        }
        file_index::backfill(&txn)?;
        peers::settle_old_directions(&txn, replica)?;
        txn.commit()?;
        Ok(Store {
            db: Arc::new(db),
            replica,
            clock,
            changed: Arc::default(),
            commits: Arc::new(tokio::sync::watch::Sender::new(0)),
            pending: Default::default(),
            durable_commits: Arc::default(),
            group: Arc::default(),
        })
    }

    pub fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// How many handles to the database are open, this one included. The file closes when
    /// the last goes.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.db)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&redb::ReadTransaction) -> Result<T, E>) -> Result<T, E> {
        let txn = self.db.begin_read().map_err(StoreError::from)?;
        f(&txn)
    }

    /// Runs `f` in a write transaction of its own and commits it if `f` succeeds, for the
    /// rare write that must not share a batch ([`Store::write`]): one whose closure cannot
    /// run twice. One user action is one write transaction: it happens whole or not at all.
    pub fn write_alone<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Tx) -> Result<T, E>) -> Result<T, E> {
        let txn = self.db.begin_write().map_err(StoreError::from)?;
        let mut tx = Tx { txn, replica: self.replica, clock: Arc::clone(&self.clock), recorded: false };
        let value = f(&mut tx)?;
        self.commit_tx(tx)?;
        Ok(value)
    }

    /// Commits `tx` with the bookkeeping kept in memory (one fsync).
    fn commit_tx(&self, tx: Tx) -> Result<(), StoreError> {
        let written = self.pending.write_into(&tx.txn)?;
        tx.txn.commit()?;
        self.pending.forget(written);
        self.durable_commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if tx.recorded {
            self.changed.notify_one();
            self.commits.send_modify(|n| *n += 1);
        }
        Ok(())
    }

    /// Remembers that `user` opened `artifact` now, in memory: written with the next write
    /// transaction or [`Store::flush_pending`] ([`lazy`]). No I/O.
    pub fn mark_seen(&self, user: UserId, artifact: ArtifactId) {
        self.pending.seen(user, artifact, wall_clock_ms());
    }

    /// When `user` last opened `artifact` (0: never), marks not yet written included.
    pub fn seen_ms(&self, r: &impl ReadTables, user: UserId, artifact: ArtifactId) -> Result<u64, StoreError> {
        lazy::seen_ms(&self.pending, r, user, artifact)
    }

    /// Remembers that the session with this id hash was used at `at_ms`, in memory, as
    /// [`Store::mark_seen`] does.
    pub fn mark_session_used(&self, session: [u8; 32], at_ms: u64) {
        self.pending.used(session, at_ms);
    }

    /// When the session was last used as far as memory knows (0: nothing pending).
    pub fn session_used_ms(&self, session: [u8; 32]) -> u64 {
        self.pending.used_at(session)
    }

    /// Writes the bookkeeping kept in memory, if there is any (one commit).
    pub fn flush_pending(&self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.write(|_| Ok::<_, StoreError>(()))
    }

    /// Counts the write transactions this store commits from now on, each durable (an
    /// fsync): what a page view must leave unchanged. Holds no handle on the database.
    pub fn commit_counter(&self) -> Arc<std::sync::atomic::AtomicU64> {
        Arc::clone(&self.durable_commits)
    }

    /// Resolves after the next commit that records an operation (or at once if one happened
    /// since the last wait of the one worker that uses it).
    pub fn changed(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.changed)
    }

    /// Changes with every commit that records an operation (made here or received). Any
    /// number of tasks may follow it; `changed` has one follower (the search indexer).
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Drops search to-do rows whose ticket is still the one the indexer read: their documents
    /// are committed. A row re-queued meanwhile has a new ticket and stays.
    pub fn finish_search_todo(&self, done: &[(ArtifactId, u64)]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut todo = tx.txn.open_table(tables::SEARCH_TODO)?;
            for (artifact, ticket) in done {
                let current = todo.get(artifact.bytes())?.map(|v| v.value());
                if current == Some(*ticket) {
                    todo.remove(artifact.bytes())?;
                }
            }
            Ok(())
        })
    }

    /// Queues every artifact for search indexing (a rebuild of the index).
    pub fn queue_all_for_search(&self) -> Result<u64, StoreError> {
        self.write(|tx| {
            let ids = tx.txn.all_artifact_ids()?;
            let mut todo = tx.txn.open_table(tables::SEARCH_TODO)?;
            for id in &ids {
                todo.insert(id.bytes(), rand::random::<u64>())?;
            }
            drop(todo);
            tx.recorded = true;
            Ok(ids.len() as u64)
        })
    }

    /// A box-wide setting (local to this box).
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|r| {
            let meta = r.open_table(META).map_err(StoreError::from)?;
            Ok(meta.get(key)?.map(|v| v.value().to_vec()))
        })
    }
}

/// A write transaction in progress.
pub struct Tx {
    txn: WriteTransaction,
    replica: ReplicaId,
    clock: Clock,
    recorded: bool,
}

impl Tx {
    /// The transaction itself, for reads (through [`Queries`]) and local tables.
    pub fn txn(&self) -> &WriteTransaction {
        &self.txn
    }

    /// Appends a change to the op log and applies it, in this transaction.
    pub fn record(
        &mut self,
        school: SchoolId,
        scope: Scope,
        author: Option<UserId>,
        mut change: Change,
    ) -> Result<Op, StoreError> {
        apply::stamp_origin_facts(&self.txn, &mut change)?;
        let expected = match partition::rule(&change) {
            Rule::Is(expected) => Some(expected),
            Rule::OfArtifact(artifact) => self.txn.artifact(artifact)?.map(|a| a.partition()),
            Rule::Unchecked => None,
        };
        if let Some(expected) = expected
            && expected != scope
        {
            let change = format!("{change:?}").chars().take(60).collect();
            return Err(StoreError::WrongPartition { change, given: scope, expected });
        }
        // One door for every locally made operation: on a box that joined a class grant of
        // this school, an operation the box holding the school would refuse is refused here,
        // before it is numbered or written. Were it logged, every later push would be refused
        // for it and sync between the two boxes would stay wedged (`store::grant`). Received
        // operations come through `receive`, not here: they are the school's word.
        let probe = Op {
            id: OpId { replica: self.replica, seq: 0 },
            hlc: Hlc::zero(self.replica),
            school,
            scope,
            author,
            change,
        };
        if let Some(why) = grant::joined_class_limit(&self.txn, &probe)? {
            return Err(StoreError::WholeSchoolOnly { kind: probe.change.kind(), why });
        }
        let change = probe.change;
        let op = {
            let mut meta = self.txn.open_table(META)?;
            let seq = meta.get(META_SEQ)?.map(|v| read_u64(v.value())).transpose()?.unwrap_or(0) + 1;
            let high = match meta.get(META_HLC)? {
                Some(v) => codec::decode::<Hlc>(v.value())?,
                None => Hlc::zero(self.replica),
            };
            let hlc = high.tick((self.clock)(), self.replica);
            meta.insert(META_SEQ, seq.to_be_bytes().as_slice())?;
            meta.insert(META_HLC, codec::encode(&hlc).as_slice())?;
            Op { id: OpId { replica: self.replica, seq }, hlc, school, scope, author, change }
        };
        replication::log(&self.txn, &op)?;
        replication::advance(&self.txn, school, scope, self.replica, op.id.seq)?;
        if apply::apply_logged(&self.txn, &op)? == apply::Outcome::RefusedErased {
            return Err(StoreError::Erased);
        }
        self.recorded = true;
        Ok(op)
    }

    /// The replica this box writes as.
    pub fn replica(&self) -> ReplicaId {
        self.replica
    }

    pub fn meta_set(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.txn.open_table(META)?.insert(key, value)?;
        Ok(())
    }

    pub fn meta_remove(&mut self, key: &str) -> Result<(), StoreError> {
        self.txn.open_table(META)?.remove(key)?;
        Ok(())
    }
}

fn read_u32(bytes: &[u8]) -> Result<u32, StoreError> {
    Ok(u32::from_be_bytes(
        bytes.try_into().map_err(|_| StoreError::Corrupt("a number in the settings is malformed".into()))?,
    ))
}

fn read_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(
        bytes.try_into().map_err(|_| StoreError::Corrupt("a number in the settings is malformed".into()))?,
    ))
}

/// What ties a database file to the machine and the file it lives in: the machine id and the
/// file's inode. A copy (to another machine, or restored from a backup) changes it.
fn machine_fingerprint(db_path: &Path) -> String {
    let machine = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(db_path).map(|m| m.ino()).unwrap_or(0)
    };
    #[cfg(not(unix))]
    let inode = 0;
    format!("{machine}:{inode}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::ClassRelation;
    use crate::domain::{ClassId, Role};

    fn op(replica: ReplicaId, seq: u64, ms: u64, school: SchoolId, change: Change) -> Op {
        Op {
            id: OpId { replica, seq },
            hlc: Hlc { ms, counter: 0, replica },
            school,
            scope: Scope::School,
            author: None,
            change,
        }
    }

    fn relation_after(ops: &[Op]) -> ClassRelation {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for op in ops {
            store.write(|tx| apply::apply_logged(tx.txn(), op)).unwrap();
        }
        let (user, class) = match &ops[0].change {
            Change::MemberAdded { user, class, .. } | Change::MemberRemoved { user, class } => (*user, *class),
            _ => unreachable!(),
        };
        store.read(|r| r.relation(user, class)).unwrap()
    }

    #[test]
    fn memberships_merge_the_same_in_any_order_and_twice() {
        let (a, b) = (ReplicaId::random(), ReplicaId::random());
        let (school, class, user) = (SchoolId::new(), ClassId::new(), UserId::new());
        let add = op(a, 1, 1_000, school, Change::MemberAdded { class, user, role: Role::Student });
        let remove = op(b, 1, 2_000, school, Change::MemberRemoved { class, user });
        let re_add = op(a, 2, 3_000, school, Change::MemberAdded { class, user, role: Role::Student });

        let removed = ClassRelation::None;
        assert_eq!(relation_after(&[add.clone(), remove.clone()]), removed);
        assert_eq!(relation_after(&[remove.clone(), add.clone()]), removed, "a removal that arrives first is kept");
        assert_eq!(relation_after(&[add.clone(), remove.clone(), add.clone(), remove.clone()]), removed);

        let present = ClassRelation::Member(Role::Student);
        for order in [[&add, &remove, &re_add], [&re_add, &remove, &add], [&remove, &re_add, &add]] {
            let ops: Vec<Op> = order.iter().map(|o| (*o).clone()).collect();
            assert_eq!(relation_after(&ops), present, "a later add wins in every order");
        }
    }

    #[test]
    fn field_writes_keep_the_newest_whatever_the_order() {
        let r = ReplicaId::random();
        let (school, user) = (SchoolId::new(), UserId::new());
        let create = op(
            r,
            1,
            1,
            school,
            Change::UserCreated {
                user,
                username: "ana".into(),
                display_name: "Ana".into(),
                role: Role::Student,
                external_id: None,
            },
        );
        let old = op(r, 2, 10, school, Change::UserRenamed { user, display_name: "Old".into() });
        let new = op(r, 3, 20, school, Change::UserRenamed { user, display_name: "New".into() });
        for ops in [[&create, &old, &new], [&create, &new, &old]] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            for op in ops {
                store.write(|tx| apply::apply_logged(tx.txn(), op)).unwrap();
                store.write(|tx| apply::apply_logged(tx.txn(), op)).unwrap();
            }
            assert_eq!(store.read(|r| r.user(user)).unwrap().unwrap().display_name, "New");
        }
    }
}
