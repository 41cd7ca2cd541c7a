//! Collection: removing the blobs no file uses any more, and what was derived from them. The
//! store says whether a blob is in use (`Queries::blob_in_use`); the in-flight set keeps
//! uploads not yet recorded and backups safe from it.

use std::time::{Duration, SystemTime};

use super::{BlobHash, BlobStore, InFlight};
use crate::store::{Queries, Store, StoreError};

/// Blobs younger than this are never collected by the periodic sweep: an upload in progress
/// has stored its files but not yet committed the operation that uses them.
const GRACE: Duration = Duration::from_secs(3600);

impl BlobStore {
    /// Removes the blobs no file uses, and with each what `derived` removes of what was made
    /// from it (its thumbnail, its text for search, what the decode gate remembers): erasure must
    /// leave nothing behind. With `only`, just those hashes are considered, at once (after a
    /// delete or an erasure); otherwise every blob older than an hour. A blob `in_flight` holds
    /// is never removed, and the decision and the removal happen under its lock.
    pub fn collect(
        &self,
        store: &Store,
        in_flight: &InFlight,
        only: Option<Vec<String>>,
        mut derived: impl FnMut(&BlobHash),
    ) -> Result<usize, StoreError> {
        let blobs = self;
        let candidates: Vec<BlobHash> = match &only {
            Some(hashes) => hashes.iter().filter_map(|h| BlobHash::from_hex(h)).collect(),
            None => blobs.all()?,
        };
        let mut removed = 0;
        for hash in candidates {
            let hex = hash.to_hex();
            if only.is_none() {
                // A time that cannot be read (the store not answering) counts as young.
                let young = blobs
                    .modified(&hash)
                    .map_or(true, |t| SystemTime::now().duration_since(t).unwrap_or_default() < GRACE);
                if young {
                    continue;
                }
            }
            let gone = in_flight.remove_unless_held(
                &hex,
                || store.read(|r| r.blob_in_use(&hex)).map(|in_use| !in_use),
                || Ok::<_, StoreError>(blobs.remove(&hash)?),
            )?;
            if gone {
                derived(&hash);
                removed += 1;
            }
        }
        Ok(removed)
    }
}
