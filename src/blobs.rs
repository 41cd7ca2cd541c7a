//! The file store: every uploaded file lives under `<data>/blobs/`, named by the BLAKE3 hash
//! of its content (`blobs/ab/ab12…` with the full 64-hex-digit name under a directory named
//! by its first two digits, so no directory grows huge).
//!
//! Why content addressing: a row in redb names a file by its hash, so the name can never
//! point at different bytes than the ones that were hashed, two uploads of the same photo
//! are stored once (dedupe), and a sync peer can ask for exactly the file a row names.
//!
//! How a file gets in: an upload streams into a randomly named file in `blobs/tmp/` while
//! its hash is computed as the bytes pass; only when the last byte is in is the file flushed,
//! fsynced, renamed to its hash name and its directory fsynced. Only after [`BlobWriter::finish`]
//! returns may a row refer to the hash, so **a row never points at a missing or half-written
//! file**, even if the box loses power mid-upload. A crash leaves at most a file in `tmp/`,
//! which [`BlobStore::open`] deletes; a writer dropped before `finish` (the client went away,
//! a size limit, an error) deletes its own temp file at once. Files no row refers to any more
//! are found with [`BlobStore::all`] and removed with [`BlobStore::remove`] (garbage
//! collection, done by the caller that knows the rows).
//!
//! Privacy: children's photos and videos carry GPS coordinates and other metadata. The
//! writer sniffs the first bytes and passes everything through a `Filter` from
//! `crate::metadata`, which takes location and camera metadata out of JPEG, PNG, WebP,
//! TIFF, HEIC/AVIF and MP4/MOV/3GP as the bytes stream in (and, for what can only be found
//! once the whole file is there, in the written file before it is synced and named: then
//! the file is hashed again). The one thing kept is the photo's orientation. The hash and
//! size are those of the stored bytes.
//!
//! Writes go through a 256 KiB buffer (small, so thirty uploads at once stay within tens of
//! megabytes of memory). A file larger than that gets one loop on the blocking pool for the
//! time of its upload, which hashes each full buffer and then writes it to the temp file
//! while the async side fills the next, so the async workers never wait on the disk or the
//! hash. Hashing and writing in one pass reads each buffer while it is still in the CPU's
//! cache and uses one thread per upload instead of two; measured with `cargo bench --bench
//! upload`, it was as fast as two parallel loops for one upload and faster for a burst. The
//! loop also starts the disk on each megabyte as it goes ([`Writeback`]), so the `fsync` at
//! `finish` waits for the last piece, not the whole file. A small file is written and
//! hashed in one blocking step at `finish`. Handing the HTTP body's own chunks (about 64 KiB
//! each on loopback) to the loop instead of copying them into the buffer was tried: in
//! alternating runs against this writer (3 × 256 MiB each) folio used more CPU (1.3–1.4 s
//! against 1.1–1.2 s) and was no faster, most likely because the multipart parser can then
//! no longer reuse its own buffer, so every chunk lands in newly allocated memory (a fifth
//! more page faults). Hashing on the async side instead, right after each copy while the
//! bytes are in that core's cache, was slower too: 665–823 MiB/s against 898–1,001 for
//! this writer in alternating runs of the same minutes.
//!
//! The other methods of [`BlobStore`] are synchronous and small (a `stat`, an `unlink`, a
//! directory listing); call them from `spawn_blocking` when many are done at once.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::metadata::Filter;
pub use crate::metadata::may_strip;

/// The size of the write buffer. Full buffers are queued (one deep) for the loop that hashes
/// and writes them while the next fills; see [`Streams`].
const BUF_SIZE: usize = 1 << 18;
/// A filter may emit a held-back segment (at most 64 KiB) on top of the input it is given.
const BUF_SLACK: usize = crate::metadata::MAX_HELD;

const ENOSPC: i32 = 28;
const EXDEV: i32 = 18;
#[cfg(target_os = "linux")]
const EDQUOT: i32 = 122;
#[cfg(not(target_os = "linux"))]
const EDQUOT: i32 = 69;

/// The content-addressed file store under `<data>/blobs/`. Cloning is cheap (one `Arc`).
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<Dirs>,
}

#[derive(Debug)]
struct Dirs {
    /// `<data>/blobs`
    root: PathBuf,
    /// `<data>/blobs/tmp`
    tmp: PathBuf,
}

/// What [`BlobWriter::finish`] stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub hash: BlobHash,
    /// Bytes stored (after metadata removal), not bytes received.
    pub size: u64,
    /// True when location or camera metadata was taken out (see the `metadata` module).
    pub metadata_removed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("The file is larger than the limit of {}.", human_size(*.limit))]
    TooBig { limit: u64 },
    #[error("The box's disk is full. Tell your school's IT person.")]
    DiskFull,
    #[error(
        "The file could not be saved on the box ({0}). Try again; if it keeps happening, tell your school's IT person."
    )]
    Io(#[from] io::Error),
}

/// "25 MB", "1.5 GB", "900 bytes": decimal units, as phones and computers show file sizes.
fn human_size(bytes: u64) -> String {
    const MB: u64 = 1_000_000;
    const GB: u64 = 1_000_000_000;
    let tenths = |unit: u64| {
        let t = (bytes as u128 * 10 / unit as u128) as u64;
        match (t / 10, t % 10) {
            (whole, 0) => format!("{whole}"),
            (whole, tenth) => format!("{whole}.{tenth}"),
        }
    };
    if bytes >= GB {
        format!("{} GB", tenths(GB))
    } else if bytes >= MB / 10 {
        format!("{} MB", tenths(MB))
    } else {
        format!("{bytes} bytes")
    }
}

/// ENOSPC and EDQUOT (however the platform reports them) mean the disk is full; anything
/// else is a plain I/O error.
pub(crate) fn map_io(e: io::Error) -> BlobError {
    match e.raw_os_error() {
        Some(ENOSPC) | Some(EDQUOT) => BlobError::DiskFull,
        _ if matches!(e.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded) => BlobError::DiskFull,
        _ => BlobError::Io(e),
    }
}

