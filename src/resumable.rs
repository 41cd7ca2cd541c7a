//! Resumable uploads (tus 1.0) on disk: `<data>/uploads/<id>`, one file per unfinished
//! upload, holding exactly the bytes received so far. The row in `store::uploads` says how
//! many of them are durable (the offset); this module keeps the file in step with it.
//!
//! **Durability.** A PATCH streams its body to the end of the file through a blocking loop
//! (like a [`BlobWriter`](crate::blobs::BlobWriter): the async side never waits on the disk),
//! then `fdatasync`s the file; only then does the caller commit the new offset and answer.
//! So an offset a client was told survives a crash. Bytes written but not yet committed
//! (a crash mid-PATCH) are cut off again at the next start ([`reconcile`]) or the next
//! PATCH: the file never holds more than the offset counts. A PATCH whose client goes away
//! keeps what arrived: those bytes are synced and counted like a finished PATCH's.
//!
//! **One request at a time.** Every request about an upload first takes its lock
//! ([`Partials::hold`]). A PATCH still holding it (a client whose Wi-Fi dropped, and whose
//! connection the box has not noticed is dead) is asked to stop: it syncs and commits what
//! it has and lets go, so the client's HEAD on a new connection gets the true offset at once.
//!
//! **Digests.** BLAKE3 (the blob store's name for the bytes) and, if the client announced
//! one, SHA-256 are computed as the bytes are written, and kept in memory between PATCHes,
//! so the last byte needs no second pass over the file. After a restart, or a PATCH cut
//! back, the file is read once more at the end instead.
//!
//! **Finishing.** A finished file goes into the blob store by rename ([`BlobStore::adopt`])
//! when it is stored byte for byte, or through a [`BlobWriter`](crate::blobs::BlobWriter)
//! when it is an image whose metadata must be removed (the same filters as every upload).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::Digest;
use tokio::sync::{OwnedMutexGuard, mpsc};
use tokio_util::sync::CancellationToken;

use crate::blobs::{self, BlobError, BlobHash, BlobStore, StoredBlob, Writeback};
use crate::domain::upload::{Checksum, UploadId};
use crate::store::{Store, StoreError, uploads};

/// Writes reach the file in pieces of this size (fewer system calls than per network read).
const WRITE_BUF: usize = 1 << 20;
/// Network reads queued for the writing loop: a slow disk slows the client down rather than
/// filling memory (reads are at most 64 KiB, see `lib::MAX_READ_BUFFER`).
const QUEUE: usize = 16;
/// A PATCH that receives nothing for this long ends as if its client had gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How many of a file's first bytes decide its type.
pub const HEAD_BYTES: usize = 4096;

/// The unfinished uploads' directory and who is working on which upload. Cheap to clone.
#[derive(Clone)]
pub struct Partials {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    live: Mutex<HashMap<UploadId, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    /// The lock every request about the upload takes, guarding the digests so far.
    progress: Arc<tokio::sync::Mutex<Option<Hashes>>>,
    /// Cancelled to ask the current holder to finish up and let go.
    interrupt: Mutex<CancellationToken>,
}

/// Digests of the first `covered` bytes of an upload.
pub struct Hashes {
    covered: u64,
    blake3: Box<blake3::Hasher>,
    sha256: Option<sha2::Sha256>,
}

impl Hashes {
    fn new(sha256: bool) -> Self {
        Hashes { covered: 0, blake3: Box::default(), sha256: sha256.then(sha2::Sha256::new) }
    }

    fn update(&mut self, data: &[u8]) {
        self.blake3.update(data);
        if let Some(sha) = &mut self.sha256 {
            sha.update(data);
        }
        self.covered += data.len() as u64;
    }

    fn digests(self) -> Digests {
        Digests { blake3: *self.blake3.finalize().as_bytes(), sha256: self.sha256.map(|s| s.finalize().into()) }
    }
}

/// The digests of a whole upload, as received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digests {
    pub blake3: [u8; 32],
    pub sha256: Option<[u8; 32]>,
}

impl Digests {
    pub fn matches(&self, announced: &Checksum) -> bool {
        match announced {
            Checksum::Blake3(d) => *d == self.blake3,
            Checksum::Sha256(d) => self.sha256.as_ref() == Some(d),
        }
    }
}

