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

use std::collections::{BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Extension, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use axum::{Json, Router};
use bytes::BytesMut;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::task::AbortOnDropHandle;

use super::{Peer, PeerCaller};
use crate::app::Folio;
use crate::blobs::{BlobHash, BlobStore, Writeback};
use crate::store::{FileReads, PeerReads, Queries, ReadTables, StoreError};
use crate::sync::{Limits, Positions};

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
// Partial files

/// `<data>/incoming/`
pub fn incoming_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("incoming")
}

fn partial_path(data_dir: &Path, hash: &BlobHash) -> PathBuf {
    incoming_dir(data_dir).join(format!("{hash}.part"))
}

/// Partial files someone is writing right now: one transfer per file at a time (a pull and
/// a push of the same blob, or two peers pushing it, would interleave their bytes).
static BUSY: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Mutex::default);

struct Busy(PathBuf);

impl Busy {
    fn take(path: &Path) -> Option<Busy> {
        BUSY.lock().unwrap().insert(path.to_path_buf()).then(|| Busy(path.to_path_buf()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.lock().unwrap().remove(&self.0);
    }
}

async fn partial_len(path: &Path) -> u64 {
    tokio::fs::metadata(path).await.map_or(0, |m| m.len())
}

/// How appending a stream to a partial file ended.
#[derive(Debug, PartialEq, Eq)]
enum Appended {
    /// The stream ended; the file now holds this many bytes (synced), which hash to this.
    Ended(u64, BlobHash),
    /// The stream broke off; what arrived is kept (synced), this many bytes.
    Broken(u64, String),
    /// The stream went past the file's size: nothing of it was kept.
    TooMuch,
}

/// Network reads (at most 16 KiB each, one TLS record) are gathered into pieces of this
/// size before they go to the writing loop: a wake-up per piece instead of per read, and
/// writes the size the disk likes.
const APPEND_PIECE: usize = 256 * 1024;

/// Pieces queued for the writing loop: a slow disk slows the sender down rather than
/// filling memory.
const APPEND_QUEUE: usize = 2;

/// Appends `stream` to the partial file at `path`, which holds `start` bytes, never letting
/// it grow past `size`. Syncs what arrived before returning, also when the stream broke,
/// so the next attempt resumes from it.
///
/// The bytes are hashed as they are written, on one loop of the blocking pool (the bytes
/// already there first, when a transfer resumes), so a complete file is checked against its
/// name without reading it again; the loop starts the disk on each megabyte as it goes
/// ([`Writeback`]), so the final sync waits for the last piece only.
async fn append<E: std::fmt::Display>(
    path: &Path,
    start: u64,
    size: u64,
    stream: impl Stream<Item = Result<Bytes, E>>,
) -> io::Result<Appended> {
    let (to_disk, mut queue) = tokio::sync::mpsc::channel::<Bytes>(APPEND_QUEUE);
    let file_path = path.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> io::Result<blake3::Hasher> {
        use std::io::{Seek, Write};
        std::fs::create_dir_all(file_path.parent().expect("incoming/ has a parent"))?;
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&file_path)?;
        // Whatever lies past `start` was never acknowledged: cut it off.
        file.set_len(start)?;
        let mut hasher = blake3::Hasher::new();
        if start > 0 {
            hasher.update_reader(io::Read::take(&mut file, start))?;
        }
        file.seek(io::SeekFrom::Start(start))?;
        let mut out = Writeback::new(file, start);
        while let Some(data) = queue.blocking_recv() {
            hasher.update(&data);
            out.write_all(&data)?;
        }
        out.sync_data()?;
        Ok(hasher)
    });
    let mut len = start;
    let mut stream = std::pin::pin!(stream);
    let mut broken = None;
    let mut too_much = false;
    let mut piece = BytesMut::new();
    loop {
        let next = stream.next().await;
        // A full piece goes now; what is gathered goes when the stream ends or breaks.
        let due = piece.len() >= APPEND_PIECE || (!piece.is_empty() && !matches!(next, Some(Ok(_))));
        if due && to_disk.send(piece.split().freeze()).await.is_err() {
            // The loop stopped on a write error, which it reports below.
            break;
        }
        match next {
            Some(Ok(chunk)) => {
                if len + chunk.len() as u64 > size {
                    too_much = true;
                    break;
                }
                len += chunk.len() as u64;
                if piece.capacity() - piece.len() < chunk.len() {
                    piece.reserve(APPEND_PIECE.max(chunk.len()));
                }
                piece.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                broken = Some(e.to_string());
                break;
            }
            None => break,
        }
    }
    drop(to_disk);
    let hasher = writer.await.map_err(io::Error::other)??;
    if too_much {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().write(true).open(path)?.set_len(start))
            .await
            .map_err(io::Error::other)??;
        return Ok(Appended::TooMuch);
    }
    Ok(match broken {
        Some(why) => Appended::Broken(len, why),
        None => Appended::Ended(len, BlobHash(*hasher.finalize().as_bytes())),
    })
}

