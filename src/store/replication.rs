//! The store's side of sync: which partition each op log entry is in, how far this box has
//! each partition from each origin (its *positions*), reading a partition's entries by
//! range, and taking in operations from other boxes. `sync` builds and checks pages on top
//! of these; only this module knows how they are laid out in redb.
//!
//! Every entry of the op log, made here or received, is indexed under
//! (school, partition, origin, sequence) in the transaction that writes it. A position
//! (school, partition, origin) -> n means: this box holds every operation that origin made in
//! that partition up to sequence n. Positions move only forward, and only in the
//! transaction that brings the operations they count.

use std::collections::BTreeSet;

use redb::ReadableTable;

use super::apply::{self, Outcome};
use super::codec::{decode, encode};
use super::tables::*;
use super::{Queries, ReadTables, StoreError, Tx};
use crate::domain::hlc::ClockTooFarAhead;
use crate::domain::{ClassId, Hlc, Op, OpId, ReplicaId, SchoolId, Scope, UserId};

pub fn partition_key(scope: Scope) -> PartitionKey {
    let mut key = [0u8; 17];
    match scope {
        Scope::School => {}
        Scope::Class(class) => {
            key[0] = 1;
            key[1..].copy_from_slice(&class.bytes());
        }
        Scope::Person(user) => {
            key[0] = 2;
            key[1..].copy_from_slice(&user.bytes());
        }
    }
    key
}

pub fn scope_of_key(key: PartitionKey) -> Result<Scope, StoreError> {
    let id: [u8; 16] = key[1..].try_into().expect("17 - 1 bytes");
    match key[0] {
        0 => Ok(Scope::School),
        1 => Ok(Scope::Class(ClassId::from_bytes(id))),
        2 => Ok(Scope::Person(UserId::from_bytes(id))),
        other => Err(StoreError::Corrupt(format!("a partition key has unknown kind {other}"))),
    }
}

fn replica_of(bytes: IdKey) -> ReplicaId {
    ReplicaId(uuid::Uuid::from_bytes(bytes))
}

/// Writes an operation to the op log and to the partition index.
pub(super) fn log(txn: &redb::WriteTransaction, op: &Op) -> Result<(), StoreError> {
    txn.open_table(OPLOG)?.insert((op.id.replica.bytes(), op.id.seq), encode(op).as_slice())?;
    txn.open_table(SCHOOL_PARTITION_ORIGIN_SEQ)?
        .insert((op.school.bytes(), partition_key(op.scope), op.id.replica.bytes(), op.id.seq), 1)?;
    Ok(())
}

/// Moves a position forward (never back).
pub(super) fn advance(
    txn: &redb::WriteTransaction,
    school: SchoolId,
    scope: Scope,
    origin: ReplicaId,
    seq: u64,
) -> Result<(), StoreError> {
    let mut positions = txn.open_table(SCHOOL_PARTITION_ORIGIN_TO_SEQ)?;
    let key = (school.bytes(), partition_key(scope), origin.bytes());
    let current = positions.get(key)?.map_or(0, |v| v.value());
    if seq > current {
        positions.insert(key, seq)?;
    }
    Ok(())
}

/// Reads for sync, in a read or a write transaction.
pub trait SyncReads: ReadTables {
    /// Every position this box holds for a school: (partition, origin, sequence), in
    /// partition order (school, classes, people).
    fn positions(&self, school: SchoolId) -> Result<Vec<(Scope, ReplicaId, u64)>, StoreError> {
        let lo = (school.bytes(), [0u8; 17], [0u8; 16]);
        let hi = (school.bytes(), [0xffu8; 17], [0xffu8; 16]);
        self.table(SCHOOL_PARTITION_ORIGIN_TO_SEQ)?
            .range(lo..=hi)?
            .map(|row| {
                let (k, v) = row?;
                let (_, partition, origin) = k.value();
                Ok((scope_of_key(partition)?, replica_of(origin), v.value()))
            })
            .collect()
    }

    /// The positions of one partition: (origin, sequence).
    fn positions_in(&self, school: SchoolId, scope: Scope) -> Result<Vec<(ReplicaId, u64)>, StoreError> {
        let p = partition_key(scope);
        self.table(SCHOOL_PARTITION_ORIGIN_TO_SEQ)?
            .range((school.bytes(), p, [0u8; 16])..=(school.bytes(), p, [0xffu8; 16]))?
            .map(|row| {
                let (k, v) = row?;
                Ok((replica_of(k.value().2), v.value()))
            })
            .collect()
    }

    fn position(&self, school: SchoolId, scope: Scope, origin: ReplicaId) -> Result<u64, StoreError> {
        Ok(self
            .table(SCHOOL_PARTITION_ORIGIN_TO_SEQ)?
            .get((school.bytes(), partition_key(scope), origin.bytes()))?
            .map_or(0, |v| v.value()))
    }

    /// The op log entries one origin made in one partition with sequence in
    /// (after, through], oldest first, at most `limit`, each with its encoded size.
    fn logged_in(
        &self,
        school: SchoolId,
        scope: Scope,
        origin: ReplicaId,
        after: u64,
        through: u64,
        limit: usize,
    ) -> Result<Vec<(Op, usize)>, StoreError> {
        if through <= after {
            return Ok(Vec::new());
        }
        let p = partition_key(scope);
        let index = self.table(SCHOOL_PARTITION_ORIGIN_SEQ)?;
        let log = self.table(OPLOG)?;
        let mut found = Vec::new();
        for row in index
            .range((school.bytes(), p, origin.bytes(), after + 1)..=(school.bytes(), p, origin.bytes(), through))?
        {
            if found.len() >= limit {
                break;
            }
            let seq = row?.0.value().3;
            let entry = log
                .get((origin.bytes(), seq))?
                .ok_or_else(|| StoreError::Corrupt(format!("the op log lacks an indexed entry ({origin}, {seq})")))?;
            let bytes = entry.value();
            found.push((decode::<Op>(bytes)?, bytes.len()));
        }
        Ok(found)
    }