/// The right to work on one upload, until dropped.
pub struct Held {
    partials: Partials,
    id: UploadId,
    slot: Arc<Slot>,
    progress: Option<OwnedMutexGuard<Option<Hashes>>>,
    token: CancellationToken,
}

impl Held {
    pub fn id(&self) -> UploadId {
        self.id
    }

    fn progress(&mut self) -> &mut Option<Hashes> {
        self.progress.as_mut().expect("held until dropped")
    }

    /// Forgets the digests kept for this upload (it is finished, deleted or expired).
    pub fn forget(&mut self) {
        *self.progress() = None;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let keep = self.progress.as_ref().is_some_and(|p| p.is_some());
        drop(self.progress.take());
        if keep {
            return;
        }
        // Nothing to remember and nobody else waiting: the slot goes, so the map only holds
        // uploads in progress. Anyone who wants it later comes through the map and makes a
        // new one.
        let mut live = self.partials.inner.live.lock().unwrap();
        if Arc::strong_count(&self.slot) == 2
            && live.get(&self.id).is_some_and(|s| Arc::ptr_eq(s, &self.slot))
            && self.slot.progress.try_lock().is_ok_and(|p| p.is_none())
        {
            live.remove(&self.id);
        }
    }
}

/// How a PATCH body ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The whole body arrived.
    Complete,
    /// The body went past `Upload-Length`: nothing of this PATCH was kept.
    TooMuch,
    /// The connection broke (or the body was shorter than announced).
    ClientGone,
    /// Another request for the same upload asked this one to stop.
    Interrupted,
    /// Nothing arrived for [`IDLE_TIMEOUT`].
    Idle,
}

/// What a PATCH added: `written` bytes, synced, to be committed as the new offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub written: u64,
    pub end: End,
}

impl Partials {
    /// Opens (creating) `<data>/uploads/`.
    pub fn open(data_dir: &Path) -> io::Result<Partials> {
        let dir = data_dir.join("uploads");
        fs::create_dir_all(&dir)?;
        Ok(Partials { inner: Arc::new(Inner { dir, live: Mutex::default() }) })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn path(&self, id: UploadId) -> PathBuf {
        self.inner.dir.join(id.to_string())
    }

    fn slot(&self, id: UploadId) -> Arc<Slot> {
        Arc::clone(self.inner.live.lock().unwrap().entry(id).or_default())
    }

    /// Waits for the upload's lock, asking a PATCH that holds it to stop first.
    pub async fn hold(&self, id: UploadId) -> Held {
        let slot = self.slot(id);
        slot.interrupt.lock().unwrap().cancel();
        let progress = Arc::clone(&slot.progress).lock_owned().await;
        let token = CancellationToken::new();
        *slot.interrupt.lock().unwrap() = token.clone();
        Held { partials: self.clone(), id, slot, progress: Some(progress), token }
    }

    /// The upload's lock if nobody holds it (housekeeping does not interrupt uploads).
    pub fn try_hold(&self, id: UploadId) -> Option<Held> {
        let slot = self.slot(id);
        let progress = Arc::clone(&slot.progress).try_lock_owned().ok();
        let token = slot.interrupt.lock().unwrap().clone();
        // Dropping a `Held` without progress cleans the slot up again.
        let held = Held { partials: self.clone(), id, slot, progress, token };
        held.progress.is_some().then_some(held)
    }

    /// Uploads whose digests are kept in memory (for tests and the curious).
    pub fn live_count(&self) -> usize {
        self.inner.live.lock().unwrap().len()
    }

    /// Makes the empty file of a new upload, durably. Blocking.
    pub fn create(&self, id: UploadId) -> io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(self.path(id))?.sync_all()?;
        blobs::sync_dir(&self.inner.dir)
    }

    /// Deletes an upload's file, if it is there. Blocking.
    pub fn remove(&self, id: UploadId) {
        blobs::remove_quietly(&self.path(id));
    }

    /// Free bytes on the disk that holds the uploads (for the non-root user folio runs as).
    pub fn free_bytes(&self) -> io::Result<u64> {
        free_bytes(&self.inner.dir)
    }