/// Checks a complete partial file against its name and moves it into the blob store. The
/// hash of its bytes is `computed` when they were hashed on their way in, else the file is
/// read to hash it. A file whose bytes do not match is deleted; returns whether it matched.
/// The caller records the arrival ([`record_arrivals`]).
async fn take_in(
    folio: &Folio,
    path: &Path,
    hash: &BlobHash,
    size: u64,
    computed: Option<BlobHash>,
) -> Result<bool, FilesError> {
    let (path, blobs, hash) = (path.to_path_buf(), folio.blobs.clone(), *hash);
    let matched = tokio::task::spawn_blocking(move || -> io::Result<bool> {
        let actual = match computed {
            Some(actual) => actual,
            None => {
                let mut hasher = blake3::Hasher::new();
                hasher.update_reader(std::fs::File::open(&path)?)?;
                BlobHash(*hasher.finalize().as_bytes())
            }
        };
        if actual != hash {
            std::fs::remove_file(&path)?;
            return Ok(false);
        }
        blobs.adopt(&path, &hash, size).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(true)
    })
    .await
    .map_err(io::Error::other)??;
    Ok(matched)
}

/// Records in one transaction that these blobs are in the store: off the list of files on
/// their way, thumbnails and search documents queued. One transaction for many files keeps
/// a sync of thousands of photos from paying a commit for each; a crash before it is harmless,
/// since [`settle_missing`] finds blobs that are here but still listed.
async fn record_arrivals(folio: &Folio, hashes: Vec<BlobHash>) -> Result<(), FilesError> {
    if hashes.is_empty() {
        return Ok(());
    }
    let store = folio.store.clone();
    let queued_thumbnail = tokio::task::spawn_blocking(move || {
        store.write(|tx| {
            let mut any = false;
            for hash in &hashes {
                any |= tx.blob_arrived(&hash.to_hex())?;
            }
            Ok::<_, StoreError>(any)
        })
    })
    .await
    .map_err(io::Error::other)??;
    if queued_thumbnail {
        folio.media_work.notify_one();
    }
    Ok(())
}

/// Removes partial files nobody continued for [`PARTIAL_MAX_AGE`]. Blocking.
pub fn sweep_stale_partials(data_dir: &Path, max_age: Duration) -> io::Result<usize> {
    let dir = incoming_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        other => other?,
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() > max_age);
        if old && let Some(_busy) = Busy::take(&path) {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
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
// Serving: the peer port's file endpoints

/// The file endpoints of the peer port. The peer listener mounts them behind the layer that
/// puts a [`PeerCaller`] into every request.
pub fn peer_routes() -> Router<Folio> {
    Router::new()
        .route("/peer/v1/blobs/missing", post(blobs_missing))
        .route("/peer/v1/blobs/{hash}", get(get_blob).patch(patch_blob).layer(DefaultBodyLimit::disable()))
        .route("/peer/v1/blobs/{hash}/partial", head(partial_offset))
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({"error": message}))).into_response()
}

