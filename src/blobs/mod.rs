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

mod collect;
mod in_flight;
#[cfg(test)]
mod tests;
mod writeback;
mod writer;

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::metadata::Filter;
pub use crate::metadata::may_strip;
pub use in_flight::{InFlight, InFlightGuard};
pub(crate) use writeback::Writeback;
pub use writer::BlobWriter;
use writer::IoState;
pub(crate) use writer::remove_quietly;

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