    /// Appends a PATCH body at `offset` (the durable offset), at most `room` bytes, and
    /// syncs what it wrote. Returns how many bytes to commit and how the body ended; a
    /// failure to write leaves the file as it was at `offset`.
    pub async fn append<E>(
        &self,
        held: &mut Held,
        offset: u64,
        room: u64,
        want_sha256: bool,
        mut body: impl Stream<Item = Result<Bytes, E>> + Unpin,
    ) -> Result<Appended, BlobError> {
        let hashes = match held.progress().take() {
            Some(h) if h.covered == offset => Some(h),
            _ if offset == 0 => Some(Hashes::new(want_sha256)),
            // After a restart nothing is known of the bytes so far: the end reads them again.
            _ => None,
        };
        let path = self.path(held.id);
        let open_path = path.clone();
        let file = tokio::task::spawn_blocking(move || open_at(&open_path, offset))
            .await
            .map_err(|e| BlobError::Io(io::Error::other(e)))?
            .map_err(blobs::map_io)?;
        let (to_disk, mut queue) = mpsc::channel::<Bytes>(QUEUE);
        let writer = tokio::task::spawn_blocking(move || {
            // The disk starts on each piece while the next arrives (see `blobs::Writeback`).
            let mut out = BufWriter::with_capacity(WRITE_BUF, Writeback::new(file, offset));
            let mut hashes = hashes;
            let mut result = Ok(());
            while let Some(data) = queue.blocking_recv() {
                if let Err(e) = out.write_all(&data) {
                    result = Err(e);
                    break;
                }
                if let Some(h) = &mut hashes {
                    h.update(&data);
                }
            }
            // What was received is made durable before anyone is told about it.
            let result = result.and_then(|()| out.flush()).and_then(|()| out.get_ref().sync_data());
            (hashes, result)
        });

        let cancel = held.token.clone();
        let mut written = 0u64;
        let end = loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => break End::Interrupted,
                next = tokio::time::timeout(IDLE_TIMEOUT, body.next()) => next,
            };
            let data = match next {
                Err(_) => break End::Idle,
                Ok(None) => break End::Complete,
                Ok(Some(Err(_))) => break End::ClientGone,
                Ok(Some(Ok(data))) => data,
            };
            if data.len() as u64 > room - written {
                break End::TooMuch;
            }
            written += data.len() as u64;
            if to_disk.send(data).await.is_err() {
                // The loop stopped on a write error, which it reports below.
                break End::Complete;
            }
        };
        drop(to_disk);
        let (hashes, result) = writer.await.map_err(|e| BlobError::Io(io::Error::other(e)))?;
        match (result, end) {
            (Err(e), _) => {
                cut_back(&path, offset).await;
                Err(blobs::map_io(e))
            }
            (Ok(()), End::TooMuch) => {
                cut_back(&path, offset).await;
                Ok(Appended { written: 0, end })
            }
            (Ok(()), end) => {
                *held.progress() = hashes;
                Ok(Appended { written, end })
            }
        }
    }

    /// The digests of the whole upload: from memory if they cover it, else by reading it.
    pub async fn digests(&self, held: &mut Held, length: u64, want_sha256: bool) -> io::Result<Digests> {
        match held.progress().take() {
            Some(h) if h.covered == length && (h.sha256.is_some() || !want_sha256) => return Ok(h.digests()),
            _ => {}
        }
        let path = self.path(held.id);
        tokio::task::spawn_blocking(move || {
            let mut file = File::open(path)?;
            let mut hashes = Hashes::new(want_sha256);
            let mut buf = vec![0u8; WRITE_BUF];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hashes.update(&buf[..n]);
            }
            if hashes.covered != length {
                return Err(io::Error::other(format!("the upload holds {} bytes, not {length}", hashes.covered)));
            }
            Ok(hashes.digests())
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Moves a finished upload's file into the blob store (by rename, or through the
    /// metadata filters for pictures and videos: `blobs::may_strip`) and returns what was
    /// stored and the file's first bytes. The upload's file is gone afterwards.
    pub async fn store(
        &self,
        blobs: &BlobStore,
        id: UploadId,
        digests: &Digests,
        length: u64,
    ) -> Result<(StoredBlob, Vec<u8>), BlobError> {
        let path = self.path(id);
        let head_path = path.clone();
        let head = tokio::task::spawn_blocking(move || -> io::Result<Vec<u8>> {
            let mut head = Vec::with_capacity(HEAD_BYTES);
            File::open(head_path)?.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
            Ok(head)
        })
        .await
        .map_err(|e| BlobError::Io(io::Error::other(e)))??;
        if blobs::may_strip(&head) {
            use tokio::io::AsyncReadExt;
            let mut writer = blobs.writer(u64::MAX)?;
            let mut file = tokio::fs::File::open(&path).await?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                writer.write(&buf[..n]).await?;
            }
            let stored = writer.finish().await?;
            let gone = path.clone();
            let _ = tokio::task::spawn_blocking(move || blobs::remove_quietly(&gone)).await;
            return Ok((stored, head));
        }
        let blobs = blobs.clone();
        let hash = BlobHash(digests.blake3);
        let stored = tokio::task::spawn_blocking(move || blobs.adopt(&path, &hash, length))
            .await
            .map_err(|e| BlobError::Io(io::Error::other(e)))??;
        Ok((stored, head))
    }
}

