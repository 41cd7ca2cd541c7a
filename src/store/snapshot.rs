//! A consistent copy of the whole database, for backups: every table, read in one read
//! transaction of the live store, written into a fresh redb file in one write transaction.
//!
//! redb lets one process open a database file, and copying `folio.redb` byte by byte while
//! folio writes to it could catch half a commit. A read transaction is a snapshot: writers go
//! on while it is open and it never sees their changes, so the copy is what the store held at
//! one instant.
//!
//! Every table in `tables::ALL` is copied (a unit test there fails when a table is declared
//! but not listed). The copy also refuses to finish when the source holds a table the list
//! does not name, such as one a newer folio made.

use std::path::Path;

use redb::{
    Database, MultimapTableHandle, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable, TableHandle,
};

use super::tables::*;
use super::{META_FINGERPRINT, Store, StoreError};

/// What a snapshot holds, for progress and the backup's description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub tables: usize,
    pub rows: u64,
    /// The BLAKE3 hashes (hex) of every stored file the snapshot's rows use, sorted.
    pub blobs: Vec<String>,
    /// The names of the schools in it.
    pub schools: Vec<String>,
    /// Hashes of files still on their way from other boxes (`BLOB_HASH_MISSING`): a backup
    /// holds them only if they happened to be here, and a restored box fetches the rest.
    pub on_their_way: std::collections::BTreeSet<String>,
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (a new file). The store keeps
    /// serving while this runs.
    pub fn snapshot_to(&self, dest: &Path) -> Result<SnapshotSummary, StoreError> {
        let source = self.db.begin_read()?;
        write_snapshot(&source, dest)
    }
}

/// Copies every table of `source` into a new database at `dest`. The copy does not keep the
/// machine fingerprint, so whatever opens it later, wherever, takes a new replica id (see
/// `Store::open`): a restored box must never write as the box it was copied from.
pub fn write_snapshot(source: &ReadTransaction, dest: &Path) -> Result<SnapshotSummary, StoreError> {
    if dest.exists() {
        return Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", dest.display()),
        )));
    }
    let db = Database::create(dest).map_err(|e| StoreError::Db(e.into()))?;
    let txn = db.begin_write()?;
    let (copied, rows) = copy_tables(source, &txn)?;
    // Refuse to make an incomplete backup: a table this list does not know would be lost.
    let mut missing: Vec<String> = source
        .list_tables()?
        .map(|t| t.name().to_string())
        .chain(source.list_multimap_tables()?.map(|t| t.name().to_string()))
        .filter(|name| !copied.contains(&name.as_str()))
        .collect();
    if !missing.is_empty() {
        missing.sort();
        return Err(StoreError::Corrupt(format!(
            "the backup does not know how to copy the table(s) {}; this folio cannot make a complete backup",
            missing.join(", ")
        )));
    }
    txn.open_table(META)?.remove(META_FINGERPRINT)?;
    txn.commit()?;
    drop(db);
    let summary = describe(dest)?;
    Ok(SnapshotSummary { tables: copied.len(), rows, ..summary })
}

/// Opens a snapshot file read-only: nothing about it changes, so its hash stays valid.
fn open_read_only(path: &Path) -> Result<ReadOnlyDatabase, StoreError> {
    ReadOnlyDatabase::open(path).map_err(|e| match e {
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(what)) => StoreError::Corrupt(what),
        other => StoreError::Db(other.into()),
    })
}

