//! The store's side of moving files between boxes: where each file belongs, which files are
//! still on their way, and what happens in one transaction when one arrives.
//!
//! Operations travel without their files; a received operation that names a file puts its
//! hash in `BLOB_HASH_MISSING` in the transaction that receives it. The store does not look
//! at the disk, so a row may name a blob that happens to be here already (the same photo
//! uploaded on both boxes): `peers::files` clears such rows before it fetches anything
//! ([`Tx::blob_arrived`] for a blob found on disk, [`Tx::forget_missing`] for a hash no file
//! names any more). Local operations never add rows: their files are stored before the
//! operation is written.
//!
//! `FILE_ID_TO_HOLDER` answers "which partition is this file in?" for a peer asking for a
//! blob by hash: `BLOB_HASH_FILE` gives the files that use the hash, this table their
//! school, partition and artifact, and the peer's grant judges the partition. A few point
//! reads per request, whatever the number of files on the box.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::tables::*;
use super::{Queries, ReadTables, StoreError, Tx};
use crate::domain::{ActivityId, ArtifactId, FileRef, Op, SchoolId, Scope};

/// Where a stored file belongs: what a grant is judged on, and what must be redone when its
/// blob arrives (a thumbnail for an image, the artifact's search documents for its text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub school: SchoolId,
    pub partition: Scope,
    /// The artifact whose version or comment holds the file (`None` for an activity's file).
    pub artifact: Option<ArtifactId>,
    pub activity: Option<ActivityId>,
    pub content_type: String,
    pub size: u64,
}

impl Holder {
    pub fn of_artifact(artifact: &crate::domain::Artifact, file: &FileRef) -> Holder {
        Holder {
            school: artifact.school,
            partition: artifact.partition(),
            artifact: Some(artifact.id),
            activity: None,
            content_type: file.content_type.clone(),
            size: file.size,
        }
    }

    pub fn of_activity(activity: &crate::domain::Activity, file: &FileRef) -> Holder {
        Holder {
            school: activity.school,
            partition: Scope::Class(activity.class),
            artifact: None,
            activity: Some(activity.id),
            content_type: file.content_type.clone(),
            size: file.size,
        }
    }
}

pub(super) fn put_holder(txn: &WriteTransaction, file: &FileRef, holder: &Holder) -> Result<(), StoreError> {
    txn.open_table(FILE_ID_TO_HOLDER)?.insert(file.id.bytes(), encode(holder).as_slice())?;
    Ok(())
}

pub(super) fn remove_holder(txn: &WriteTransaction, file: &FileRef) -> Result<(), StoreError> {
    txn.open_table(FILE_ID_TO_HOLDER)?.remove(file.id.bytes())?;
    Ok(())
}

/// Notes the files a received operation names as on their way (see the module doc).
pub(super) fn note_received(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    let files = op.change.files();
    if files.is_empty() {
        return Ok(());
    }
    let mut missing = txn.open_table(BLOB_HASH_MISSING)?;
    for file in files {
        if file.names_a_blob() {
            missing.insert(file.hash.as_str(), file.size)?;
        }
    }
    Ok(())
}

const META_HOLDERS_FILLED: &str = "file_holders_filled";

/// Fills `FILE_ID_TO_HOLDER` from the artifacts and activities of a database written before
/// the table existed. Runs once, in the transaction that opens the store.
pub(super) fn backfill(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META)?;
    if meta.get(META_HOLDERS_FILLED)?.is_some() {
        return Ok(());
    }
    meta.insert(META_HOLDERS_FILLED, [1u8].as_slice())?;
    drop(meta);
    let mut artifacts = Vec::new();
    for row in txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.iter()? {
        let artifact: crate::domain::Artifact = decode(row?.1.value())?;
        if !artifact.deleted {
            artifacts.push(artifact);
        }
    }
    let mut filled = 0usize;
    for artifact in &artifacts {
        for file in artifact.files() {
            put_holder(txn, file, &Holder::of_artifact(artifact, file))?;
            filled += 1;
        }
        for comment in txn.comments(artifact.id)? {
            if let Some(audio) = &comment.audio {
                put_holder(txn, audio, &Holder::of_artifact(artifact, audio))?;
                filled += 1;
            }
        }
    }
    let mut activities = Vec::new();
    for row in txn.open_table(ACTIVITY_ID_TO_ACTIVITY)?.iter()? {
        activities.push(decode::<crate::domain::Activity>(row?.1.value())?);
    }
    for activity in &activities {
        for file in &activity.files {
            put_holder(txn, file, &Holder::of_activity(activity, file))?;
            filled += 1;
        }
    }
    if filled > 0 {
        tracing::info!(filled, "indexed where each stored file belongs (for fetching files from other boxes)");
    }
    Ok(())
}