/// Opens an upload's file for writing at `offset`, cutting off anything past it (bytes a
/// crash or a failed PATCH left uncommitted).
fn open_at(path: &Path, offset: u64) -> io::Result<File> {
    use std::io::{Seek, SeekFrom};
    let mut file = OpenOptions::new().write(true).open(path)?;
    let len = file.metadata()?.len();
    if len < offset {
        return Err(io::Error::other(format!(
            "{} holds {len} bytes, fewer than the {offset} recorded",
            path.display()
        )));
    }
    if len > offset {
        file.set_len(offset)?;
    }
    file.seek(SeekFrom::Start(offset))?;
    Ok(file)
}

/// Cuts an upload's file back to its durable offset after a PATCH that is not kept.
async fn cut_back(path: &Path, offset: u64) {
    let path = path.to_path_buf();
    let cut = tokio::task::spawn_blocking(move || {
        let file = OpenOptions::new().write(true).open(&path)?;
        file.set_len(offset)?;
        file.sync_data()
    })
    .await;
    if let Ok(Err(e)) = cut {
        // The next PATCH (or start) cuts it back too: the offset in the store is the truth.
        tracing::warn!("could not cut an upload back to {offset} bytes: {e}");
    }
}

/// Free bytes for unprivileged users on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> io::Result<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is a valid C string and `stat` a writable statvfs for the call.
        if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
            return Err(io::Error::last_os_error());
        }
        #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
        Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(u64::MAX)
    }
}

/// What [`reconcile`] found and did at start.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub kept: usize,
    pub expired: usize,
    /// Rows whose bytes are gone (a restored backup, a crash between storing a finished file
    /// and recording it), removed.
    pub lost: usize,
    /// Files cut back to their durable offset.
    pub cut: usize,
    /// Files with no row, removed.
    pub strays: usize,
}