/// Reads what a snapshot file holds: the files it uses and its schools. Opens the file on
/// its own, so call it only on a snapshot, never on a live store's database.
pub fn describe(path: &Path) -> Result<SnapshotSummary, StoreError> {
    let db = open_read_only(path)?;
    let txn = db.begin_read()?;
    let mut blobs: Vec<String> = Vec::new();
    for row in txn.open_table(BLOB_HASH_FILE)?.range::<(&str, IdKey)>(..)? {
        let (key, _) = row?;
        let hash = key.value().0;
        if blobs.last().map(String::as_str) != Some(hash) {
            blobs.push(hash.to_string());
        }
    }
    let schools = crate::store::Queries::schools(&txn)?.into_iter().map(|s| s.name).collect();
    let on_their_way = match txn.open_table(BLOB_HASH_MISSING) {
        Ok(table) => table.iter()?.map(|row| Ok(row?.0.value().to_string())).collect::<Result<_, StoreError>>()?,
        // A backup made before files travelled between boxes.
        Err(redb::TableError::TableDoesNotExist(_)) => Default::default(),
        Err(e) => return Err(e.into()),
    };
    Ok(SnapshotSummary { tables: 0, rows: 0, blobs, schools, on_their_way })
}

/// The schema version a snapshot file was written with, or `None` if it has none.
pub fn schema_version(path: &Path) -> Result<Option<u32>, StoreError> {
    let db = open_read_only(path)?;
    let txn = db.begin_read()?;
    let meta = txn.open_table(META)?;
    let found = meta.get(super::META_SCHEMA_VERSION)?.map(|v| super::read_u32(v.value())).transpose()?;
    Ok(found)
}

/// Copies every table. Returns the names copied and the number of rows.
///
/// Everything is copied, local tables too. Uploads in progress: their bytes are not in a
/// backup, so a restored box drops the rows at its first start (`resumable::reconcile`).
/// Pairings: a box restored on its own disk keeps its identity (`<data>/tls/`), so its peers
/// still know it; on other hardware the pinned ids no longer match and peers say so (pair
/// again). Files still on their way: a restored box goes on fetching them from its peers.
fn copy_tables(
    source: &ReadTransaction,
    dest: &redb::WriteTransaction,
) -> Result<(Vec<&'static str>, u64), StoreError> {
    let mut names = Vec::new();
    let mut rows = 0;
    for table in ALL {
        rows += table.copy(source, dest)?;
        names.push(table.name());
    }
    Ok((names, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::TableDefinition;

    #[test]
    fn every_listed_table_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source = store.db.begin_read().unwrap();
        let dest = Database::create(dir.path().join("copy.redb")).unwrap();
        let txn = dest.begin_write().unwrap();
        let (copied, _) = copy_tables(&source, &txn).unwrap();
        let listed: Vec<&str> = ALL.iter().map(|t| t.name()).collect();
        assert_eq!(copied, listed, "copy_tables must copy every table `tables::ALL` lists");
    }

    #[test]
    fn a_snapshot_holds_the_rows_and_takes_a_new_replica_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.write(|tx| tx.meta_set("probe", b"yes")).unwrap();
        let snapshot = dir.path().join("snap.redb");
        let summary = store.snapshot_to(&snapshot).unwrap();
        assert_eq!(summary.tables, ALL.len());
        assert!(summary.blobs.is_empty());
        assert_eq!(schema_version(&snapshot).unwrap(), Some(SCHEMA_VERSION));

        let restored = tempfile::tempdir().unwrap();
        std::fs::copy(&snapshot, Store::db_path(restored.path())).unwrap();
        let copy = Store::open(restored.path()).unwrap();
        assert_ne!(copy.replica(), store.replica(), "a restored copy writes as a new replica");
        assert_eq!(copy.meta("probe").unwrap().as_deref(), Some(&b"yes"[..]));
        assert!(store.snapshot_to(&snapshot).is_err(), "never overwrites");
    }

    #[test]
    fn a_table_the_copy_does_not_know_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|tx| {
                const EXTRA: TableDefinition<u8, u8> = TableDefinition::new("a_table_nobody_copies");
                tx.txn().open_table(EXTRA)?.insert(1, 1)?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let err = store.snapshot_to(&dir.path().join("snap.redb")).unwrap_err();
        assert!(err.to_string().contains("a_table_nobody_copies"), "{err}");
    }
}