/// Reads about files on their way and where files belong.
pub trait FileReads: ReadTables {
    /// Up to `limit` blobs that files name and this box may lack: (hash hex, size).
    fn missing_blobs(&self, limit: usize) -> Result<Vec<(String, u64)>, StoreError> {
        self.table(BLOB_HASH_MISSING)?
            .iter()?
            .take(limit)
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value().to_string(), v.value()))
            })
            .collect()
    }

    /// How many files are on their way (for the admin page's `files_pending`).
    fn files_pending(&self) -> Result<u64, StoreError> {
        Ok(self.table(BLOB_HASH_MISSING)?.len()?)
    }

    fn is_missing(&self, hash_hex: &str) -> Result<bool, StoreError> {
        Ok(self.table(BLOB_HASH_MISSING)?.get(hash_hex)?.is_some())
    }

    /// Where the files that use a blob belong (one entry per file).
    fn holders_of_blob(&self, hash_hex: &str) -> Result<Vec<Holder>, StoreError> {
        let files = self.table(BLOB_HASH_FILE)?;
        let holders = self.table(FILE_ID_TO_HOLDER)?;
        let mut found = Vec::new();
        for row in files.range((hash_hex, [0u8; 16])..=(hash_hex, [0xffu8; 16]))? {
            let (key, _) = row?;
            if let Some(v) = holders.get(key.value().1)? {
                found.push(decode(v.value())?);
            }
        }
        Ok(found)
    }
}

impl<T: ReadTables + ?Sized> FileReads for T {}

impl Tx {
    /// A blob is in the blob store now: it is no longer on its way, images get a thumbnail
    /// and the artifacts using it are indexed again (so the text inside it is found).
    /// Returns whether an image thumbnail was queued.
    pub fn blob_arrived(&mut self, hash_hex: &str) -> Result<bool, StoreError> {
        let txn = &self.txn;
        txn.open_table(BLOB_HASH_MISSING)?.remove(hash_hex)?;
        let holders = txn.holders_of_blob(hash_hex)?;
        let mut thumbnail = false;
        if let Some(image) = holders.iter().find(|h| crate::domain::work::thumbnailable(&h.content_type)) {
            txn.open_table(THUMBNAIL_TODO)?.insert(hash_hex, image.content_type.as_str())?;
            thumbnail = true;
        }
        let mut artifacts: Vec<ArtifactId> = holders.iter().filter_map(|h| h.artifact).collect();
        artifacts.sort_unstable();
        artifacts.dedup();
        if !artifacts.is_empty() {
            let mut todo = txn.open_table(SEARCH_TODO)?;
            for artifact in artifacts {
                todo.insert(artifact.bytes(), rand::random::<u64>())?;
            }
            // Wakes the search indexer, which waits for the store's "changed" signal.
            self.recorded = true;
        }
        Ok(thumbnail)
    }

    /// Drops a hash from the files on their way (no file names it any more).
    pub fn forget_missing(&mut self, hash_hex: &str) -> Result<(), StoreError> {
        self.txn.open_table(BLOB_HASH_MISSING)?.remove(hash_hex)?;
        Ok(())
    }
}

/// What this box remembers per peer and school (`PEER_SCHOOL_TO_POSITIONS`,
/// `PEER_SCHOOL_TO_FILE_POSITIONS`), encoded by the caller's type (`sync::Positions`).
pub trait PeerReads: ReadTables {
    /// The positions the peer last said it holds of the school.
    fn peer_positions<T: serde::de::DeserializeOwned>(
        &self,
        peer: [u8; 32],
        school: SchoolId,
    ) -> Result<Option<T>, StoreError> {
        self.table(PEER_SCHOOL_TO_POSITIONS)?.get((peer, school.bytes()))?.map(|v| decode(v.value())).transpose()
    }

    /// Up to where this box has made sure the peer holds the files operations name.
    fn peer_file_positions<T: serde::de::DeserializeOwned>(
        &self,
        peer: [u8; 32],
        school: SchoolId,
    ) -> Result<Option<T>, StoreError> {
        self.table(PEER_SCHOOL_TO_FILE_POSITIONS)?.get((peer, school.bytes()))?.map(|v| decode(v.value())).transpose()
    }
}

impl<T: ReadTables + ?Sized> PeerReads for T {}

