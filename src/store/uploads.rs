//! Resumable uploads (tus) as rows. They are local to this box, like sessions: an upload's
//! bytes are on this box's disk and its id only means something here, so the rows are not
//! operations and do not sync.
//!
//! A row holds what the upload was created with and its durable offset: the number of bytes
//! in `<data>/uploads/<id>` that were fsynced before a client was told about them. Once the
//! last byte is in and the file has gone into the blob store, the row says so (`finished`),
//! and `BLOB_HASH_UPLOAD` keeps the blob from garbage collection. [`take`] removes the row in
//! the transaction of the operation that uses the upload: one commit both names the file and
//! forgets the upload, so an upload is used at most once and its file is never left unheld.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::tables::{BLOB_HASH_UPLOAD, UPLOAD_ID_TO_UPLOAD};
use super::{ReadTables, StoreError};
use crate::domain::UserId;
use crate::domain::upload::{Checksum, UploadId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub owner: UserId,
    /// `Upload-Length`: the whole file's size.
    pub length: u64,
    /// Bytes received, written and fsynced.
    pub offset: u64,
    /// The `Upload-Metadata` header as the client sent it (answered back by HEAD).
    pub metadata: String,
    /// The display name from the `filename` metadata, already made safe.
    pub name: String,
    #[serde(default)]
    pub checksum: Option<Checksum>,
    pub created_ms: u64,
    /// After this the upload is gone: refused, and removed by housekeeping.
    pub expires_ms: u64,
    #[serde(default)]
    pub finished: Option<Finished>,
}

/// A finished upload's file, stored in the blob store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// BLAKE3 of the stored bytes (after metadata removal), hex.
    pub hash: String,
    /// Bytes stored (a photo's EXIF removed makes it smaller than `Upload-Length`).
    pub size: u64,
    /// Sniffed from the bytes, never the client's word.
    pub content_type: String,
}

impl Upload {
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_ms
    }

    /// The room this upload takes from its owner's quota: what it will hold when done.
    pub fn reserved(&self) -> u64 {
        self.finished.as_ref().map_or(self.length, |f| f.size)
    }
}

pub fn get(r: &impl ReadTables, id: UploadId) -> Result<Option<Upload>, StoreError> {
    r.table(UPLOAD_ID_TO_UPLOAD)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
}

/// Writes the row (and the blob hold of a finished upload).
pub fn put(txn: &WriteTransaction, id: UploadId, upload: &Upload) -> Result<(), StoreError> {
    txn.open_table(UPLOAD_ID_TO_UPLOAD)?.insert(id.bytes(), encode(upload).as_slice())?;
    if let Some(f) = &upload.finished {
        txn.open_table(BLOB_HASH_UPLOAD)?.insert((f.hash.as_str(), id.bytes()), 1)?;
    }
    Ok(())
}

/// Removes the row and its blob hold; returns what it was.
pub fn remove(txn: &WriteTransaction, id: UploadId) -> Result<Option<Upload>, StoreError> {
    let Some(upload) = get(txn, id)? else { return Ok(None) };
    txn.open_table(UPLOAD_ID_TO_UPLOAD)?.remove(id.bytes())?;
    if let Some(f) = &upload.finished {
        txn.open_table(BLOB_HASH_UPLOAD)?.remove((f.hash.as_str(), id.bytes()))?;
    }
    Ok(Some(upload))
}

/// Every upload on the box, for start-up checks and expiry.
pub fn all(r: &impl ReadTables) -> Result<Vec<(UploadId, Upload)>, StoreError> {
    let table = r.table(UPLOAD_ID_TO_UPLOAD)?;
    let mut out = Vec::new();
    for row in table.range::<[u8; 16]>(..)? {
        let (k, v) = row?;
        out.push((UploadId(k.value()), decode(v.value())?));
    }
    Ok(out)
}

/// A person's live (unexpired) uploads.
pub fn of_owner(r: &impl ReadTables, owner: UserId, now_ms: u64) -> Result<Vec<(UploadId, Upload)>, StoreError> {
    Ok(all(r)?.into_iter().filter(|(_, u)| u.owner == owner && !u.expired(now_ms)).collect())
}

/// Why an upload cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum Unusable {
    /// Unknown, someone else's, expired, or used already.
    Missing,
    /// Bytes are still missing.
    Unfinished { offset: u64, length: u64 },
}

/// Removes a finished upload of `owner`'s, for the operation in this same transaction that
/// names its file. Returns the file.
pub fn take(
    txn: &WriteTransaction,
    id: UploadId,
    owner: UserId,
    now_ms: u64,
) -> Result<Result<Finished, Unusable>, StoreError> {
    let upload = match get(txn, id)? {
        Some(u) if u.owner == owner && !u.expired(now_ms) => u,
        _ => return Ok(Err(Unusable::Missing)),
    };
    let Some(finished) = upload.finished.clone() else {
        return Ok(Err(Unusable::Unfinished { offset: upload.offset, length: upload.length }));
    };
    remove(txn, id)?;
    Ok(Ok(finished))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Queries, Store};

    fn upload(owner: UserId, finished: Option<Finished>) -> Upload {
        Upload {
            owner,
            length: 10,
            offset: if finished.is_some() { 10 } else { 3 },
            metadata: String::new(),
            name: "a.txt".into(),
            checksum: None,
            created_ms: 1,
            expires_ms: 1_000,
            finished,
        }
    }

    #[test]
    fn a_finished_upload_holds_its_blob_until_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (ana, ben) = (UserId::new(), UserId::new());
        let (done, open) = (UploadId::random(), UploadId::random());
        let file = Finished { hash: "ab".repeat(32), size: 9, content_type: "text/plain".into() };
        store
            .write(|tx| {
                put(tx.txn(), done, &upload(ana, Some(file.clone())))?;
                put(tx.txn(), open, &upload(ana, None))
            })
            .unwrap();
        assert!(store.read(|r| r.blob_in_use(&file.hash)).unwrap());
        assert_eq!(store.read(|r| of_owner(r, ana, 5)).unwrap().len(), 2);
        assert_eq!(store.read(|r| of_owner(r, ana, 1_000)).unwrap().len(), 0, "expired ones are not live");

        let tried = |id, who, now| store.write(|tx| take(tx.txn(), id, who, now)).unwrap();
        assert_eq!(tried(done, ben, 5), Err(Unusable::Missing), "someone else's");
        assert_eq!(tried(done, ana, 1_000), Err(Unusable::Missing), "expired");
        assert_eq!(tried(open, ana, 5), Err(Unusable::Unfinished { offset: 3, length: 10 }));
        assert_eq!(tried(done, ana, 5), Ok(file.clone()));
        assert_eq!(tried(done, ana, 5), Err(Unusable::Missing), "used once only");
        assert!(!store.read(|r| r.blob_in_use(&file.hash)).unwrap());
        assert!(store.read(|r| get(r, open)).unwrap().is_some());
    }
}
