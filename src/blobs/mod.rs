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
//!
//! **Two places for the files, one interface.** By default the files are in the folder above.
//! A district box can keep them on an S3-compatible bucket instead ([`s3`], chosen with
//! `folio serve --blobs s3://BUCKET` and remembered in `<data>/blobs-at`); uploads are then
//! staged in `blobs/tmp/` exactly as above and sent to the bucket before a row may name them.
//! Everything outside this module reads files through [`BlobStore::size_as_recorded`],
//! [`BlobStore::stream`], [`BlobStore::reader`] and [`BlobStore::local_copy`], and never knows
//! which place is in use. `folio blobs migrate` ([`migrate`]) moves a box between them.

mod collect;
mod in_flight;
pub mod migrate;
mod read;
pub mod s3;
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
pub use read::LocalCopy;
pub use s3::BlobsAt;
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
    /// The bucket the files are on, when they are not in `root`.
    remote: Option<Remote>,
}

/// A bucket, and which files are on it. The set is filled by listing the bucket at start and
/// kept as files are stored and removed (a box owns its bucket), so asking whether a file is
/// here, which every page with files does, costs no request.
#[derive(Debug)]
struct Remote {
    bucket: s3::Bucket,
    present: std::sync::Mutex<std::collections::HashSet<BlobHash>>,
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
    /// The bucket the files are on cannot be reached (or refused): nothing was stored, and
    /// what needs no file goes on working. The detail is for the log.
    #[error(
        "The school's file store cannot be reached just now. Try again in a minute; if it keeps happening, tell your school's IT person."
    )]
    Unavailable(String),
}

