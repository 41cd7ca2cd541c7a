//! Files between paired boxes. Operations travel without the files they name; after the
//! operations of a sync round, each box fetches the blobs it lacks from the peer and offers
//! the peer the blobs it lacks, by BLAKE3 hash.
//!
//! # Which files
//!
//! *Pulling.* A received operation that names a file writes the hash into the store's list
//! of files on their way (`BLOB_HASH_MISSING`, in the transaction that receives it; see
//! `store::file_index`). [`exchange`] first drops the rows of blobs that are here after all
//! (the same photo uploaded on both boxes) or that no file names any more (the work was
//! deleted meanwhile), then asks the peer for each remaining blob that lies within the
//! peer's scope. A peer that does not have one answers 404, and another peer (or the next
//! round) may.
//!
//! *Pushing.* Offering a peer every file within its scope at every round (every three
//! minutes) would mean a hundred thousand hashes each time on a big box. Instead this box
//! keeps, per peer and school, *file positions* (`PEER_SCHOOL_TO_FILE_POSITIONS`): positions
//! in the op log like the ones sync uses, up to which it has made sure the peer holds the
//! files that operations name. Each round reads the operations past them with
//! `sync::ops_missing` (so exactly the peer's grant, partition by partition), asks the peer
//! which of the named blobs it lacks (`POST /peer/v1/blobs/missing`), sends those, and moves
//! the file positions forward only over pages that were handled whole: a page naming a
//! blob this box does not have yet either, or whose transfer failed, is offered again next
//! time. The first round with a new peer offers everything in its scope once.
//!
//! # Resuming and verifying
//!
//! Both directions write into `<data>/incoming/<hash>.part` on the receiving box, appending
//! and fsyncing, so a transfer cut off (Wi-Fi, a restart) continues from the bytes that
//! reached the disk: a pull with `Range: bytes=N-`, a push by asking
//! `HEAD /peer/v1/blobs/{hash}/partial` for the offset and sending a `PATCH` from there (like
//! tus). The bytes are hashed as they are written (a resumed transfer hashes what it already
//! has first); when the partial file has the length the operation gave the file, only bytes
//! whose BLAKE3 equals the name enter the blob store (by rename, see `BlobStore::adopt`). Anything else is deleted, and the peer that sent it reported.
//! A box accepts only hashes that a file within the sender's grant names, and never more
//! bytes than that file's size: a peer cannot fill our disk with junk. Partial files left
//! for 24 hours are removed by housekeeping ([`sweep_stale_partials`]).
//!
//! Up to [`PARALLEL_TRANSFERS`] files move at once each way, each on its own connection, so
//! the link does not stand idle during each file's round trip, sync and rename.
//!
//! When blobs arrive, one transaction (for up to 64 files) takes them off the list, queues
//! thumbnails for images and queues the search documents of the work using them, so their
//! text is found (`store::Tx::blob_arrived`). Until then the API marks the file `"available": false` and
//! the artifact page says it is on its way.

mod partial;
mod pull;
mod push;
mod serve;

use std::collections::HashSet;
use std::io;
use std::time::Duration;

use serde::Serialize;

use super::Peer;
use crate::app::Folio;
use crate::blobs::BlobHash;
use crate::store::{FileReads, Queries, ReadTables, StoreError};
pub use partial::{incoming_dir, sweep_stale_partials};
use pull::pull;
use push::push;
pub use serve::{Hashes, Missing, peer_routes};

/// How many hashes one `POST /peer/v1/blobs/missing` may ask about.
pub const MAX_HASHES_PER_ASK: usize = 1000;
/// Partial files older than this are removed (`sweep_stale_partials`).
pub const PARTIAL_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How many missing blobs one round asks a peer for (the rest wait for the next round).
const MAX_PULLS_PER_ROUND: usize = 10_000;
/// How many files go each way at once, each on its own connection.
const PARALLEL_TRANSFERS: usize = 4;
/// Arrivals are recorded in one transaction per this many files, or this often, whichever
/// comes first (and at the end of the transfers), so the API stops saying "on its way"
/// soon after a file is in.
const ARRIVALS_PER_COMMIT: usize = 64;
const ARRIVALS_EVERY: Duration = Duration::from_millis(500);

/// What a file exchange with a peer moved, for the sync report and `PeerStatus`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    pub files_received: u64,
    pub bytes_received: u64,
    pub files_sent: u64,
    pub bytes_sent: u64,
    /// Files this box still waits for after the round (from any peer).
    pub files_pending: u64,
    /// Files the peer sent whose bytes did not match their name: deleted, asked again next
    /// round. More than zero means the peer's disk or software is damaged.
    pub wrong_bytes: u64,
    /// Files the peer refused from us because their bytes did not match their name: this
    /// box's own copy is damaged.
    pub refused_by_peer: u64,
}

impl FileCounts {
    /// Adds another part of the same round (the files pulled while operations arrived).
    pub fn add(&mut self, other: &FileCounts) {
        self.files_received += other.files_received;
        self.bytes_received += other.bytes_received;
        self.files_sent += other.files_sent;
        self.bytes_sent += other.bytes_sent;
        self.wrong_bytes += other.wrong_bytes;
        self.refused_by_peer += other.refused_by_peer;
    }