fn not_here() -> Response {
    refusal(StatusCode::NOT_FOUND, "this box has no file by that name that it may give you")
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!("peer file request: {e}");
    refusal(StatusCode::INTERNAL_SERVER_ERROR, "something went wrong on this box")
}

async fn read<T: Send + 'static>(
    folio: &Folio,
    f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    let store = folio.store.clone();
    match tokio::task::spawn_blocking(move || store.read(f)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(e)),
    }
}

#[derive(Serialize, Deserialize)]
pub struct Hashes {
    pub hashes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
pub struct Missing {
    pub missing: Vec<String>,
}

/// `POST /peer/v1/blobs/missing`: which of these blobs this box wants and lacks: a file
/// within the caller's scope names it, and it is not in the blob store.
async fn blobs_missing(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    Json(ask): Json<Hashes>,
) -> Response {
    if ask.hashes.len() > MAX_HASHES_PER_ASK {
        return refusal(StatusCode::PAYLOAD_TOO_LARGE, "ask about at most 1000 files at a time");
    }
    let Some(hashes) = ask.hashes.iter().map(|h| BlobHash::from_hex(h)).collect::<Option<Vec<_>>>() else {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "a file name is not a BLAKE3 hash (64 hex digits)");
    };
    let blobs = folio.blobs.clone();
    let wanted = read(&folio, move |r| {
        let mut missing = Vec::new();
        for hash in hashes {
            let hex = hash.to_hex();
            if allowed(r, &caller.peer, &hex)?.is_some() && !blobs.contains(&hash) {
                missing.push(hex);
            }
        }
        Ok(missing)
    })
    .await;
    match wanted {
        Ok(missing) => Json(Missing { missing }).into_response(),
        Err(res) => res,
    }
}

/// `GET /peer/v1/blobs/{hash}`, with a single byte `Range` (206). 404 unless a file within
/// the caller's scope uses the blob and it is here.
async fn get_blob(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    UrlPath(raw): UrlPath<String>,
    request: HeaderMap,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&raw) else { return not_here() };
    let hex = hash.to_hex();
    match read(&folio, move |r| allowed(r, &caller.peer, &hex)).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_here(),
        Err(res) => return res,
    }
    let Ok(mut file) = tokio::fs::File::open(folio.blobs.path(&hash)).await else { return not_here() };
    let size = match file.metadata().await {
        Ok(m) => m.len(),
        Err(e) => return internal(e),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, len) = match range.map(|r| crate::media::parse_range(r, size)) {
        None | Some(Ok(None)) => (StatusCode::OK, 0, size),
        Some(Ok(Some((start, end)))) => {
            headers.insert(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}").parse().expect("ascii"));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(Err(_)) => {
            headers.insert(header::CONTENT_RANGE, format!("bytes */{size}").parse().expect("ascii"));
            return (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response();
        }
    };
    if let Err(e) = file.seek(io::SeekFrom::Start(start)).await {
        return internal(e);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024));
    (status, headers, body).into_response()
}