    fn logged(&self, id: OpId) -> Result<Option<Op>, StoreError> {
        self.table(OPLOG)?.get((id.replica.bytes(), id.seq))?.map(|v| decode(v.value())).transpose()
    }

    /// Everyone who has, or had, a place in a class (removed places are kept as tombstones;
    /// an erased person's are gone).
    fn people_of_class(&self, class: ClassId) -> Result<Vec<UserId>, StoreError> {
        self.table(CLASS_USER_TO_MEMBERSHIP)?
            .range((class.bytes(), [0u8; 16])..=(class.bytes(), [0xffu8; 16]))?
            .map(|row| Ok(UserId::from_bytes(row?.0.value().1)))
            .collect()
    }

    /// Every class a person has a place in or had one (a removed place is kept as a
    /// tombstone), whatever this box holds of the class itself. A scan of the places table:
    /// it is keyed by class first, and this is asked only for the few sign-in secrets a page
    /// or a class box sets.
    fn classes_ever_of(&self, user: UserId) -> Result<Vec<ClassId>, StoreError> {
        let mut classes = Vec::new();
        for row in self.table(CLASS_USER_TO_MEMBERSHIP)?.iter()? {
            let (class, person) = row?.0.value();
            if person == user.bytes() {
                classes.push(ClassId::from_bytes(class));
            }
        }
        Ok(classes)
    }

    /// The partitions of every piece of work a person owns or owned here, deleted work
    /// included (its rows stay as tombstones).
    fn partitions_of_work_of(&self, owner: UserId) -> Result<BTreeSet<Scope>, StoreError>
    where
        Self: Sized,
    {
        let mut partitions = BTreeSet::new();
        for id in self.ids_under(OWNER_ARTIFACT, owner.bytes())? {
            if let Some(artifact) = self.artifact(crate::domain::ArtifactId::from_bytes(id))? {
                partitions.insert(artifact.partition());
            }
        }
        Ok(partitions)
    }

    /// How many received operations wait for a record that has not arrived.
    fn waiting_count(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata;
        Ok(self.table(TARGET_ORIGIN_SEQ_WAITING)?.len()?)
    }

    /// Whether a person was erased here.
    fn is_erased(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(self.table(ERASED_USER_TO_HLC)?.get(user.bytes())?.is_some())
    }
}

impl<T: ReadTables> SyncReads for T {}

/// What became of an operation received from another box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// It was here already (perhaps emptied by an erasure): nothing changed.
    AlreadyHere,
    Applied,
    /// Logged; waits for the record it changes to arrive.
    Waiting,
    /// About an erased person: logged emptied, not applied.
    RefusedErased,
    /// Logged, but claims a partition its target is not in: not applied.
    Misfiled,
}

impl Tx {
    /// Takes in an operation from another box: logs it under its own origin, sequence and
    /// clock, indexes it, and applies it through the same `apply` local operations take (so
    /// search and thumbnail to-dos are queued the same way). An operation already in the log
    /// is skipped; a *different* operation with the same origin and sequence is refused, as
    /// it means two boxes wrote as one replica.
    pub fn receive(&mut self, op: &Op) -> Result<Received, StoreError> {
        if let Some(held) = self.txn.logged(op.id)? {
            let same = held == *op || held == apply::redacted(op) || apply::redacted(&held) == *op;
            return if same { Ok(Received::AlreadyHere) } else { Err(StoreError::Collision(op.id)) };
        }
        log(&self.txn, op)?;
        self.recorded = true;
        let received = match apply::apply_logged(&self.txn, op)? {
            Outcome::Applied => Received::Applied,
            Outcome::Waiting => Received::Waiting,
            Outcome::RefusedErased => Received::RefusedErased,
            Outcome::Misfiled => Received::Misfiled,
        };
        // Operations travel without their files: those it names are fetched after the page.
        if matches!(received, Received::Applied | Received::Waiting) {
            super::file_index::note_received(&self.txn, op)?;
        }
        Ok(received)
    }

    /// Moves this box's position for (school, partition, origin) forward to `seq`.
    pub fn advance_position(
        &mut self,
        school: SchoolId,
        scope: Scope,
        origin: ReplicaId,
        seq: u64,
    ) -> Result<(), StoreError> {
        advance(&self.txn, school, scope, origin, seq)
    }

    /// Lets the clock of a received operation move ours forward, unless it is too far ahead
    /// of us (`hlc::MAX_REMOTE_DRIFT_MS`): then our clock stays, and the caller reports it.
    pub fn observe_clock(&mut self, remote: Hlc) -> Result<Result<(), ClockTooFarAhead>, StoreError> {
        let mut meta = self.txn.open_table(META)?;
        let high = match meta.get(super::META_HLC)? {
            Some(v) => decode::<Hlc>(v.value())?,
            None => Hlc::zero(self.replica),
        };
        match high.observe(remote, (self.clock)()) {
            Ok(next) => {
                if next != high {
                    meta.insert(super::META_HLC, encode(&next).as_slice())?;
                }
                Ok(Ok(()))
            }
            Err(ahead) => Ok(Err(ahead)),
        }
    }
}
