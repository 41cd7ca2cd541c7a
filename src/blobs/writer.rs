//! `BlobWriter`: one upload streamed into a temp file, hashed and filtered as it passes,
//! then synced and renamed to its hash.

use std::io::Write;

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::writeback::{Writeback, drop_cached};
use super::{BUF_SIZE, BUF_SLACK, BlobError, BlobHash, BlobStore, StoredBlob, map_io};
use crate::metadata::Filter;

/// One upload in progress. Feed it with [`write`](Self::write), end it with
/// [`finish`](Self::finish). Dropped without `finish`, it deletes its temp file.
pub struct BlobWriter {
    pub(super) store: BlobStore,
    pub(super) tmp_path: PathBuf,
    /// While true, dropping the writer deletes `tmp_path`.
    pub(super) armed: bool,
    pub(super) max_bytes: u64,
    pub(super) received: u64,
    pub(super) stored: u64,
    pub(super) filter: Filter,
    /// Filtered bytes not yet handed to the blocking pool.
    pub(super) buf: Vec<u8>,
    pub(super) io: IoState,
    pub(super) failed: Option<Failure>,
}

pub(super) enum IoState {
    /// Nothing handed off yet (small files never leave this state before `finish`).
    Idle { file: File, hasher: Box<blake3::Hasher> },
    /// Full buffers go to one loop on the blocking pool that hashes and writes them.
    Streaming(Streams),
    /// After an error, or once `finish` took the file.
    Gone,
}

/// The blocking loop of a large upload. It has a queue of one buffer, so it always has the
/// next buffer ready while the async side fills another, and a slow disk slows the upload
/// down instead of filling memory: an upload holds at most about three buffers.
pub(super) struct Streams {
    to_disk: mpsc::Sender<Arc<Vec<u8>>>,
    disk: JoinHandle<(Writeback, blake3::Hasher, io::Result<()>)>,
    /// Buffers handed off, oldest first, to reuse once the loop is done with them.
    sent: VecDeque<Arc<Vec<u8>>>,
}

impl Streams {
    fn start(file: File, hasher: blake3::Hasher) -> Streams {
        let (to_disk, mut disk_queue) = mpsc::channel::<Arc<Vec<u8>>>(1);
        let disk = tokio::task::spawn_blocking(move || {
            let mut file = Writeback::new(file, 0);
            let mut hasher = hasher;
            while let Some(data) = disk_queue.blocking_recv() {
                hasher.update(&data);
                if let Err(e) = file.write_all(&data) {
                    return (file, hasher, Err(e));
                }
            }
            (file, hasher, Ok(()))
        });
        Streams { to_disk, disk, sent: VecDeque::new() }
    }

    /// Closes the queue and waits for the loop to finish what it was given.
    async fn close(self) -> Result<(File, blake3::Hasher), BlobError> {
        let Streams { to_disk, disk, sent: _ } = self;
        drop(to_disk);
        let (file, hasher, written) = disk.await.map_err(|e| BlobError::Io(io::Error::other(e)))?;
        written.map_err(map_io)?;
        Ok((file.into_file(), hasher))
    }

    /// An empty buffer: one the loop is done with if there is one (the oldest are done
    /// first; any others done are freed), else a new one.
    fn spare(&mut self) -> Vec<u8> {
        let mut spare = None;
        while self.sent.front().is_some_and(|oldest| Arc::strong_count(oldest) == 1) {
            if let Some(Ok(buf)) = self.sent.pop_front().map(Arc::try_unwrap) {
                spare.get_or_insert(buf);
            }
        }
        match spare {
            Some(mut buf) => {
                buf.clear();
                buf
            }
            None => Vec::with_capacity(BUF_SIZE + BUF_SLACK),
        }
    }
}

/// Remembered so a writer that already failed keeps saying why.
#[derive(Clone, Copy)]
pub(super) enum Failure {
    TooBig(u64),
    DiskFull,
    Io(io::ErrorKind),
}