impl Tx {
    pub fn set_peer_file_positions<T: Serialize>(
        &mut self,
        peer: [u8; 32],
        school: SchoolId,
        positions: &T,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(PEER_SCHOOL_TO_FILE_POSITIONS)?
            .insert((peer, school.bytes()), encode(positions).as_slice())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Artifact, ClassId, FileId, Role, UserId};
    use crate::store::Store;

    fn work(school: SchoolId, class: ClassId, owner: UserId, file: FileRef) -> Artifact {
        Artifact { kind: "image".into(), ..crate::samples::artifact(school, owner, Some(class), "Kite", vec![file]) }
    }

    /// Records a school, a student `ana`, a class and `work` of hers in it.
    fn record_work(store: &Store, class: ClassId, ana: UserId, work: Artifact) {
        let school = work.school;
        let rec = |scope: Scope, change: crate::domain::Change| {
            store.write(|tx| tx.record(school, scope, None, change.clone())).unwrap()
        };
        rec(Scope::School, crate::domain::Change::SchoolCreated { name: "S".into() });
        rec(
            Scope::Person(ana),
            crate::domain::Change::UserCreated {
                user: ana,
                username: "ana".into(),
                display_name: "Ana".into(),
                role: Role::Student,
                external_id: None,
            },
        );
        rec(
            Scope::Class(class),
            crate::domain::Change::ClassCreated { class, name: "X".into(), join_code: "JX".into(), external_id: None },
        );
        rec(Scope::Class(class), crate::domain::Change::ArtifactCreated { artifact: Box::new(work) });
    }

    /// Thumbnails are queued for exactly the types `domain::work::thumbnailable` accepts, both
    /// when work first uses a file and when the file arrives from another box.
    #[test]
    fn thumbnails_are_queued_by_the_one_rule() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, class, ana) = (SchoolId::new(), ClassId::new(), UserId::new());
        let types = ["image/png", "IMAGE/JPEG; q=1", "image/heic", "image/svg+xml", "image/bmp", "video/mp4"];
        let files: Vec<FileRef> = types
            .iter()
            .enumerate()
            .map(|(i, t)| FileRef {
                id: FileId::new(),
                name: format!("f{i}"),
                size: 7,
                content_type: t.to_string(),
                hash: format!("{i:x}").repeat(64),
            })
            .collect();
        let mut a = work(school, class, ana, files[0].clone());
        a.versions[0].files = files.clone();
        record_work(&store, class, ana, a);
        let queued: Vec<String> = store.read(|r| r.thumbnail_todo(100)).unwrap().into_iter().map(|(h, _)| h).collect();
        let mut expected = vec![files[0].hash.clone(), files[1].hash.clone()];
        expected.sort();
        assert_eq!(queued, expected, "only the picture types thumbnails are made of");

        for (file, wanted) in files.iter().zip([true, true, false, false, false, false]) {
            let arrived = store.write(|tx| tx.blob_arrived(&file.hash)).unwrap();
            assert_eq!(arrived, wanted, "{}", file.content_type);
        }
    }

    #[test]
    fn holders_follow_files_and_are_filled_for_older_databases() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, class, ana) = (SchoolId::new(), ClassId::new(), UserId::new());
        let hash = "ab".repeat(32);
        let file = FileRef {
            id: FileId::new(),
            name: "kite.png".into(),
            size: 7,
            content_type: "image/png".into(),
            hash: hash.clone(),
        };
        let a = work(school, class, ana, file);
        record_work(&store, class, ana, a.clone());
        let holders = store.read(|r| r.holders_of_blob(&hash)).unwrap();
        assert_eq!(holders.len(), 1);
        assert_eq!((holders[0].partition, holders[0].artifact, holders[0].size), (Scope::Class(class), Some(a.id), 7));
        assert_eq!(store.read(|r| r.files_pending()).unwrap(), 0, "local work is never on its way");

        // A database from before the index: the table empty and unmarked.
        store
            .write(|tx| {
                tx.txn().delete_table(FILE_ID_TO_HOLDER)?;
                tx.txn().open_table(META)?.remove(META_HOLDERS_FILLED)?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read(|r| r.holders_of_blob(&hash)).unwrap(), holders);

        rec_delete(&store, school, class, a.id);
        assert!(store.read(|r| r.holders_of_blob(&hash)).unwrap().is_empty());
        assert!(store.read(|r| r.table(FILE_ID_TO_HOLDER)?.is_empty().map_err(StoreError::from)).unwrap());
    }

    fn rec_delete(store: &Store, school: SchoolId, class: ClassId, artifact: ArtifactId) {
        store
            .write(|tx| {
                tx.record(school, Scope::Class(class), None, crate::domain::Change::ArtifactDeleted { artifact })
            })
            .unwrap();
    }
}