fn offset_headers(offset: u64, length: Option<u64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("upload-offset", HeaderValue::from(offset));
    if let Some(length) = length {
        headers.insert("upload-length", HeaderValue::from(length));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// `HEAD /peer/v1/blobs/{hash}/partial`: how many bytes of a push this box holds
/// (`Upload-Offset`; the whole length when it has the blob already).
async fn partial_offset(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    UrlPath(raw): UrlPath<String>,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&raw) else { return not_here() };
    let hex = hash.to_hex();
    let size = match read(&folio, move |r| allowed(r, &caller.peer, &hex)).await {
        Ok(Some(size)) => size,
        Ok(None) => return not_here(),
        Err(res) => return res,
    };
    if folio.blobs.contains(&hash) {
        return (StatusCode::OK, offset_headers(size, Some(size))).into_response();
    }
    let held = partial_len(&partial_path(&folio.config.data_dir, &hash)).await.min(size);
    (StatusCode::OK, offset_headers(held, Some(size))).into_response()
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    let v = headers.get(name)?.to_str().ok()?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// `PATCH /peer/v1/blobs/{hash}` with `Upload-Offset` and `Upload-Length`: appends the body
/// to the partial file; when it is complete, checks its BLAKE3 against the name (422 and
/// deleted on a mismatch) and takes it into the blob store.
async fn patch_blob(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    UrlPath(raw): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&raw) else { return not_here() };
    let (Some(offset), Some(length)) = (header_u64(&headers, "upload-offset"), header_u64(&headers, "upload-length"))
    else {
        return refusal(StatusCode::BAD_REQUEST, "send Upload-Offset and Upload-Length");
    };
    let (hex, who) = (hash.to_hex(), caller.peer.id.short());
    let size = match read(&folio, move |r| allowed(r, &caller.peer, &hex)).await {
        Ok(Some(size)) => size,
        // No file we share with the caller names this hash: not ours to store.
        Ok(None) => {
            return refusal(
                StatusCode::FORBIDDEN,
                "no work this box shares with you uses that file; it was not accepted",
            );
        }
        Err(res) => return res,
    };
    if length != size {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "Upload-Length is not the size the work gives that file");
    }
    if folio.blobs.contains(&hash) {
        return (StatusCode::NO_CONTENT, offset_headers(size, None)).into_response();
    }
    let path = partial_path(&folio.config.data_dir, &hash);
    let Some(_busy) = Busy::take(&path) else {
        return refusal(StatusCode::CONFLICT, "this file is being copied already; ask for the offset again later");
    };
    let held = partial_len(&path).await;
    if offset != held {
        let mut res = refusal(StatusCode::CONFLICT, "Upload-Offset is not the number of bytes this box holds");
        res.headers_mut().extend(offset_headers(held, Some(size)));
        return res;
    }
    let (now, computed) = match append(&path, held, size, body.into_data_stream()).await {
        Ok(Appended::Ended(n, computed)) => (n, computed),
        // The sender went away: what arrived is kept for its next PATCH.
        Ok(Appended::Broken(n, _)) => return (StatusCode::NO_CONTENT, offset_headers(n, None)).into_response(),
        Ok(Appended::TooMuch) => {
            return refusal(StatusCode::UNPROCESSABLE_ENTITY, "more bytes than the file has; nothing of them was kept");
        }
        Err(e) => return internal(e),
    };
    if now < size {
        return (StatusCode::NO_CONTENT, offset_headers(now, None)).into_response();
    }
    let taken = match take_in(&folio, &path, &hash, size, Some(computed)).await {
        Ok(true) => record_arrivals(&folio, vec![hash]).await.map(|()| true),
        other => other,
    };
    match taken {
        Ok(true) => (StatusCode::NO_CONTENT, offset_headers(size, None)).into_response(),
        Ok(false) => {
            tracing::warn!(peer = %who, %hash, "a peer sent a file whose bytes do not match its name; it was deleted");
            refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the bytes sent do not match the file's name (BLAKE3); nothing of them was kept",
            )
        }
        Err(e) => internal(e),
    }
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

/// What fetching one blob came to.
enum Pulled {
    Got(u64),
    NotThere,
    Wrong,
    Busy,
}