/// Brings the uploads' rows and files into agreement at start, before anything is served:
/// expired uploads go, rows whose bytes are gone go, files without a row go, and a file
/// longer than its durable offset is cut back to it. An upload that can still be resumed
/// keeps every byte its client was told about. Blocking.
pub fn reconcile(store: &Store, partials: &Partials, blobs: &BlobStore, now_ms: u64) -> Result<Reconciled, StoreError> {
    let rows = store.read(uploads::all)?;
    let mut found = Reconciled::default();
    let mut remove = Vec::new();
    let mut lower = Vec::new();
    for (id, upload) in &rows {
        let path = partials.path(*id);
        if upload.expired(now_ms) {
            found.expired += 1;
            remove.push(*id);
            continue;
        }
        if let Some(finished) = &upload.finished {
            let there = BlobHash::from_hex(&finished.hash).is_some_and(|h| blobs.contains(&h));
            if there {
                found.kept += 1;
            } else {
                found.lost += 1;
                remove.push(*id);
            }
            continue;
        }
        match fs::metadata(&path).map(|m| m.len()) {
            Err(_) => {
                found.lost += 1;
                remove.push(*id);
            }
            Ok(len) if len > upload.offset => {
                OpenOptions::new().write(true).open(&path).and_then(|f| {
                    f.set_len(upload.offset)?;
                    f.sync_data()
                })?;
                found.cut += 1;
                found.kept += 1;
            }
            Ok(len) if len < upload.offset => {
                // Cannot happen with a file system that keeps fsynced data; if it does, the
                // client resumes from what is really there.
                tracing::warn!(upload = %id, len, offset = upload.offset, "an upload holds fewer bytes than recorded");
                lower.push((*id, len));
                found.kept += 1;
            }
            Ok(_) => found.kept += 1,
        }
    }
    if !remove.is_empty() || !lower.is_empty() {
        store.write(|tx| {
            for id in &remove {
                uploads::remove(tx.txn(), *id)?;
            }
            for (id, len) in &lower {
                if let Some(mut u) = uploads::get(tx.txn(), *id)? {
                    u.offset = *len;
                    uploads::put(tx.txn(), *id, &u)?;
                }
            }
            Ok::<_, StoreError>(())
        })?;
    }
    for id in &remove {
        partials.remove(*id);
    }
    let known: std::collections::HashSet<UploadId> =
        rows.iter().map(|(id, _)| *id).filter(|id| !remove.contains(id)).collect();
    for entry in fs::read_dir(partials.dir())? {
        let entry = entry?;
        let Some(id) = entry.file_name().to_str().and_then(|n| n.parse::<UploadId>().ok()) else { continue };
        if !known.contains(&id) {
            blobs::remove_quietly(&entry.path());
            found.strays += 1;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect::<Vec<_>>())
    }

    fn setup() -> (tempfile::TempDir, Partials) {
        let dir = tempfile::tempdir().unwrap();
        let partials = Partials::open(dir.path()).unwrap();
        (dir, partials)
    }

    #[tokio::test]
    async fn appends_keep_digests_between_requests_and_refuse_too_much() {
        let (_dir, partials) = setup();
        let id = UploadId::random();
        partials.create(id).unwrap();
        let mut held = partials.hold(id).await;
        let a = partials.append(&mut held, 0, 10, true, chunks(&[b"hel", b"lo"])).await.unwrap();
        assert_eq!(a, Appended { written: 5, end: End::Complete });
        drop(held);
        assert_eq!(partials.live_count(), 1, "digests are kept between PATCHes");

        let mut held = partials.hold(id).await;
        let too_much = partials.append(&mut held, 5, 5, true, chunks(&[b"wor", b"ld!"])).await.unwrap();
        assert_eq!(too_much, Appended { written: 0, end: End::TooMuch });
        assert_eq!(fs::read(partials.path(id)).unwrap(), b"hello", "nothing of a refused PATCH is kept");
        let b = partials.append(&mut held, 5, 5, true, chunks(&[b"world"])).await.unwrap();
        assert_eq!(b.written, 5);
        let digests = partials.digests(&mut held, 10, true).await.unwrap();
        assert_eq!(digests.blake3, *blake3::hash(b"helloworld").as_bytes());
        assert_eq!(digests.sha256, Some(sha2::Sha256::digest(b"helloworld").into()));
        assert!(digests.matches(&Checksum::Blake3(digests.blake3)));
        assert!(!digests.matches(&Checksum::Sha256([0; 32])));
        held.forget();
        drop(held);
        assert_eq!(partials.live_count(), 0);
    }

    #[tokio::test]
    async fn a_broken_body_keeps_what_arrived_and_bytes_past_the_offset_are_cut() {
        let (_dir, partials) = setup();
        let id = UploadId::random();
        partials.create(id).unwrap();
        let mut held = partials.hold(id).await;
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err(io::Error::other("reset"))]);
        let a = partials.append(&mut held, 0, 100, false, broken).await.unwrap();
        assert_eq!(a, Appended { written: 3, end: End::ClientGone });
        // As a crash mid-PATCH leaves it: bytes past the durable offset.
        fs::OpenOptions::new().append(true).open(partials.path(id)).unwrap().write_all(b"junk").unwrap();
        let b = partials.append(&mut held, 3, 97, false, chunks(&[b"def"])).await.unwrap();
        assert_eq!(b.written, 3);
        assert_eq!(fs::read(partials.path(id)).unwrap(), b"abcdef");
        // The digests still cover exactly the file.
        let digests = partials.digests(&mut held, 6, false).await.unwrap();
        assert_eq!(digests.blake3, *blake3::hash(b"abcdef").as_bytes());
    }

    #[tokio::test]
    async fn a_new_request_interrupts_a_patch_that_holds_the_upload() {
        let (_dir, partials) = setup();
        let id = UploadId::random();
        partials.create(id).unwrap();
        let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
        let p = partials.clone();
        let patch = tokio::spawn(async move {
            let mut held = p.hold(id).await;
            p.append(&mut held, 0, 100, false, tokio_stream_from(rx)).await.unwrap()
        });
        tx.send(Ok(Bytes::from_static(b"12345"))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(partials.try_hold(id).is_none(), "busy");
        // A HEAD on a new connection: the stuck PATCH gives way and counts its bytes.
        let _head = partials.hold(id).await;
        let appended = patch.await.unwrap();
        assert_eq!(appended, Appended { written: 5, end: End::Interrupted });
        drop(tx);
    }

    fn tokio_stream_from(
        mut rx: mpsc::Receiver<Result<Bytes, io::Error>>,
    ) -> impl Stream<Item = Result<Bytes, io::Error>> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    #[tokio::test]
    async fn finished_files_are_renamed_into_the_store_and_images_are_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let partials = Partials::open(dir.path()).unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        // Plain bytes: renamed.
        let id = UploadId::random();
        fs::write(partials.path(id), b"plain words").unwrap();
        let digests = Digests { blake3: *blake3::hash(b"plain words").as_bytes(), sha256: None };
        let (stored, head) = partials.store(&blobs, id, &digests, 11).await.unwrap();
        assert_eq!(head, b"plain words");
        assert_eq!(stored.hash.0, digests.blake3);
        assert_eq!(fs::read(blobs.path(&stored.hash)).unwrap(), b"plain words");
        assert!(!partials.path(id).exists());

        // A JPEG with an APP1 (EXIF) segment: filtered on the way in.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08];
        jpeg.extend_from_slice(b"GPS!!!");
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]);
        let id = UploadId::random();
        fs::write(partials.path(id), &jpeg).unwrap();
        let digests = Digests { blake3: *blake3::hash(&jpeg).as_bytes(), sha256: None };
        let (stored, _) = partials.store(&blobs, id, &digests, jpeg.len() as u64).await.unwrap();
        assert!(stored.metadata_removed);
        let kept = fs::read(blobs.path(&stored.hash)).unwrap();
        assert!(!kept.windows(3).any(|w| w == b"GPS"));
        assert!(!partials.path(id).exists());
        assert_eq!(blobs.tmp_count(), 0);
    }

    #[tokio::test]
    async fn reconcile_keeps_what_can_be_resumed_and_removes_the_rest() {
        use crate::domain::UserId;
        use crate::store::uploads::{Finished, Upload};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let partials = Partials::open(dir.path()).unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let row = |offset, expires_ms, finished| Upload {
            owner: UserId::new(),
            length: 100,
            offset,
            metadata: String::new(),
            name: "f".into(),
            checksum: None,
            created_ms: 0,
            expires_ms,
            finished,
        };
        let (resumable, longer, expired, missing, gone_blob) =
            (UploadId::random(), UploadId::random(), UploadId::random(), UploadId::random(), UploadId::random());
        let stray = UploadId::random();
        fs::write(partials.path(resumable), b"0123").unwrap();
        fs::write(partials.path(longer), b"0123456789").unwrap();
        fs::write(partials.path(expired), b"01").unwrap();
        fs::write(partials.path(stray), b"?").unwrap();
        fs::write(partials.dir().join("not-an-upload"), b"").unwrap();
        let nowhere = Finished { hash: "cd".repeat(32), size: 100, content_type: "x".into() };
        store
            .write(|tx| {
                uploads::put(tx.txn(), resumable, &row(4, 1_000, None))?;
                uploads::put(tx.txn(), longer, &row(6, 1_000, None))?;
                uploads::put(tx.txn(), expired, &row(2, 10, None))?;
                uploads::put(tx.txn(), missing, &row(2, 1_000, None))?;
                uploads::put(tx.txn(), gone_blob, &row(100, 1_000, Some(nowhere.clone())))
            })
            .unwrap();
        let found = reconcile(&store, &partials, &blobs, 500).unwrap();
        assert_eq!(found, Reconciled { kept: 2, expired: 1, lost: 2, cut: 1, strays: 1 });
        assert_eq!(fs::read(partials.path(resumable)).unwrap(), b"0123");
        assert_eq!(fs::read(partials.path(longer)).unwrap(), b"012345");
        assert!(!partials.path(expired).exists() && !partials.path(stray).exists());
        assert!(partials.dir().join("not-an-upload").exists(), "only upload files are touched");
        let left: Vec<UploadId> = store.read(uploads::all).unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(left.len(), 2);
        assert!(left.contains(&resumable) && left.contains(&longer));
    }

    #[test]
    fn free_bytes_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(free_bytes(&dir.path().join("missing")).is_err());
    }
}