    /// A problem worth showing on the admin page, in plain words.
    pub fn problem(&self, peer: &str) -> Option<String> {
        if self.wrong_bytes > 0 {
            return Some(format!(
                "box {peer} sent {} file(s) whose contents were damaged; they were thrown away and will be asked for again. If this keeps happening, check that box's disk.",
                self.wrong_bytes
            ));
        }
        if self.refused_by_peer > 0 {
            return Some(format!(
                "box {peer} refused {} file(s) from this box because they were damaged here; check this box's disk.",
                self.refused_by_peer
            ));
        }
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(
        "the other box could not be reached while files were being copied ({0}); the copy continues where it stopped at the next sync"
    )]
    Unreachable(String),
    #[error("the other box answered {status} to {what}: {message}")]
    Refused { what: &'static str, status: u16, message: String },
    #[error("a file could not be saved on this box: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::sync::SyncError> for FilesError {
    fn from(e: crate::sync::SyncError) -> Self {
        match e {
            crate::sync::SyncError::Store(e) => FilesError::Store(e),
            other => FilesError::Io(io::Error::other(other.to_string())),
        }
    }
}

impl From<reqwest::Error> for FilesError {
    fn from(e: reqwest::Error) -> Self {
        FilesError::Unreachable(e.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// Which blobs a peer may have

/// The size of the file a blob is, if some file within the peer's scope uses it.
fn allowed(r: &impl ReadTables, peer: &Peer, hash_hex: &str) -> Result<Option<u64>, StoreError> {
    for holder in r.holders_of_blob(hash_hex)? {
        if let Some(grant) = peer.scope.grant(holder.school)
            && grant.allows(r, holder.partition)?
        {
            return Ok(Some(holder.size));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------
// The client side

/// Copies files both ways with `peer`, whose peer port answers at `base`
/// (`https://host:port`, no trailing slash) through `http` (which presents this box's
/// certificate and checks the peer's). Run after the operations of a sync round.
pub async fn exchange(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
) -> Result<FileCounts, FilesError> {
    let mut counts = FileCounts::default();
    settle_missing(folio).await?;
    pull(http, base, folio, peer, &mut counts, &mut HashSet::new()).await?;
    push(http, base, folio, peer, &mut counts).await?;
    let store = folio.store.clone();
    counts.files_pending =
        tokio::task::spawn_blocking(move || store.read(|r| r.files_pending())).await.map_err(io::Error::other)??;
    if let Some(problem) = counts.problem(&peer.id.short()) {
        tracing::warn!("{problem}");
    }
    Ok(counts)
}

/// Pulls the files that operations name while the round's operations are still arriving,
/// until `operations_done` says they are all in; [`exchange`] then does the rest. A big
/// first sync brings thousands of artifacts' operations in its first pages and then many
/// pages of comments and reflections: their files need not wait for the last of them.
/// A failure here only ends the early start (the exchange after the operations reports it).
pub async fn pull_during_operations(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    mut operations_done: tokio::sync::watch::Receiver<bool>,
) -> FileCounts {
    let mut counts = FileCounts::default();
    // Files the peer does not have (or someone else is bringing) are not asked for again
    // at every pass; the exchange after the operations asks once more.
    let mut passed_over = HashSet::new();
    while !*operations_done.borrow_and_update() {
        let before = (counts.files_received, counts.wrong_bytes);
        if let Err(e) = pull(http, base, folio, peer, &mut counts, &mut passed_over).await {
            tracing::debug!(peer = %peer.id.short(), "files during the operations stopped: {e}");
            break;
        }
        if (counts.files_received, counts.wrong_bytes) == before {
            // Nothing new named yet: wait for more pages, or the end of them.
            let _ = tokio::time::timeout(Duration::from_millis(200), operations_done.changed()).await;
        }
    }
    counts
}

/// Drops rows of the files-on-their-way list that are settled: the blob is here after all
/// (recorded as arrived, with its thumbnail and search work), or no file names it any more.
pub async fn settle_missing(folio: &Folio) -> Result<usize, FilesError> {
    let (store, blobs) = (folio.store.clone(), folio.blobs.clone());
    let (settled, thumbnails) = tokio::task::spawn_blocking(move || -> Result<(usize, bool), StoreError> {
        let (arrived, unused) = store.read(|r| {
            let (mut arrived, mut unused) = (Vec::new(), Vec::new());
            for (hex, _) in r.missing_blobs(usize::MAX)? {
                let Some(hash) = BlobHash::from_hex(&hex) else { continue };
                if blobs.contains(&hash) {
                    arrived.push(hex);
                } else if !r.blob_in_use(&hex)? {
                    unused.push(hex);
                }
            }
            Ok::<_, StoreError>((arrived, unused))
        })?;
        if arrived.is_empty() && unused.is_empty() {
            return Ok((0, false));
        }
        // One transaction for all: after a crash mid-sync there may be many.
        let thumbnails = store.write(|tx| {
            let mut thumbnails = false;
            for hex in &arrived {
                thumbnails |= tx.blob_arrived(hex)?;
            }
            for hex in &unused {
                tx.forget_missing(hex)?;
            }
            Ok::<_, StoreError>(thumbnails)
        })?;
        Ok((arrived.len() + unused.len(), thumbnails))
    })
    .await
    .map_err(io::Error::other)??;
    if thumbnails {
        folio.media_work.notify_one();
    }
    Ok(settled)
}