/// Pulls the missing files within the peer's scope, except those `passed_over`, to which
/// it adds those the peer does not have or that another transfer is bringing.
async fn pull(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    counts: &mut FileCounts,
    passed_over: &mut HashSet<BlobHash>,
) -> Result<(), FilesError> {
    let p = peer.clone();
    let store = folio.store.clone();
    let wanted: Vec<(String, u64)> = tokio::task::spawn_blocking(move || {
        store.read(|r| {
            let mut wanted = Vec::new();
            for (hex, size) in r.missing_blobs(usize::MAX)? {
                // Asking a peer for a file outside its scope would only be answered 404.
                if allowed(r, &p, &hex)?.is_some() {
                    wanted.push((hex, size));
                    if wanted.len() == MAX_PULLS_PER_ROUND {
                        break;
                    }
                }
            }
            Ok::<_, StoreError>(wanted)
        })
    })
    .await
    .map_err(io::Error::other)??;
    // A few files at a time, each on its own connection: one transfer at a time leaves the
    // link idle during every request's round trip and every file's sync and rename, which
    // for thousands of photos is most of the time. Each pull is its own task, so transfers
    // keep going while this loop records arrivals.
    let base: std::sync::Arc<str> = base.into();
    let wanted: Vec<(BlobHash, u64)> = wanted
        .into_iter()
        .filter_map(|(hex, size)| Some((BlobHash::from_hex(&hex)?, size)))
        .filter(|(hash, _)| !passed_over.contains(hash))
        .collect();
    let mut pulls = futures_util::stream::iter(wanted.into_iter().map(|(hash, size)| {
        let (http, base, folio) = (http.clone(), base.clone(), folio.clone());
        AbortOnDropHandle::new(tokio::spawn(async move { (hash, pull_one(&http, &base, &folio, &hash, size).await) }))
    }))
    .buffer_unordered(PARALLEL_TRANSFERS);
    let mut arrived = Vec::new();
    let mut last_recorded = std::time::Instant::now();
    let mut failed = None;
    while let Some(done) = pulls.next().await {
        let (hash, pulled) = done.map_err(io::Error::other)?;
        match pulled {
            Ok(Pulled::Got(bytes)) => {
                counts.files_received += 1;
                counts.bytes_received += bytes;
                arrived.push(hash);
            }
            Ok(Pulled::Wrong) => {
                counts.wrong_bytes += 1;
                tracing::warn!(peer = %peer.id.short(), %hash, "the peer sent a file whose bytes do not match its name; deleted");
            }
            Ok(Pulled::NotThere | Pulled::Busy) => {
                passed_over.insert(hash);
            }
            Err(e) => {
                // Stop starting new transfers; those under way are stopped when the stream
                // is dropped (what reached the disk is kept for the next round).
                failed = Some(e);
                break;
            }
        }
        if arrived.len() >= ARRIVALS_PER_COMMIT || last_recorded.elapsed() >= ARRIVALS_EVERY {
            record_arrivals(folio, std::mem::take(&mut arrived)).await?;
            last_recorded = std::time::Instant::now();
        }
    }
    drop(pulls);
    record_arrivals(folio, arrived).await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn pull_one(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    hash: &BlobHash,
    size: u64,
) -> Result<Pulled, FilesError> {
    if folio.blobs.contains(hash) {
        return Ok(Pulled::NotThere);
    }
    let path = partial_path(&folio.config.data_dir, hash);
    let Some(_busy) = Busy::take(&path) else { return Ok(Pulled::Busy) };
    let mut start = partial_len(&path).await;
    if start > size {
        tokio::fs::remove_file(&path).await?;
        start = 0;
    }
    let mut received = 0;
    // The hash of what is in the partial file, when this call wrote it.
    let mut computed = None;
    if start < size {
        let mut request = http.get(format!("{base}/peer/v1/blobs/{hash}"));
        if start > 0 {
            request = request.header(header::RANGE, format!("bytes={start}-"));
        }
        let response = request.send().await?;
        match response.status() {
            StatusCode::NOT_FOUND => return Ok(Pulled::NotThere),
            StatusCode::RANGE_NOT_SATISFIABLE => {
                // The partial file is longer than the peer's copy: something is off; start over.
                tokio::fs::remove_file(&path).await?;
                return Ok(Pulled::NotThere);
            }
            StatusCode::PARTIAL_CONTENT => {
                let from = response.headers().get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok());
                if from.and_then(content_range_start) != Some(start) {
                    return Err(FilesError::Refused {
                        what: "a request for part of a file",
                        status: 206,
                        message: "it sent another part than the one asked for".into(),
                    });
                }
            }
            // The whole file (the peer ignored the range): start from the beginning.
            StatusCode::OK => start = 0,
            status => {
                let message = response.text().await.unwrap_or_default();
                return Err(FilesError::Refused { what: "a request for a file", status: status.as_u16(), message });
            }
        }
        match append(&path, start, size, response.bytes_stream()).await? {
            Appended::Ended(n, hash) => {
                received = n - start;
                computed = Some(hash);
            }
            Appended::Broken(_, why) => return Err(FilesError::Unreachable(why)),
            Appended::TooMuch => {
                tokio::fs::remove_file(&path).await?;
                return Ok(Pulled::Wrong);
            }
        }
        if start + received < size {
            return Err(FilesError::Unreachable("a file arrived shorter than its size".into()));
        }
    }
    Ok(if take_in(folio, &path, hash, size, computed).await? { Pulled::Got(received) } else { Pulled::Wrong })
}