impl BlobWriter {
    /// Adds bytes to the upload. Fails with [`BlobError::TooBig`] as soon as more than the
    /// limit has been received; after any error the temp file is gone and the writer only
    /// repeats the error.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.check()?;
        let total = self.received.saturating_add(chunk.len() as u64);
        if total > self.max_bytes {
            return Err(self.fail(BlobError::TooBig { limit: self.max_bytes }));
        }
        self.received = total;
        let mut rest = chunk;
        while !rest.is_empty() {
            // Never let the buffer grow past its size, whatever the chunk size.
            let room = BUF_SIZE.saturating_sub(self.buf.len()).max(1);
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.filter.feed(now, &mut self.buf);
            rest = later;
            if self.buf.len() >= BUF_SIZE {
                self.dispatch().await?;
            }
        }
        Ok(())
    }

    /// True once metadata has been taken out of what was written so far.
    pub fn stripped(&self) -> bool {
        self.filter.removed()
    }

    /// Bytes received so far (before metadata removal): for progress.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Writes what is left, fsyncs, and moves the file to its hash name. Only after this
    /// returns may a row refer to the hash.
    pub async fn finish(self) -> Result<StoredBlob, BlobError> {
        Ok(self.finish_holding(|_| ()).await?.0)
    }

    /// [`finish`](Self::finish), calling `hold` with the hash once it is known and *before*
    /// the file takes its hash name. When the same content is already stored, the existing
    /// blob is reused; taking a garbage-collection hold here (rather than after) closes the
    /// window in which the collector could remove that existing blob between the dedupe and
    /// the hold. The hold is returned with the blob (and dropped if storing fails).
    pub async fn finish_holding<G: Send + 'static>(
        mut self,
        hold: impl FnOnce(&BlobHash) -> G + Send + 'static,
    ) -> Result<(StoredBlob, G), BlobError> {
        self.check()?;
        self.filter.finish(&mut self.buf);
        let (mut file, mut hasher) = self.settle().await?;
        let data = std::mem::take(&mut self.buf);
        let size = self.stored + data.len() as u64;
        let mut filter = std::mem::take(&mut self.filter);
        let store = self.store.clone();
        let tmp = self.tmp_path.clone();
        // From here the blocking task owns the temp file: it completes (or cleans up) even if
        // this future is dropped.
        self.armed = false;
        let job = tokio::task::spawn_blocking(move || {
            let written = (|| {
                hasher.update(&data);
                file.write_all(&data)?;
                file.flush()?;
                // What could only be found in the whole file (a TIFF directory written
                // last, a HEIF item before its index) is overwritten in place; the bytes
                // hashed on the way are then not the stored ones, so they are hashed again.
                if filter.fixup(&mut file)? {
                    hasher = rehash(&mut file)?;
                }
                file.sync_all()?;
                drop_cached(&file, 0, 0);
                drop(file);
                Ok(BlobHash(*hasher.finalize().as_bytes()))
            })();
            let stored = written.map_err(map_io).and_then(|hash| {
                let held = hold(&hash);
                store.place(&tmp, &hash, size)?;
                Ok((hash, held, filter.removed()))
            });
            stored.inspect_err(|_| remove_quietly(&tmp))
        });
        let (hash, held, metadata_removed) = match job.await {
            Ok(result) => result?,
            Err(e) => {
                remove_quietly(&self.tmp_path);
                return Err(BlobError::Io(io::Error::other(e)));
            }
        };
        Ok((StoredBlob { hash, size, metadata_removed }, held))
    }

    fn check(&self) -> Result<(), BlobError> {
        match self.failed {
            None => Ok(()),
            Some(Failure::TooBig(limit)) => Err(BlobError::TooBig { limit }),
            Some(Failure::DiskFull) => Err(BlobError::DiskFull),
            Some(Failure::Io(kind)) => {
                Err(BlobError::Io(io::Error::new(kind, "an earlier write to this upload failed")))
            }
        }
    }

    /// Records the failure, deletes the temp file, and hands the error back.
    fn fail(&mut self, error: BlobError) -> BlobError {
        self.failed = Some(match &error {
            BlobError::TooBig { limit } => Failure::TooBig(*limit),
            BlobError::DiskFull => Failure::DiskFull,
            BlobError::Io(e) => Failure::Io(e.kind()),
            BlobError::Unavailable(_) => Failure::Io(io::ErrorKind::Other),
        });
        // A write still running on the blocking pool finishes into the unlinked file.
        self.io = IoState::Gone;
        self.buf = Vec::new();
        if self.armed {
            remove_quietly(&self.tmp_path);
            self.armed = false;
        }
        error
    }

    /// Waits until everything handed off is written and hashed, and takes back the file and
    /// the hasher.
    async fn settle(&mut self) -> Result<(File, blake3::Hasher), BlobError> {
        match std::mem::replace(&mut self.io, IoState::Gone) {
            IoState::Idle { file, hasher } => Ok((file, *hasher)),
            IoState::Streaming(streams) => streams.close().await.map_err(|e| self.fail(e)),
            IoState::Gone => Err(self.fail(BlobError::Io(io::Error::other("the upload was already closed")))),
        }
    }

    /// Hands the full buffer to the hashing and writing loop (starting it for the first
    /// buffer) and carries on with an empty one.
    async fn dispatch(&mut self) -> Result<(), BlobError> {
        if let IoState::Idle { .. } = self.io
            && let IoState::Idle { file, hasher } = std::mem::replace(&mut self.io, IoState::Gone)
        {
            self.io = IoState::Streaming(Streams::start(file, *hasher));
        }
        let IoState::Streaming(streams) = &mut self.io else {
            return Err(self.fail(BlobError::Io(io::Error::other("the upload was already closed"))));
        };
        let full = std::mem::replace(&mut self.buf, streams.spare());
        let len = full.len() as u64;
        let data = Arc::new(full);
        let sent = streams.to_disk.send(Arc::clone(&data)).await.is_ok();
        if !sent {
            // The loop has stopped on a write error, which closing reports.
            let error = match self.settle().await {
                Err(e) => return Err(e),
                Ok(_) => BlobError::Io(io::Error::other("the upload stopped unexpectedly")),
            };
            return Err(self.fail(error));
        }
        streams.sent.push_back(data);
        self.stored += len;
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.armed {
            remove_quietly(&self.tmp_path);
        }
    }
}

/// The BLAKE3 hash of a whole written file, read back in pieces.
fn rehash(file: &mut File) -> io::Result<blake3::Hasher> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher)
}

pub(crate) fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), "could not delete an unfinished upload: {e}");
    }
}