impl BlobError {
    /// For callers that speak `io::Error`: an unreachable bucket keeps its words.
    pub fn into_io(self) -> io::Error {
        match self {
            BlobError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
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
    /// Opens the files where this box keeps them (`<data>/blobs-at`, the folder when it was
    /// never said). See [`open_at`](Self::open_at).
    pub fn open(data_dir: &Path) -> Result<BlobStore, OpenError> {
        Self::open_at(data_dir, None, None)
    }

    /// Opens (creating as needed) `<data_dir>/blobs/`, deletes whatever a crash left in
    /// `blobs/tmp/`, and, when the files are on a bucket, connects to it and checks it. Call it
    /// once at start, before any upload begins.
    ///
    /// `wanted` is where `--blobs` says the files are. A box remembers where its files are, and
    /// moving them is `folio blobs migrate`'s job: a `wanted` place other than the remembered
    /// one is taken only by a box with no files yet, and refused otherwise. A bucket is
    /// reached as `settings` say, or else as the environment says ([`s3::S3Settings::from_env`]).
    pub fn open_at(
        data_dir: &Path,
        wanted: Option<&BlobsAt>,
        settings: Option<&s3::S3Settings>,
    ) -> Result<BlobStore, OpenError> {
        let store = Self::open_folder(data_dir)?;
        store.clear_tmp()?;
        let remembered = migrate::remembered(data_dir)?;
        let (at, switching) = match wanted {
            Some(wanted) if *wanted != remembered => {
                if remembered != BlobsAt::Folder || !store.all()?.is_empty() {
                    return Err(OpenError::Elsewhere { remembered, wanted: wanted.clone() });
                }
                (wanted.clone(), true)
            }
            _ => (remembered, false),
        };
        match &at {
            BlobsAt::Folder => {
                // Restored files are already where a folder box keeps them.
                let _ = fs::remove_file(data_dir.join(migrate::RESTORED_MARKER));
                Ok(store)
            }
            BlobsAt::S3 { bucket } => {
                let settings = match settings {
                    Some(given) => given.clone(),
                    None => s3::S3Settings::from_env(data_dir).map_err(OpenError::Settings)?,
                };
                let bucket = s3::Bucket::connect(bucket, &settings).map_err(OpenError::Settings)?;
                let remote = Self::with_bucket(data_dir, bucket)?;
                // Remembered only once the bucket answered: a mistyped name or a wrong key
                // leaves the box where it was.
                if switching {
                    migrate::remember(data_dir, &at)?;
                }
                // A restored backup's files, which the restore put in the folder, are sent up
                // (and checked) before anything is served. Only those: copies a migration
                // left in the folder stay untouched.
                let local = if data_dir.join(migrate::RESTORED_MARKER).exists() { store.all()? } else { Vec::new() };
                if !local.is_empty() {
                    tracing::info!(files = local.len(), "sending the files of a restored backup to the bucket");
                    let journal = data_dir.join("blobs-restored.done");
                    migrate::copy_all(&store, &remote, &journal, &mut |_, _, _, _| ())
                        .map_err(|e| OpenError::Settings(format!("cannot send restored files to the bucket: {e}")))?;
                    for hash in local {
                        store.remove(&hash)?;
                    }
                    let _ = fs::remove_file(journal);
                }
                let _ = fs::remove_file(data_dir.join(migrate::RESTORED_MARKER));
                Ok(remote)
            }
        }
    }

    /// The store on `bucket`, staging uploads in `<data_dir>/blobs/tmp/`.
    pub(crate) fn with_bucket(data_dir: &Path, bucket: s3::Bucket) -> Result<BlobStore, OpenError> {
        let folder = Self::open_folder(data_dir)?;
        let present = bucket.list().map_err(|e| OpenError::Settings(e.to_string()))?;
        let remote = Remote { bucket, present: std::sync::Mutex::new(present.into_iter().map(|(h, _)| h).collect()) };
        Ok(BlobStore {
            inner: Arc::new(Dirs {
                root: folder.inner.root.clone(),
                tmp: folder.inner.tmp.clone(),
                remote: Some(remote),
            }),
        })
    }

    /// The files where the box keeps them, for a command that may run beside a serving folio
    /// (`folio backup`, `folio bundle export`): unlike [`open`](Self::open), it leaves the
    /// uploads in progress in `blobs/tmp/` alone.
    pub fn attach(data_dir: &Path) -> Result<BlobStore, OpenError> {
        match migrate::remembered(data_dir)? {
            BlobsAt::Folder => Ok(Self::open_folder(data_dir)?),
            BlobsAt::S3 { bucket } => {
                let settings = s3::S3Settings::from_env(data_dir).map_err(OpenError::Settings)?;
                let bucket = s3::Bucket::connect(&bucket, &settings).map_err(OpenError::Settings)?;
                Self::with_bucket(data_dir, bucket)
            }
        }
    }

    /// The bucket the files are on, if they are not in the folder.
    pub fn bucket(&self) -> Option<&s3::Bucket> {
        self.inner.remote.as_ref().map(|r| &r.bucket)
    }

    /// Where the files are.
    pub fn at(&self) -> BlobsAt {
        match self.bucket() {
            None => BlobsAt::Folder,
            Some(bucket) => BlobsAt::S3 { bucket: bucket.name().to_string() },
        }
    }

    /// The folder store under `<data_dir>/blobs/`, whatever `blobs-at` says.
    pub(crate) fn open_folder(data_dir: &Path) -> io::Result<BlobStore> {
        let root = data_dir.join("blobs");
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp)?;
        Ok(BlobStore { inner: Arc::new(Dirs { root, tmp, remote: None }) })
    }

    /// Deletes whatever a crash left in `blobs/tmp/`: only at start, before any upload.
    fn clear_tmp(&self) -> io::Result<()> {
        let tmp = &self.inner.tmp;
        let mut removed = 0usize;
        for entry in fs::read_dir(tmp)? {
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
        Ok(())
    }

    /// Where the file with this hash is (or would be) stored in the folder store. Outside
    /// this module only tests use it: everything else reads through [`size_as_recorded`](Self::size_as_recorded),
    /// [`stream`](Self::stream), [`reader`](Self::reader) and [`local_copy`](Self::local_copy),
    /// which work wherever the files are.
    pub fn path(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.inner.root.join(&hex[..2]).join(hex)
    }

    /// Whether the file is here (work synced from another box arrives before its files).
    /// Costs no request on a bucket.
    pub fn contains(&self, hash: &BlobHash) -> bool {
        match &self.inner.remote {
            None => self.path(hash).is_file(),
            Some(remote) => remote.present.lock().unwrap().contains(hash),
        }
    }

    /// Deletes a stored file. A file that is not there is not an error.
    pub fn remove(&self, hash: &BlobHash) -> io::Result<()> {
        if let Some(remote) = &self.inner.remote {
            // Out of the set first: a store of the same content meanwhile (which the
            // collector's lock rules out for uploads, not for files from peers) puts it back
            // after its own PUT, so the set never says "gone" for an object that is there.
            remote.present.lock().unwrap().remove(hash);
            return remote.bucket.delete(hash).map_err(BlobError::into_io);
        }
        match fs::remove_file(self.path(hash)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// When this content was last stored: the time of its upload, refreshed (in the folder
    /// store) when the same content is uploaded again.
    pub fn modified(&self, hash: &BlobHash) -> io::Result<SystemTime> {
        if let Some(remote) = &self.inner.remote {
            return match remote.bucket.head_blocking(hash).map_err(BlobError::into_io)? {
                Some((_, time)) => Ok(time),
                None => Err(io::ErrorKind::NotFound.into()),
            };
        }
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
        if let Some(remote) = &self.inner.remote {
            let listed = remote.bucket.list().map_err(BlobError::into_io)?;
            return Ok(listed.into_iter().map(|(hash, _)| hash).collect());
        }
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
        match self.place(path, hash, size) {
            Err(BlobError::Io(e)) if e.raw_os_error() == Some(EXDEV) && self.inner.remote.is_none() => {
                let copy = self.inner.tmp.join(format!("{:032x}", rand::random::<u128>()));
                let copied = fs::copy(path, &copy).and_then(|_| File::open(&copy)?.sync_all()).map_err(map_io);
                let placed = copied.and_then(|()| self.place(&copy, hash, size));
                if placed.is_err() {
                    remove_quietly(&copy);
                } else {
                    remove_quietly(path);
                }
                placed
            }
            other => other,
        }?;
        Ok(StoredBlob { hash: *hash, size, metadata_removed: false })
    }

    /// Moves a fully written, fsynced temp file to its hash name (or drops it if that content
    /// is already stored) and makes the directory entry durable; on a bucket, sends it there
    /// and deletes it from the disk. Blocking.
    fn place(&self, tmp: &Path, hash: &BlobHash, size: u64) -> Result<(), BlobError> {
        if let Some(remote) = &self.inner.remote {
            remote.bucket.put_file(tmp, hash, size)?;
            remote.present.lock().unwrap().insert(*hash);
            return fs::remove_file(tmp).map_err(map_io);
        }
        self.place_in_folder(tmp, hash, size).map_err(map_io)
    }

    fn place_in_folder(&self, tmp: &Path, hash: &BlobHash, size: u64) -> io::Result<()> {
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

/// Why the files could not be opened where the box keeps them.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the files folder: {0}")]
    Io(#[from] io::Error),
    #[error(
        "this box's files are in {remembered}, not {wanted}. To move them, stop folio and run `folio blobs migrate --to {wanted}`; to keep them where they are, leave out --blobs."
    )]
    Elsewhere { remembered: BlobsAt, wanted: BlobsAt },
    #[error("{0}")]
    Settings(String),
}

/// Makes a directory's entries (a rename, a new file) survive power loss.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