/// The first byte of a `Content-Range: bytes a-b/n`.
fn content_range_start(v: &str) -> Option<u64> {
    v.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

async fn push(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    counts: &mut FileCounts,
) -> Result<(), FilesError> {
    let store = folio.store.clone();
    let schools =
        tokio::task::spawn_blocking(move || store.read(|r| r.schools())).await.map_err(io::Error::other)??;
    for school in schools {
        let Some(grant) = peer.scope.grant(school.id) else { continue };
        push_school(http, base, folio, peer, &grant, counts).await?;
    }
    Ok(())
}

/// Offers the peer the files of one school's operations past its file positions, a page of
/// operations at a time.
async fn push_school(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    grant: &crate::sync::Grant,
    counts: &mut FileCounts,
) -> Result<(), FilesError> {
    let (store, school, peer_id) = (folio.store.clone(), grant.school, peer.id.0);
    let mut positions: Positions = tokio::task::spawn_blocking(move || {
        store.read(|r| {
            if let Some(p) = r.peer_file_positions(peer_id, school)? {
                return Ok::<_, StoreError>(p);
            }
            // The peer's own operations' files are its own: the replica it last named is left
            // out (unknown before the first sync: then nothing is).
            let replica = r
                .peer_positions::<Positions>(peer_id, school)?
                .map_or(crate::domain::ReplicaId(uuid::Uuid::nil()), |p| p.replica);
            Ok(Positions { school, replica, have: Vec::new() })
        })
    })
    .await
    .map_err(io::Error::other)??;
    let mut advancing = true;
    loop {
        let (store, grant_now, asked) = (folio.store.clone(), grant.clone(), positions.clone());
        let page = tokio::task::spawn_blocking(move || {
            crate::sync::ops_missing(&store, &asked, &grant_now, Limits { max_ops: 500, max_bytes: 4 << 20 })
        })
        .await
        .map_err(io::Error::other)??;
        let named: BTreeSet<(String, u64)> =
            page.ops.iter().flat_map(|op| op.change.files()).map(|f| (f.hash.clone(), f.size)).collect();
        let mut whole = true;
        let mut offer = Vec::new();
        for (hex, size) in named {
            let Some(hash) = BlobHash::from_hex(&hex) else { continue };
            if folio.blobs.contains(&hash) {
                offer.push((hash, size));
            } else {
                let store = folio.store.clone();
                let hex2 = hex.clone();
                let used = tokio::task::spawn_blocking(move || store.read(|r| r.blob_in_use(&hex2)))
                    .await
                    .map_err(io::Error::other)??;
                // Still on its way here too: offer it again once it has arrived.
                if used {
                    whole = false;
                }
            }
        }
        for chunk in offer.chunks(MAX_HASHES_PER_ASK) {
            let ask = Hashes { hashes: chunk.iter().map(|(h, _)| h.to_hex()).collect() };
            let response = http.post(format!("{base}/peer/v1/blobs/missing")).json(&ask).send().await?;
            if !response.status().is_success() {
                let status = response.status().as_u16();
                let message = response.text().await.unwrap_or_default();
                return Err(FilesError::Refused { what: "a question about missing files", status, message });
            }
            let lacking: HashSet<String> = response.json::<Missing>().await?.missing.into_iter().collect();
            let lacked: Vec<(BlobHash, u64)> =
                chunk.iter().filter(|(h, _)| lacking.contains(&h.to_hex())).copied().collect();
            let blobs = &folio.blobs;
            let mut pushes = futures_util::stream::iter(lacked)
                .map(|(hash, size)| async move { push_one(http, base, blobs, &hash, size).await })
                .buffer_unordered(PARALLEL_TRANSFERS);
            while let Some(pushed) = pushes.next().await {
                match pushed? {
                    Pushed::Sent(bytes) => {
                        counts.files_sent += 1;
                        counts.bytes_sent += bytes;
                    }
                    Pushed::Refused => {
                        counts.refused_by_peer += 1;
                        whole = false;
                    }
                    Pushed::NotNow => whole = false,
                }
            }
        }
        // Later pages are offered from where this one ended, but positions are kept only
        // while every page so far was handled whole.
        positions.advance(&page);
        advancing &= whole;
        if advancing {
            let (store, keep) = (folio.store.clone(), positions.clone());
            tokio::task::spawn_blocking(move || store.write(|tx| tx.set_peer_file_positions(peer_id, school, &keep)))
                .await
                .map_err(io::Error::other)??;
        }
        if !page.more {
            return Ok(());
        }
    }
}

enum Pushed {
    Sent(u64),
    /// The peer says our bytes do not match the name.
    Refused,
    /// The peer is busy with this file, or no longer wants it.
    NotNow,
}

async fn push_one(
    http: &reqwest::Client,
    base: &str,
    blobs: &BlobStore,
    hash: &BlobHash,
    size: u64,
) -> Result<Pushed, FilesError> {
    let url = format!("{base}/peer/v1/blobs/{hash}");
    let head = http.head(format!("{url}/partial")).send().await?;
    if !head.status().is_success() {
        return Ok(Pushed::NotNow);
    }
    let mut offset = match head.headers().get("upload-offset").and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) {
        Some(offset) => offset,
        None => return Ok(Pushed::NotNow),
    };
    let mut sent = 0;
    // A conflict tells the offset the peer holds; follow it a few times at most.
    for _ in 0..3 {
        if offset >= size {
            return Ok(Pushed::Sent(sent));
        }
        let mut file = tokio::fs::File::open(blobs.path(hash)).await?;
        file.seek(io::SeekFrom::Start(offset)).await?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            file.take(size - offset),
            256 * 1024,
        ));
        let response = http
            .patch(&url)
            .header("upload-offset", offset)
            .header("upload-length", size)
            .header(header::CONTENT_TYPE, "application/offset+octet-stream")
            .body(body)
            .send()
            .await?;
        let reported = response.headers().get("upload-offset").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        match response.status() {
            StatusCode::NO_CONTENT | StatusCode::OK => {
                let now = reported.unwrap_or(offset);
                sent += now.saturating_sub(offset);
                if now >= size {
                    return Ok(Pushed::Sent(sent));
                }
                return Err(FilesError::Unreachable("the other box stopped taking a file halfway".into()));
            }
            StatusCode::CONFLICT => match reported {
                Some(now) => offset = now,
                None => return Ok(Pushed::NotNow),
            },
            StatusCode::UNPROCESSABLE_ENTITY => return Ok(Pushed::Refused),
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => return Ok(Pushed::NotNow),
            status => {
                let message = response.text().await.unwrap_or_default();
                return Err(FilesError::Refused { what: "a file sent to it", status: status.as_u16(), message });
            }
        }
    }
    Ok(Pushed::NotNow)
}
