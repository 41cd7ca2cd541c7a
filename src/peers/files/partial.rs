//! Partial files: blobs on their way in `<data>/incoming/`, appended to and fsynced as
//! bytes arrive, hashed as written, and moved into the blob store once whole and checked.

use futures_util::StreamExt;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use bytes::BytesMut;
use futures_util::Stream;

use super::FilesError;
use crate::app::Folio;
use crate::blobs::{BlobHash, Writeback};
use crate::store::StoreError;

/// `<data>/incoming/`
pub fn incoming_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("incoming")
}

pub(super) fn partial_path(data_dir: &Path, hash: &BlobHash) -> PathBuf {
    incoming_dir(data_dir).join(format!("{hash}.part"))
}

/// Partial files someone is writing right now: one transfer per file at a time (a pull and
/// a push of the same blob, or two peers pushing it, would interleave their bytes).
static BUSY: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Mutex::default);

pub(super) struct Busy(PathBuf);

impl Busy {
    pub(super) fn take(path: &Path) -> Option<Busy> {
        BUSY.lock().unwrap().insert(path.to_path_buf()).then(|| Busy(path.to_path_buf()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.lock().unwrap().remove(&self.0);
    }
}

pub(super) async fn partial_len(path: &Path) -> u64 {
    tokio::fs::metadata(path).await.map_or(0, |m| m.len())
}

/// How appending a stream to a partial file ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Appended {
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
pub(super) async fn append<E: std::fmt::Display>(
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
pub(super) async fn take_in(
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
pub(super) async fn record_arrivals(folio: &Folio, hashes: Vec<BlobHash>) -> Result<(), FilesError> {
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