/// A BLAKE3 content hash. Shown, serialized and used as a file name as 64 lowercase hex
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobHash(pub [u8; 32]);

impl BlobHash {
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(DIGITS[(b >> 4) as usize] as char);
            s.push(DIGITS[(b & 0xf) as usize] as char);
        }
        s
    }

    /// Exactly 64 hex digits (either case) and nothing else; anything else (a path, a short
    /// or padded string) is `None`, so a parsed hash is always safe to join onto a path.
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return None;
        }
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(BlobHash(out))
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobHash({})", self.to_hex())
    }
}

impl serde::Serialize for BlobHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for BlobHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = BlobHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a BLAKE3 hash as 64 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BlobHash, E> {
                BlobHash::from_hex(v).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

impl BlobStore {
    /// Opens (creating as needed) `<data_dir>/blobs/` and deletes whatever a crash left in
    /// `blobs/tmp/`. Call it once at start, before any upload begins.
    pub fn open(data_dir: &Path) -> io::Result<BlobStore> {
        let root = data_dir.join("blobs");
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp)?;
        let mut removed = 0usize;
        for entry in fs::read_dir(&tmp)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
            removed += 1;
        }
        if removed > 0 {
            tracing::info!(removed, dir = %tmp.display(), "deleted unfinished uploads left by an earlier run");
        }
        Ok(BlobStore { inner: Arc::new(Dirs { root, tmp }) })
    }

    /// Where the file with this hash is (or would be) stored.
    pub fn path(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.inner.root.join(&hex[..2]).join(hex)
    }

    pub fn contains(&self, hash: &BlobHash) -> bool {
        self.path(hash).is_file()
    }

    /// Deletes a stored file. A file that is not there is not an error.
    pub fn remove(&self, hash: &BlobHash) -> io::Result<()> {
        match fs::remove_file(self.path(hash)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// When this content was last stored: the time of its upload, refreshed when the same
    /// content is uploaded again.
    pub fn modified(&self, hash: &BlobHash) -> io::Result<SystemTime> {
        fs::metadata(self.path(hash))?.modified()
    }

    /// Every stored file's hash, sorted, for garbage collection. Skips `tmp/` and anything
    /// whose name is not a lowercase hash in the directory its first two digits name.
    ///
    /// A file is stored before the row that refers to it is written, and an upload of
    /// content that is already stored (but no longer referred to) is deduplicated onto the
    /// existing file. So a collector must not remove a file that was [`modified`](Self::modified)
    /// after it began, or recently (keep a grace period of, say, an hour): its row may be on
    /// its way.
    pub fn all(&self) -> io::Result<Vec<BlobHash>> {
        let mut found = Vec::new();
        for dir in fs::read_dir(&self.inner.root)? {
            let dir = dir?;
            let prefix = dir.file_name();
            let Some(prefix) = prefix.to_str() else { continue };
            let is_prefix = prefix.len() == 2 && prefix.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
            if !is_prefix || !dir.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(dir.path())? {
                let file = file?;
                let name = file.file_name();
                let Some(name) = name.to_str() else { continue };
                let Some(hash) = BlobHash::from_hex(name) else { continue };
                if name.starts_with(prefix) && hash.to_hex() == name && file.file_type()?.is_file() {
                    found.push(hash);
                }
            }
        }
        found.sort_unstable();
        Ok(found)
    }

    /// How many uploads are in progress (or were left behind): files in `blobs/tmp/`.
    pub fn tmp_count(&self) -> usize {
        fs::read_dir(&self.inner.tmp).map(|entries| entries.count()).unwrap_or(0)
    }

    /// Starts an upload of at most `max_bytes` (counted as received, before metadata
    /// removal). Creates a randomly named temp file in `blobs/tmp/`.
    pub fn writer(&self, max_bytes: u64) -> io::Result<BlobWriter> {
        use rand::Rng;
        let name = format!("{:032x}", rand::rng().random::<u128>());
        let path = self.inner.tmp.join(name);
        let mut options = fs::OpenOptions::new();
        // Read too: a fix-up at the end reads what was written (see `metadata`).
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        {
            // Students' work: readable by folio only.
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path)?;
        Ok(BlobWriter {
            store: self.clone(),
            tmp_path: path,
            armed: true,
            max_bytes,
            received: 0,
            stored: 0,
            filter: Filter::default(),
            buf: Vec::with_capacity(BUF_SIZE + BUF_SLACK),
            io: IoState::Idle { file, hasher: Box::default() },
            failed: None,
        })
    }

    /// Takes a whole file that is already on this box (a finished resumable upload) into the
    /// store under `hash`, which the caller computed from exactly these `size` bytes as they
    /// were written and fsynced. The file is renamed, not copied (copied only if it is on
    /// another file system), and is gone from `path` afterwards. It must not need metadata
    /// removal ([`may_strip`] is false for its first bytes): images go through a
    /// [`BlobWriter`] instead. Blocking.
    pub fn adopt(&self, path: &Path, hash: &BlobHash, size: u64) -> Result<StoredBlob, BlobError> {
        let placed = match self.place(path, hash, size) {
            Err(e) if e.raw_os_error() == Some(EXDEV) => {
                let copy = self.inner.tmp.join(format!("{:032x}", rand::random::<u128>()));
                let copied = fs::copy(path, &copy).and_then(|_| File::open(&copy)?.sync_all());
                let placed = copied.and_then(|()| self.place(&copy, hash, size));
                if placed.is_err() {
                    remove_quietly(&copy);
                } else {
                    remove_quietly(path);
                }
                placed
            }
            other => other,
        };
        placed.map_err(map_io)?;
        Ok(StoredBlob { hash: *hash, size, metadata_removed: false })
    }

    /// Moves a fully written, fsynced temp file to its hash name (or drops it if that content
    /// is already stored) and makes the directory entry durable. Blocking.
    fn place(&self, tmp: &Path, hash: &BlobHash, size: u64) -> io::Result<()> {
        let dest = self.path(hash);
        let dir = dest.parent().expect("a blob path has a parent");
        if !dir.is_dir() {
            match fs::create_dir(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => sync_dir(&self.inner.root)?,
            }
        }
        // Same content already stored: dedupe. Its time is refreshed so a garbage collection
        // that runs before the new row is written sees it as new (see `all`). If that fails
        // (a collection removed it a moment ago), our copy takes its place.
        let already_stored = fs::metadata(&dest).is_ok_and(|existing| existing.is_file() && existing.len() == size)
            && File::options().write(true).open(&dest).and_then(|f| f.set_modified(SystemTime::now())).is_ok();
        if already_stored {
            fs::remove_file(tmp)?;
        } else {
            fs::rename(tmp, &dest)?;
        }
        // Also covers another upload of the same content that renamed it a moment ago and has
        // not synced yet.
        sync_dir(dir)
    }
}

/// Makes a directory's entries (a rename, a new file) survive power loss.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// One upload in progress. Feed it with [`write`](Self::write), end it with
/// [`finish`](Self::finish). Dropped without `finish`, it deletes its temp file.
pub struct BlobWriter {
    store: BlobStore,
    tmp_path: PathBuf,
    /// While true, dropping the writer deletes `tmp_path`.
    armed: bool,
    max_bytes: u64,
    received: u64,
    stored: u64,
    filter: Filter,
    /// Filtered bytes not yet handed to the blocking pool.
    buf: Vec<u8>,
    io: IoState,
    failed: Option<Failure>,
}

enum IoState {
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
struct Streams {
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
enum Failure {
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
            let stored = (|| {
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
                let hash = BlobHash(*hasher.finalize().as_bytes());
                let held = hold(&hash);
                store.place(&tmp, &hash, size)?;
                Ok((hash, held, filter.removed()))
            })();
            stored.map_err(|e| {
                remove_quietly(&tmp);
                map_io(e)
            })
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

/// How far a [`Writeback`] lets written bytes pile up before it asks the disk to start on them.
const WRITEBACK_STEP: u64 = 1 << 20;

/// A file that asks the kernel to start writing every [`WRITEBACK_STEP`] bytes to the disk
/// at once, without waiting for it (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux).
///
/// Why: a plain write only fills the page cache, so the `fsync` that every stored file
/// ends with would write the whole file while the client waits. Started as the bytes
/// arrive, the disk works while the network delivers the next ones, and the final sync
/// only waits for the last piece. Measured with `cargo bench --bench tus`, that sync went
/// from about 4 ms to under 1 ms per 8 MiB PATCH; for a 1 GiB multipart upload (`cargo
/// bench --bench upload`) the final `fsync` no longer writes a gigabyte. Durability still
/// comes from the `fsync`/`fdatasync` alone. Used by every path that streams a file onto
/// the disk: uploads ([`BlobWriter`]), resumable uploads and files from other boxes.
/// Write-through: wrap it in a `BufWriter` when the pieces written are small.
///
/// It also drops what is on the disk from the page cache as it goes ([`drop_cached`]), two
/// steps behind the write-out, and the rest at [`Writeback::sync_data`]. A stored
/// file is not read again soon (a thumbnail reads a photo once), and a box that kept every
/// upload in memory would push out what is read all the time: the database, the search
/// index, the thumbnails. It was also much faster when many files are written at once, on
/// the 2-core virtual machine this project is measured on: there, a page cache that grows
/// by gigabytes makes the kernel's copy into it (`copy_folio_from_iter_atomic`) about ten
/// times as costly, while pages handed back are reused cheaply. 30 writers of 200 MB each
/// with `fsync`, in one run: 315 MiB/s and 4.4 s of kernel CPU per GiB written without
/// the drop, 1,770 MiB/s and 0.43 s/GiB with it.
///
/// Writing uploads with `O_DIRECT` instead (no page cache at all, from page-aligned buffers)
/// was tried and measured: with one 256 KiB write waiting on the disk at a time, a 1 GiB
/// upload went at about 565 MiB/s, against 770–880 MiB/s with this writer in runs that day.
/// Tried again later with every full buffer handed off as whole 4 KiB blocks from
/// page-aligned memory (a partial last block carried into the next buffer), so every write
/// but the last could go direct: folio used a little less CPU (0.8–0.9 s against 0.9–1.0 s
/// per 3 × 256 MiB) but was slower, 720–973 MiB/s against 1,012–1,552 for this writer in
/// alternating quick runs, because each direct write makes the loop wait for the disk.
/// Handing the `sync_file_range` and the drop to one shared thread, so the loop that hashes
/// and writes never does the block layer's work itself, was tried too: in alternating quick
/// runs against this writer (3 × 256 MiB each) it was no faster (672–903 MiB/s against
/// 879–888), so the calls stay here, where they need no second handle on the file.
pub(crate) struct Writeback {
    file: File,
    /// Where the next byte goes, and where write-out was last started.
    written: u64,
    started: u64,
    /// Where write-out was started the time before, and how far pages were dropped.
    previous: u64,
    dropped: u64,
}

impl Writeback {
    /// `file` positioned at `offset` (the bytes before it are not this writer's business).
    pub(crate) fn new(file: File, offset: u64) -> Self {
        Writeback { file, written: offset, started: offset, previous: offset, dropped: offset }
    }

    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// Makes what was written durable (`fdatasync`), then drops the file from the page cache.
    pub(crate) fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()?;
        drop_cached(&self.file, 0, 0);
        Ok(())
    }
}

impl Write for Writeback {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.file.write(data)?;
        self.written += n as u64;
        if self.written >= self.started + WRITEBACK_STEP {
            start_writeback(&self.file, self.started, self.written - self.started);
            // Write-out of what lies before the previous step started at least a step ago.
            if self.previous > self.dropped {
                drop_cached(&self.file, self.dropped, self.previous - self.dropped);
                self.dropped = self.previous;
            }
            self.previous = self.started;
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(target_os = "linux")]
fn start_writeback(file: &File, from: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor and a byte range; the call only schedules write-out.
    // A failure here only loses the head start: the fsync that follows does the work.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            from as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _from: u64, _len: u64) {}

/// Drops the file's pages in `len` bytes from `from` (to the end if `len` is 0) from the page
/// cache, if they are on the disk: dirty pages and pages being written are kept, so this
/// never loses data and never waits for the disk. Called after a stored file's `fsync`,
/// and by [`Writeback`] as it goes and in its `sync_data` (why: see there).
fn drop_cached(file: &File, from: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor and a byte range; the call only advises the kernel.
        // A failure only leaves the pages cached.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), from as libc::off_t, len as libc::off_t, libc::POSIX_FADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, from, len);
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

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        (dir, store)
    }

    async fn put_chunked(store: &BlobStore, data: &[u8], chunk: usize) -> StoredBlob {
        let mut w = store.writer(u64::MAX).unwrap();
        for part in data.chunks(chunk.max(1)) {
            w.write(part).await.unwrap();
        }
        w.finish().await.unwrap()
    }

    async fn put(store: &BlobStore, data: &[u8]) -> StoredBlob {
        put_chunked(store, data, data.len()).await
    }

    /// The garbage-collection hold is taken before a duplicate is matched with the stored
    /// copy: if the collector removes that copy just before the hold, the new bytes are
    /// stored instead, so the hash the upload reports always has a file behind it.
    #[tokio::test]
    async fn the_hold_comes_before_the_dedupe() {
        let (_dir, store) = store();
        let first = put(&store, b"the same drawing twice").await;
        let mut w = store.writer(u64::MAX).unwrap();
        w.write(b"the same drawing twice").await.unwrap();
        let collector = store.clone();
        let (second, held_at) = w
            .finish_holding(move |hash| {
                // The collector's last removal before the hold lands.
                collector.remove(hash).unwrap();
                hash.to_hex()
            })
            .await
            .unwrap();
        assert_eq!(second.hash, first.hash);
        assert_eq!(held_at, first.hash.to_hex());
        assert_eq!(std::fs::read(store.path(&second.hash)).unwrap(), b"the same drawing twice");
    }

    fn stored_bytes(store: &BlobStore, blob: &StoredBlob) -> Vec<u8> {
        fs::read(store.path(&blob.hash)).unwrap()
    }

    /// Deterministic bytes that do not look like an image.
    fn noise(len: usize) -> Vec<u8> {
        let mut x: u32 = 0x1234_5678;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 8) as u8
            })
            .collect()
    }

    /// Runs `data` through the filters alone in pieces of the given sizes (cycled).
    fn filter_in_pieces(data: &[u8], sizes: &[usize]) -> (Vec<u8>, bool) {
        let mut filter = Filter::default();
        let mut out = Vec::new();
        let mut rest = data;
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at((*size).min(rest.len()));
            filter.feed(now, &mut out);
            rest = later;
        }
        filter.finish(&mut out);
        (out, filter.removed())
    }

    fn segment(code: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, code];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    /// A JPEG with every kind of segment, and the same JPEG as it should be stored.
    fn sample_jpeg() -> (Vec<u8>, Vec<u8>) {
        let app0 = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let mut exif_body = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 59.91 N GPSLongitude 10.75 E ".to_vec();
        exif_body.extend(noise(3000));
        let app1 = segment(0xE1, &exif_body);
        let xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta GPS/>");
        let com = segment(0xFE, b"taken at 12 Home Street");
        let app13 = segment(0xED, b"Photoshop 3.0\08BIM GPS");
        let app2 = segment(0xE2, b"ICC_PROFILE\0\x01\x01 profile bytes");
        let dqt = segment(0xDB, &[0u8; 65]);
        let sof = segment(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
        let dht = segment(0xC4, &[0u8; 29]);
        let empty_app1 = segment(0xE1, b"");
        let sos = segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]);
        // Scan data with stuffed zeros and restart markers: they stay. Random bytes would
        // hold FF followed by a marker code, which real entropy-coded data never does.
        let mut scan: Vec<u8> = noise(500).into_iter().map(|b| b & 0x7F).collect();
        scan.extend_from_slice(&[0xFF, 0x00, 0x12, 0xFF, 0xD0, 0x34, 0xFF, 0xFF, 0xD7, 0x56]);
        scan.extend(noise(200).into_iter().map(|b| b & 0x7F));
        // A comment and an APP1 between scans go as well; the next scan stays.
        let between = [segment(0xFE, b"at home"), segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0GPS")].concat();
        let next_scan = [segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]), vec![1, 2, 3, 0xFF, 0xD9]].concat();

        let mut original = vec![0xFF, 0xD8];
        let mut expected = vec![0xFF, 0xD8];
        for (part, kept) in [
            (&app0, true),
            (&app1, false),
            (&xmp, false),
            (&app2, true),
            (&com, false),
            (&dqt, true),
            (&app13, false),
            (&sof, true),
            (&empty_app1, false),
            (&dht, true),
            (&sos, true),
            (&scan, true),
            (&between, false),
            (&next_scan, true),
        ] {
            original.extend_from_slice(part);
            if kept {
                expected.extend_from_slice(part);
            }
        }
        (original, expected)
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        c
    }

    /// Inserts chunks into a real PNG right after IHDR (signature 8 + IHDR 25 bytes).
    fn with_png_chunks(png: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
        let mut out = png[..33].to_vec();
        for chunk in extra {
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&png[33..]);
        out
    }

    fn test_image() -> image::RgbImage {
        image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([(x * 8) as u8, (y * 10) as u8, ((x + y) * 3) as u8]))
    }

    /// How many of a file's pages are in the page cache (`mincore` over a mapping of it).
    #[cfg(target_os = "linux")]
    fn cached_pages(path: &Path) -> usize {
        use std::os::fd::AsRawFd;
        let file = File::open(path).unwrap();
        let len = file.metadata().unwrap().len() as usize;
        let page = 4096;
        let mut resident = vec![0u8; len.div_ceil(page)];
        // SAFETY: a read-only shared mapping of a whole open file, unmapped before return;
        // `resident` has one byte per page of it, as mincore needs.
        unsafe {
            let map = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0);
            assert_ne!(map, libc::MAP_FAILED);
            assert_eq!(libc::mincore(map, len, resident.as_mut_ptr()), 0);
            libc::munmap(map, len);
        }
        resident.iter().filter(|r| **r & 1 == 1).count()
    }

    /// A stored file leaves the page cache once it is on the disk (see [`Writeback`]), both
    /// a large one written by the loop and a small one written at `finish`; its bytes read
    /// back the same.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn stored_files_leave_the_page_cache() {
        let (dir, store) = store();
        // tmpfs keeps its pages (they are the file): nothing to check there.
        // SAFETY: statfs fills the struct it is given for a NUL-terminated path.
        let on_tmpfs = unsafe {
            let mut fs: libc::statfs = std::mem::zeroed();
            let path = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes()).unwrap();
            libc::statfs(path.as_ptr(), &mut fs) == 0 && fs.f_type == libc::TMPFS_MAGIC
        };
        for size in [8 * BUF_SIZE + 5, 1000] {
            let data = noise(size);
            let blob = put_chunked(&store, &data, 65_536).await;
            let path = store.path(&blob.hash);
            if !on_tmpfs {
                assert_eq!(cached_pages(&path), 0, "a {size}-byte file's pages are dropped after its fsync");
            }
            assert_eq!(stored_bytes(&store, &blob), data);
        }
    }

    #[tokio::test]
    async fn round_trip_hash_is_blake3_of_the_data() {
        let (_dir, store) = store();
        // Spans several buffers, in uneven chunks.
        let data = noise(3 * BUF_SIZE + 12_345);
        let blob = put_chunked(&store, &data, 65_537).await;
        assert_eq!(blob.hash.0, *blake3::hash(&data).as_bytes());
        assert_eq!(blob.size, data.len() as u64);
        assert!(!blob.metadata_removed);
        assert_eq!(stored_bytes(&store, &blob), data);
        assert!(store.contains(&blob.hash));
        let hex = blob.hash.to_hex();
        assert_eq!(store.path(&blob.hash), store.inner.root.join(&hex[..2]).join(&hex));
        assert_eq!(store.tmp_count(), 0);
    }

    #[tokio::test]
    async fn empty_and_tiny_files_are_stored() {
        let (_dir, store) = store();
        for data in [&b""[..], b"x", b"\xFF", b"\xFF\xD8", b"\x89PNG\r\n"] {
            let blob = put(&store, data).await;
            assert_eq!(stored_bytes(&store, &blob), data);
            assert_eq!(blob.hash.0, *blake3::hash(data).as_bytes());
        }
        assert_eq!(store.tmp_count(), 0);
    }

    #[tokio::test]
    async fn same_content_twice_is_stored_once() {
        let (_dir, store) = store();
        let data = noise(10_000);
        let a = put(&store, &data).await;
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        File::options().write(true).open(store.path(&a.hash)).unwrap().set_modified(old).unwrap();
        assert_eq!(store.modified(&a.hash).unwrap(), old);
        let b = put_chunked(&store, &data, 777).await;
        assert_eq!(a, b);
        // A garbage collection sees the content as newly stored.
        assert!(store.modified(&a.hash).unwrap() > old);
        assert_eq!(store.all().unwrap(), vec![a.hash]);
        let dir = store.path(&a.hash).parent().unwrap().to_path_buf();
        assert_eq!(fs::read_dir(dir).unwrap().count(), 1);
        assert_eq!(store.tmp_count(), 0);
    }

    #[tokio::test]
    async fn too_big_fails_at_once_and_leaves_no_temp_file() {
        let (_dir, store) = store();
        let mut w = store.writer(2500).unwrap();
        assert_eq!(store.tmp_count(), 1);
        w.write(&[1; 1000]).await.unwrap();
        w.write(&[2; 1000]).await.unwrap();
        let err = w.write(&[3; 1000]).await.unwrap_err();
        assert!(matches!(err, BlobError::TooBig { limit: 2500 }), "{err:?}");
        assert_eq!(store.tmp_count(), 0);
        // The writer keeps refusing.
        assert!(matches!(w.write(b"x").await, Err(BlobError::TooBig { .. })));
        assert!(matches!(w.finish().await, Err(BlobError::TooBig { .. })));
        assert_eq!(store.tmp_count(), 0);
        assert!(store.all().unwrap().is_empty());

        // Exactly the limit is fine.
        let mut w = store.writer(2000).unwrap();
        w.write(&[1; 2000]).await.unwrap();
        assert_eq!(w.finish().await.unwrap().size, 2000);

        // A limit crossed in the middle of a large stream, with buffers in flight.
        let mut w = store.writer(3 * BUF_SIZE as u64).unwrap();
        let chunk = noise(100_000);
        let mut result = Ok(());
        for _ in 0..40 {
            result = w.write(&chunk).await;
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(BlobError::TooBig { .. })));
        drop(w);
        assert_eq!(store.tmp_count(), 0);
    }

    #[test]
    fn too_big_message_names_the_limit() {
        assert_eq!(BlobError::TooBig { limit: 25_000_000 }.to_string(), "The file is larger than the limit of 25 MB.");
        assert_eq!(human_size(1_500_000_000), "1.5 GB");
        assert_eq!(human_size(500), "500 bytes");
        assert!(BlobError::DiskFull.to_string().contains("disk is full"));
    }

    #[tokio::test]
    async fn a_writer_dropped_without_finish_deletes_its_temp_file() {
        let (_dir, store) = store();
        let mut w = store.writer(u64::MAX).unwrap();
        w.write(&noise(BUF_SIZE + 10)).await.unwrap();
        w.write(b"more").await.unwrap();
        assert_eq!(store.tmp_count(), 1);
        drop(w);
        assert_eq!(store.tmp_count(), 0);

        // Dropped inside a task that is aborted, as when a client goes away.
        let s = store.clone();
        let task = tokio::spawn(async move {
            let mut w = s.writer(u64::MAX).unwrap();
            w.write(b"partial").await.unwrap();
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        task.abort();
        let _ = task.await;
        assert_eq!(store.tmp_count(), 0);
        assert!(store.all().unwrap().is_empty());
    }

    #[test]
    fn disk_full_errors_are_recognised() {
        assert!(matches!(map_io(io::Error::from_raw_os_error(28)), BlobError::DiskFull));
        assert!(matches!(map_io(io::Error::from_raw_os_error(EDQUOT)), BlobError::DiskFull));
        assert!(matches!(map_io(io::Error::from_raw_os_error(13)), BlobError::Io(_)));
        assert!(matches!(map_io(io::Error::other("x")), BlobError::Io(_)));
    }

    /// /dev/full answers every write with ENOSPC: put it under a writer in place of its file.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_full_disk_is_reported_and_leaves_no_temp_file() {
        let (_dir, store) = store();
        for sizes in [vec![3 * BUF_SIZE], vec![100]] {
            let mut w = store.writer(u64::MAX).unwrap();
            w.io = IoState::Idle {
                file: fs::OpenOptions::new().write(true).open("/dev/full").unwrap(),
                hasher: Box::default(),
            };
            let mut result = Ok(());
            for size in sizes {
                result = w.write(&noise(size)).await;
            }
            let err = match result {
                Err(e) => e,
                Ok(()) => w.finish().await.unwrap_err(),
            };
            assert!(matches!(err, BlobError::DiskFull), "{err:?}");
            assert_eq!(store.tmp_count(), 0);
        }
        assert!(store.all().unwrap().is_empty());
    }

    #[tokio::test]
    async fn leftover_temp_files_are_deleted_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let kept = put(&store, b"kept").await;
        let w = store.writer(100).unwrap();
        std::mem::forget(w); // as a crash would leave it
        fs::write(dir.path().join("blobs/tmp/old-upload"), b"half").unwrap();
        fs::create_dir(dir.path().join("blobs/tmp/odd-dir")).unwrap();
        assert_eq!(store.tmp_count(), 3);
        drop(store);

        let store = BlobStore::open(dir.path()).unwrap();
        assert_eq!(store.tmp_count(), 0);
        assert_eq!(store.all().unwrap(), vec![kept.hash]);
    }

    #[tokio::test]
    async fn all_lists_only_stored_blobs_and_remove_is_idempotent() {
        let (dir, store) = store();
        let mut hashes = vec![put(&store, b"one").await.hash, put(&store, b"two").await.hash];
        hashes.sort();
        let blobs = dir.path().join("blobs");
        // Things that are not blobs.
        let upper = hashes[0].to_hex().to_uppercase();
        fs::write(store.path(&hashes[0]).parent().unwrap().join(&upper), b"").unwrap();
        fs::create_dir_all(blobs.join("zz")).unwrap();
        fs::write(blobs.join("zz").join(hashes[0].to_hex()), b"").unwrap();
        fs::create_dir_all(blobs.join("ab")).unwrap();
        fs::write(blobs.join("ab").join("not-a-hash"), b"").unwrap();
        let misplaced = BlobHash([0x11; 32]);
        fs::create_dir_all(blobs.join("22")).unwrap();
        fs::write(blobs.join("22").join(misplaced.to_hex()), b"").unwrap();
        fs::write(blobs.join("stray.txt"), b"").unwrap();
        let _in_progress = store.writer(10).unwrap();

        assert_eq!(store.all().unwrap(), hashes);

        store.remove(&hashes[0]).unwrap();
        assert!(!store.contains(&hashes[0]));
        store.remove(&hashes[0]).unwrap();
        assert_eq!(store.all().unwrap(), vec![hashes[1]]);
    }

    #[test]
    fn hashes_parse_only_from_exactly_64_hex_digits() {
        let hash = BlobHash(*blake3::hash(b"x").as_bytes());
        let hex = hash.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(BlobHash::from_hex(&hex), Some(hash));
        assert_eq!(BlobHash::from_hex(&hex.to_uppercase()), Some(hash));
        assert_eq!(hash.to_string(), hex);
        assert_eq!(format!("{hash:?}"), format!("BlobHash({hex})"));
        for bad in [
            "",
            "../x",
            "../../etc/passwd",
            &hex[..63],
            &hex[..62],
            &format!("{hex}0"),
            &format!(" {}", &hex[1..]),
            &format!("{}g", &hex[..63]),
            &format!("{}/", &hex[..63]),
            &format!("+{}", &hex[1..]),
            &format!("../{}", &hex[3..]),
        ] {
            assert_eq!(BlobHash::from_hex(bad), None, "{bad:?}");
        }
        // A multi-byte character making the byte length 64 is still refused.
        assert_eq!(BlobHash::from_hex(&format!("é{}", &hex[2..])), None);
    }

    #[test]
    fn hashes_serialize_as_hex_strings() {
        let hash = BlobHash(*blake3::hash(b"y").as_bytes());
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{}\"", hash.to_hex()));
        assert_eq!(serde_json::from_str::<BlobHash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<BlobHash>("\"../x\"").is_err());
        assert!(serde_json::from_str::<BlobHash>("42").is_err());
    }

    #[tokio::test]
    async fn jpeg_metadata_is_removed_whatever_the_chunk_size() {
        let (_dir, store) = store();
        let (original, expected) = sample_jpeg();
        assert!(original.windows(3).any(|w| w == b"GPS"));

        let whole = put(&store, &original).await;
        let bytewise = put_chunked(&store, &original, 1).await;
        assert_eq!(whole, bytewise);
        assert!(whole.metadata_removed);
        let stored = stored_bytes(&store, &whole);
        assert_eq!(stored, expected);
        assert!(!stored.windows(3).any(|w| w == b"GPS"));
        assert!(!stored.windows(6).any(|w| w == b"Photos"));
        assert_eq!(whole.size, expected.len() as u64);
        assert_eq!(whole.hash.0, *blake3::hash(&expected).as_bytes());

        // Every split point and a few odd piece sizes give the same bytes.
        for sizes in [&[2][..], &[3], &[5, 1, 7], &[4096], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] {
            assert_eq!(filter_in_pieces(&original, sizes), (expected.clone(), true), "{sizes:?}");
        }
        for split in 0..original.len() {
            let mut filter = Filter::default();
            let mut out = Vec::new();
            filter.feed(&original[..split], &mut out);
            filter.feed(&original[split..], &mut out);
            filter.finish(&mut out);
            assert_eq!(out, expected, "split at {split}");
        }
        assert_eq!(store.tmp_count(), 0);
    }

    #[tokio::test]
    async fn a_real_jpeg_still_decodes_the_same_without_its_exif() {
        let (_dir, store) = store();
        let mut encoded = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 90).encode_image(&test_image()).unwrap();
        // EXIF with a GPS IFD, right after SOI, as cameras write it, and a large XMP packet.
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0GPSInfo".to_vec();
        exif.extend(noise(60_000));
        let mut with_exif = encoded[..2].to_vec();
        with_exif.extend(segment(0xE1, &exif));
        with_exif.extend(segment(0xE1, &noise(65_000)));
        with_exif.extend_from_slice(&encoded[2..]);

        let blob = put_chunked(&store, &with_exif, 1000).await;
        assert!(blob.metadata_removed);
        let stored = stored_bytes(&store, &blob);
        assert_eq!(stored, encoded);
        let before = image::load_from_memory(&with_exif).unwrap().to_rgb8();
        let after = image::load_from_memory(&stored).unwrap().to_rgb8();
        assert_eq!(before, after);
    }

    #[tokio::test]
    async fn a_jpeg_without_metadata_is_unchanged() {
        let (_dir, store) = store();
        let mut encoded = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 80).encode_image(&test_image()).unwrap();
        let blob = put_chunked(&store, &encoded, 7).await;
        assert!(!blob.metadata_removed);
        assert_eq!(stored_bytes(&store, &blob), encoded);
    }

    #[test]
    fn a_malformed_jpeg_is_filtered_past_the_bad_bytes() {
        // Garbage where a marker should be, after a dropped segment: skipped, as decoders
        // skip it, and the APP1 after it still goes (here cut off by the end of the file).
        let mut bad = vec![0xFF, 0xD8];
        bad.extend(segment(0xE1, b"Exif GPS"));
        bad.extend_from_slice(b"\x12\x34 not a marker \xFF\xE1\x00\x08GPS!!");
        for sizes in [&[1][..], &[1000]] {
            assert_eq!(filter_in_pieces(&bad, sizes), (vec![0xFF, 0xD8], true));
        }

        // A length below 2, then a comment.
        let bad = b"\xFF\xD8\xFF\xE0\x00\x01rest\xFF\xFE\x00\x04ab".to_vec();
        assert_eq!(filter_in_pieces(&bad, &[1]), (vec![0xFF, 0xD8], true));

        // FF 00 before an APP1 that follows.
        let bad = b"\xFF\xD8\xFF\x00\xFF\xE1\x00\x04ab\xFF\xDA\x00\x02scan".to_vec();
        assert_eq!(filter_in_pieces(&bad, &[3]), (b"\xFF\xD8\xFF\xDA\x00\x02scan".to_vec(), true));

        // Fill bytes before a marker are kept; the dropped segment still goes.
        let mut filled = b"\xFF\xD8\xFF\xFF\xFF".to_vec();
        filled.extend(segment(0xFE, b"comment"));
        filled.extend(segment(0xDA, b"\x00"));
        filled.extend_from_slice(b"scan");
        let mut expected = b"\xFF\xD8\xFF\xFF\xFF".to_vec();
        expected.extend(segment(0xDA, b"\x00"));
        expected.extend_from_slice(b"scan");
        assert_eq!(filter_in_pieces(&filled, &[1]), (expected.clone(), true));
        assert_eq!(filter_in_pieces(&filled, &[100]), (expected, true));

        // Cut off in the middle of an application segment's header: dropped.
        let cut = b"\xFF\xD8\xFF\xE0\x00".to_vec();
        assert_eq!(filter_in_pieces(&cut, &[1]), (vec![0xFF, 0xD8], true));
        // ... and of another segment's: kept.
        let cut = b"\xFF\xD8\xFF\xDB\x00".to_vec();
        assert_eq!(filter_in_pieces(&cut, &[1]), (cut.clone(), false));

        // Bytes after the end of the image that do not begin another JPEG are dropped.
        let mut trailer = b"\xFF\xD8\xFF\xDA\x00\x02scan\xFF\xD9".to_vec();
        let expected = trailer.clone();
        trailer.extend_from_slice(b"Exif GPS 59.91 N");
        assert_eq!(filter_in_pieces(&trailer, &[1]), (expected, true));
    }

    #[tokio::test]
    async fn png_text_and_exif_chunks_are_removed_whatever_the_chunk_size() {
        let (_dir, store) = store();
        let mut encoded = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut encoded),
            test_image().as_raw(),
            32,
            24,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
        assert_eq!(&encoded[12..16], b"IHDR");
        let gama = png_chunk(b"gAMA", &45455u32.to_be_bytes());
        let metadata = [
            png_chunk(b"eXIf", b"MM\0*\0\0\0\x08GPS 59.91 N"),
            gama.clone(),
            png_chunk(b"tEXt", b"Comment\0at home, GPS 59.91"),
            png_chunk(b"zTXt", b"Author\0\0x\x9c"),
            png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta GPS/>"),
            png_chunk(b"tIME", &[7, 0xE8, 5, 1, 12, 0, 0]),
        ];
        let original = with_png_chunks(&encoded, &metadata);
        let expected = with_png_chunks(&encoded, std::slice::from_ref(&gama));

        let whole = put(&store, &original).await;
        let bytewise = put_chunked(&store, &original, 1).await;
        assert_eq!(whole, bytewise);
        assert!(whole.metadata_removed);
        let stored = stored_bytes(&store, &whole);
        assert_eq!(stored, expected);
        assert!(!stored.windows(3).any(|w| w == b"GPS"));
        for kind in [b"IHDR", b"IDAT", b"IEND", b"gAMA"] {
            assert!(stored.windows(4).any(|w| w == kind));
        }
        for split in 0..original.len() {
            let mut filter = Filter::default();
            let mut out = Vec::new();
            filter.feed(&original[..split], &mut out);
            filter.feed(&original[split..], &mut out);
            filter.finish(&mut out);
            assert_eq!(out, expected, "split at {split}");
        }
        let before = image::load_from_memory(&original).unwrap().to_rgb8();
        let after = image::load_from_memory(&stored).unwrap().to_rgb8();
        assert_eq!(before, after);
        assert_eq!(store.tmp_count(), 0);
    }

    #[test]
    fn png_oddities_are_dropped() {
        // Bytes after IEND are dropped, even ones that look like a text chunk.
        let mut png = PNG_MAGIC.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(png_chunk(b"IEND", b""));
        let mut with_trailer = png.clone();
        with_trailer.extend_from_slice(&png_chunk(b"tEXt", b"k\0v"));
        assert_eq!(filter_in_pieces(&with_trailer, &[1]), (png.clone(), true));
        assert_eq!(filter_in_pieces(&png, &[1]), (png.clone(), false));

        // A chunk type that is not letters ends what a decoder reads: the rest is dropped.
        let mut bad = PNG_MAGIC.to_vec();
        bad.extend(png_chunk(b"tEXt", b"k\0v"));
        bad.extend_from_slice(b"\0\0\0\x04\x01\x02\x03\x04datacrc!");
        bad.extend(png_chunk(b"tEXt", b"k\0v"));
        assert_eq!(filter_in_pieces(&bad, &[1]), (PNG_MAGIC.to_vec(), true));
        assert_eq!(filter_in_pieces(&bad, &[64]), (PNG_MAGIC.to_vec(), true));

        // Ancillary chunks nobody listed go; critical ones stay.
        let mut odd = png[..33].to_vec();
        odd.extend(png_chunk(b"prVt", b"a tool's own data"));
        odd.extend(png_chunk(b"IDAT", b"x"));
        odd.extend(png_chunk(b"IEND", b""));
        let mut expected = png[..33].to_vec();
        expected.extend(png_chunk(b"IDAT", b"x"));
        expected.extend(png_chunk(b"IEND", b""));
        assert_eq!(filter_in_pieces(&odd, &[5]), (expected, true));
    }

    #[tokio::test]
    async fn other_data_is_stored_unchanged() {
        let (_dir, store) = store();
        let mut looks_like = vec![0xFF, 0xD8, 0x00]; // not quite a JPEG
        looks_like.extend(segment(0xE1, b"GPS"));
        let mut almost_png = PNG_MAGIC[..7].to_vec();
        almost_png.extend(png_chunk(b"tEXt", b"GPS"));
        for data in [b"%PDF-1.7 GPS text".to_vec(), looks_like, almost_png, noise(100_000)] {
            for chunk in [1, 3, data.len()] {
                let blob = put_chunked(&store, &data, chunk).await;
                assert!(!blob.metadata_removed);
                assert_eq!(stored_bytes(&store, &blob), data);
                assert_eq!(blob.hash.0, *blake3::hash(&data).as_bytes());
            }
        }
    }

    #[tokio::test]
    async fn stripped_reports_removal_as_it_happens() {
        let (_dir, store) = store();
        let (original, _) = sample_jpeg();
        let mut w = store.writer(u64::MAX).unwrap();
        w.write(&original[..10]).await.unwrap();
        assert!(!w.stripped());
        w.write(&original[10..]).await.unwrap();
        assert!(w.stripped());
        assert_eq!(w.received(), original.len() as u64);
        assert!(w.finish().await.unwrap().metadata_removed);
    }

    /// `cargo test --release --lib blobs::tests::throughput -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "a benchmark: run by hand"]
    async fn throughput_against_a_plain_buffered_write() {
        let (dir, store) = store();
        let chunk = noise(64 * 1024);
        let total = 1usize << 29;
        let rounds = total / chunk.len();

        let mut best_plain = f64::MAX;
        let mut best_blob = f64::MAX;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let path = dir.path().join("plain");
            {
                let mut out = io::BufWriter::with_capacity(BUF_SIZE, File::create(&path).unwrap());
                for _ in 0..rounds {
                    out.write_all(&chunk).unwrap();
                }
                out.into_inner().unwrap().sync_all().unwrap();
            }
            best_plain = best_plain.min(start.elapsed().as_secs_f64());
            fs::remove_file(&path).unwrap();

            let start = std::time::Instant::now();
            let mut w = store.writer(u64::MAX).unwrap();
            for _ in 0..rounds {
                w.write(&chunk).await.unwrap();
            }
            let blob = w.finish().await.unwrap();
            best_blob = best_blob.min(start.elapsed().as_secs_f64());
            store.remove(&blob.hash).unwrap();
        }
        let mb = total as f64 / 1e6;
        println!(
            "plain {:.0} MB/s, blobs {:.0} MB/s, ratio {:.2}",
            mb / best_plain,
            mb / best_blob,
            best_plain / best_blob
        );
    }
}
