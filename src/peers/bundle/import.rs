//! Reading a bundle: one streaming pass of checks and staging, the signature checked against
//! the pinned certificate, then files into the blob store and pages applied under the
//! pairing's grant.

use base64::Engine;
use std::io::Write;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use super::{
    BundleError, ClockAheadView, END, End, FILE, FORMAT, HEADER, Header, ImportReport, MAGIC, MAX_END_RECORD,
    MAX_JSON_RECORD, MAX_SIGNATURE, PAGE, SIGNATURE, SIGNED_PREFIX, count, files_named, is_hash_name,
};
use crate::blobs::{BlobHash, BlobStore};
use crate::peers::{BoxId, Peer};
use crate::store::{Store, StoreError, peers as store_peers};
use crate::sync::{self, Page, SyncError};

/// Where an import runs.
pub struct Importer<'a> {
    pub store: &'a Store,
    pub blobs: &'a BlobStore,
    /// The data directory: the staging folder is made inside it (on the blob store's disk,
    /// so staged files are renamed into the store, not copied).
    pub data_dir: &'a Path,
    /// This box.
    pub me: BoxId,
    /// The largest bundle accepted.
    pub max_bytes: u64,
}

/// The data directories an import is running in: one at a time per box, so staging folders
/// of an earlier, interrupted import can be removed when the next starts.
static IMPORTING: std::sync::Mutex<BTreeSet<PathBuf>> = std::sync::Mutex::new(BTreeSet::new());

/// Holds a data directory's one import slot until dropped.
struct OneImport(PathBuf);

impl OneImport {
    fn claim(data_dir: &Path) -> Result<OneImport, BundleError> {
        let mut running = IMPORTING.lock().unwrap_or_else(|e| e.into_inner());
        if !running.insert(data_dir.to_path_buf()) {
            return Err(BundleError::Busy);
        }
        Ok(OneImport(data_dir.to_path_buf()))
    }
}

impl Drop for OneImport {
    fn drop(&mut self) {
        IMPORTING.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.0);
    }
}

const STAGING_PREFIX: &str = ".bundle-import-";

impl Importer<'_> {
    /// Reads a bundle from `input` and applies it (see the module doc). `declared` is the
    /// size the sender announced, if any: a bundle over the limit is refused before it is read.
    pub fn import(&self, input: &mut dyn Read, declared: Option<u64>) -> Result<ImportReport, BundleError> {
        if declared.is_some_and(|size| size > self.max_bytes) {
            return Err(BundleError::TooLarge { limit: self.max_bytes });
        }
        let _one = OneImport::claim(self.data_dir)?;
        remove_stale_staging(self.data_dir);
        let staging = Staging::new(self.data_dir)?;
        let read = self.read(input, &staging)?;
        self.apply(read, &staging)
    }

    /// The first pass, and the only read of the bundle: check, stage, verify the signature.
    fn read(&self, input: &mut dyn Read, staging: &Staging) -> Result<Read1, BundleError> {
        let mut input = Input { inner: input, hasher: blake3::Hasher::new(), read: 0, limit: self.max_bytes };
        let mut magic = [0u8; 8];
        input
            .exact(&mut magic)
            .map_err(|e| if matches!(e, BundleError::Truncated) { BundleError::NotABundle } else { e })?;
        if &magic != MAGIC {
            return Err(BundleError::NotABundle);
        }
        let version = u32::from_be_bytes(input.array()?);
        if version != FORMAT {
            return Err(if version > FORMAT {
                BundleError::NewerFormat(version)
            } else {
                BundleError::Damaged(format!("unknown format {version}"))
            });
        }
        let (kind, len) = input.record_head()?;
        if kind != HEADER {
            return Err(BundleError::Damaged("it does not start with its header".into()));
        }
        let header: Header = input.json(len, MAX_JSON_RECORD, "header")?;
        if header.source == self.me {
            return Err(BundleError::FromSelf);
        }
        if header.target != self.me {
            return Err(BundleError::WrongBox { target: header.target.short(), me: self.me.short() });
        }
        let peer = self
            .store
            .read(|r| store_peers::peer(r, header.source))?
            .ok_or_else(|| BundleError::NotPaired(header.source.short()))?;
        let cert = base64::engine::general_purpose::STANDARD.decode(&header.source_cert).unwrap_or_default();
        if cert != peer.cert_der {
            return Err(BundleError::KeyChanged(peer.id.short()));
        }

        let mut pages_file = BufWriter::new(
            File::create(staging.dir.join("pages")).map_err(BundleError::io("cannot stage the bundle"))?,
        );
        let mut named: HashSet<String> = HashSet::new();
        let mut staged: HashMap<String, (BlobHash, PathBuf, u64)> = HashMap::new();
        let mut seen = End::default();
        let mut files_already_here = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        let end = loop {
            let (kind, len) = input.record_head()?;
            match kind {
                PAGE => {
                    if len > MAX_JSON_RECORD {
                        return Err(BundleError::Damaged(format!("a page of {len} bytes")));
                    }
                    let raw = input.body(len)?;
                    let page: Page = serde_json::from_slice(&raw)
                        .map_err(|e| BundleError::Damaged(format!("a page cannot be read ({e})")))?;
                    if peer.grant(page.school).is_none() {
                        return Err(BundleError::Refused {
                            source_box: peer.id.short(),
                            error: Box::new(SyncError::WrongSchool),
                            done: "Nothing of it was applied.".into(),
                        });
                    }
                    for op in &page.ops {
                        named.extend(files_named(&op.change).into_iter().map(str::to_owned));
                    }
                    seen.pages += 1;
                    seen.ops += page.ops.len() as u64;
                    pages_file
                        .write_all(&len.to_be_bytes())
                        .and_then(|()| pages_file.write_all(&raw))
                        .map_err(BundleError::io("cannot stage the bundle"))?;
                }
                FILE => {
                    let name_len = u8::from_be_bytes(input.array()?) as u64;
                    let Some(size) = len.checked_sub(1 + name_len) else {
                        return Err(BundleError::Damaged("a file record is shorter than its name".into()));
                    };
                    let mut name = vec![0u8; name_len as usize];
                    input.exact(&mut name)?;
                    let name = String::from_utf8_lossy(&name).into_owned();
                    if !is_hash_name(&name) {
                        return Err(BundleError::BadFileName(name));
                    }
                    let hash = BlobHash::from_hex(&name).expect("checked to be a hash");
                    // Only files the bundle's own operations name, and only once: anything
                    // else is hashed (the signature covers it) and dropped.
                    let wanted = named.contains(&name) && !self.blobs.contains(&hash) && !staged.contains_key(&name);
                    if !wanted {
                        files_already_here += 1;
                    }
                    let path = staging.dir.join(&name);
                    let mut file = if wanted {
                        Some(File::create(&path).map_err(BundleError::io("cannot stage a file of the bundle"))?)
                    } else {
                        None
                    };
                    let mut hasher = blake3::Hasher::new();
                    let mut left = size;
                    while left > 0 {
                        let want = left.min(buf.len() as u64) as usize;
                        input.exact(&mut buf[..want])?;
                        hasher.update(&buf[..want]);
                        if let Some(file) = &mut file {
                            file.write_all(&buf[..want])
                                .map_err(BundleError::io("cannot stage a file of the bundle"))?;
                        }
                        left -= want as u64;
                    }
                    if hasher.finalize().as_bytes() != &hash.0 {
                        return Err(BundleError::Damaged(format!(
                            "file {name} does not hold the bytes its name promises"
                        )));
                    }
                    if let Some(file) = file {
                        file.sync_all().map_err(BundleError::io("cannot stage a file of the bundle"))?;
                        staged.insert(name, (hash, path, size));
                    }
                    seen.files += 1;
                    seen.file_bytes += size;
                }
                END => break input.json::<End>(len, MAX_END_RECORD, "end")?,
                SIGNATURE => return Err(BundleError::Damaged("it has no end record".into())),
                other => return Err(BundleError::Damaged(format!("unknown record {other:#04x}"))),
            }
        };
        if end != seen {
            return Err(BundleError::Damaged("it holds other records than its end says".into()));
        }
        let digest = input.hasher.finalize();
        let (kind, len) = input.record_head()?;
        if kind != SIGNATURE || len > MAX_SIGNATURE {
            return Err(BundleError::Damaged("it has no signature".into()));
        }
        let mut signature = vec![0u8; len as usize];
        input.exact_unhashed(&mut signature)?;
        let mut after = [0u8; 1];
        if input.inner.read(&mut after).map_err(BundleError::io("cannot read the bundle"))? != 0 {
            return Err(BundleError::Damaged("something follows its signature".into()));
        }
        let mut message = SIGNED_PREFIX.to_vec();
        message.extend_from_slice(digest.as_bytes());
        if !crate::peers::identity::verify(&peer.cert_der, &message, &signature) {
            return Err(BundleError::BadSignature(peer.id.short()));
        }
        pages_file.flush().map_err(BundleError::io("cannot stage the bundle"))?;
        Ok(Read1 { header, peer, staged, files_already_here })
    }

    /// The second step, once the signature holds: files into the store, then the pages.
    fn apply(&self, read: Read1, staging: &Staging) -> Result<ImportReport, BundleError> {
        let Read1 { header, peer, mut staged, files_already_here } = read;
        let mut report = ImportReport { source: Some(peer.id), files_already_here, ..ImportReport::default() };
        let me_replica = self.store.replica();
        let mut pages = BufReader::new(
            File::open(staging.dir.join("pages")).map_err(BundleError::io("cannot read the staged bundle"))?,
        );
        let mut clocks = BTreeMap::new();
        loop {
            let mut len = [0u8; 8];
            match pages.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(BundleError::io("cannot read the staged bundle")(e)),
            }
            let mut raw = vec![0u8; u64::from_be_bytes(len) as usize];
            pages.read_exact(&mut raw).map_err(BundleError::io("cannot read the staged bundle"))?;
            let mut page: Page = serde_json::from_slice(&raw)
                .map_err(|e| BundleError::Damaged(format!("a page cannot be read ({e})")))?;
            // Our own operations, sent back by a box that did not know our replica id (it
            // never heard our positions): we have them all; applying them would be refused.
            page.ops.retain(|op| op.id.replica != me_replica);
            page.spans.retain(|span| span.origin != me_replica);
            let refused = |error: SyncError, report: &ImportReport| BundleError::Refused {
                source_box: peer.id.short(),
                error: Box::new(error),
                done: if report.pages == 0 {
                    "Nothing of it was applied.".into()
                } else {
                    format!("The {} before it were applied.", count(report.pages, "page"))
                },
            };
            let Some(grant) = peer.grant(page.school) else {
                return Err(refused(SyncError::WrongSchool, &report));
            };
            if page.spans.is_empty() && page.ops.is_empty() && page.wholly_inside.is_none() {
                continue;
            }
            // The page's files first, so no row ever names a missing file; files of pages
            // that are refused are never stored.
            for op in &page.ops {
                for name in files_named(&op.change) {
                    if let Some((hash, path, size)) = staged.remove(name) {
                        self.store_file(&path, &hash, size)?;
                        report.files_received += 1;
                        report.file_bytes_received += size;
                    }
                }
            }
            match sync::apply_page(self.store, &page, &grant) {
                Ok(applied) => report.add(&applied, &mut clocks),
                Err(SyncError::Store(e)) => return Err(BundleError::Store(e)),
                Err(e) => return Err(refused(e, &report)),
            }
        }
        report.clocks_ahead =
            clocks.into_iter().map(|(origin, ahead_ms)| ClockAheadView { origin, ahead_ms }).collect();
        // What the source holds, so the next bundle back carries only what it lacks.
        self.store.write(|tx| {
            for positions in &header.positions {
                if peer.grant(positions.school).is_some() && positions.replica != me_replica {
                    store_peers::put_peer_positions(tx.txn(), peer.id, positions)?;
                }
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(report)
    }
}

impl Importer<'_> {
    /// Stored byte for byte under the hash its bytes have (checked while reading): another
    /// box's stored files, whose metadata that box already removed.
    fn store_file(&self, path: &Path, hash: &BlobHash, size: u64) -> Result<(), BundleError> {
        self.blobs.adopt(path, hash, size).map(|_| ()).map_err(|e| match e {
            crate::blobs::BlobError::DiskFull => BundleError::DiskFull,
            other => {
                BundleError::Io { what: "cannot store a file of the bundle".into(), source: io::Error::other(other) }
            }
        })
    }
}

struct Read1 {
    header: Header,
    peer: Peer,
    /// Files to store, by name: each just before the first page naming it is applied.
    staged: HashMap<String, (BlobHash, PathBuf, u64)>,
    files_already_here: u64,
}

/// A folder inside the data directory for one import, removed when it ends however it ends.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn new(data_dir: &Path) -> Result<Staging, BundleError> {
        let dir = data_dir.join(format!("{STAGING_PREFIX}{:08x}", rand::random::<u32>()));
        fs::create_dir(&dir).map_err(BundleError::io(format!("cannot write into {}", data_dir.display())))?;
        Ok(Staging { dir })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn remove_stale_staging(data_dir: &Path) {
    for entry in fs::read_dir(data_dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The bundle as it is read: hashed up to the signature, counted against the limit.
struct Input<'a> {
    inner: &'a mut dyn Read,
    hasher: blake3::Hasher,
    read: u64,
    limit: u64,
}

impl Input<'_> {
    fn exact_unhashed(&mut self, buf: &mut [u8]) -> Result<(), BundleError> {
        self.read += buf.len() as u64;
        if self.read > self.limit {
            return Err(BundleError::TooLarge { limit: self.limit });
        }
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => BundleError::Truncated,
            _ => BundleError::io("cannot read the bundle")(e),
        })
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), BundleError> {
        self.exact_unhashed(buf)?;
        self.hasher.update(buf);
        Ok(())
    }

    /// A record's body of `len` bytes, read a piece at a time: the buffer grows with what
    /// actually arrives, so a head that declares 64 MiB in front of a few bytes (a damaged or
    /// hostile bundle) costs a piece, not 64 MiB.
    fn body(&mut self, len: u64) -> Result<Vec<u8>, BundleError> {
        const PIECE: u64 = 256 * 1024;
        let mut raw = Vec::new();
        while (raw.len() as u64) < len {
            let start = raw.len();
            let piece = (len - start as u64).min(PIECE) as usize;
            raw.resize(start + piece, 0);
            self.exact(&mut raw[start..])?;
        }
        Ok(raw)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BundleError> {
        let mut a = [0u8; N];
        self.exact(&mut a)?;
        Ok(a)
    }

    /// A record's kind and length. The signature's own head is not part of what it signs.
    fn record_head(&mut self) -> Result<(u8, u64), BundleError> {
        let mut head = [0u8; 9];
        self.exact_unhashed(&mut head)?;
        if head[0] != SIGNATURE {
            self.hasher.update(&head);
        }
        Ok((head[0], u64::from_be_bytes(head[1..].try_into().expect("8 bytes"))))
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, len: u64, max: u64, what: &str) -> Result<T, BundleError> {
        if len > max {
            return Err(BundleError::Damaged(format!("its {what} is {len} bytes long")));
        }
        let raw = self.body(len)?;
        serde_json::from_slice(&raw).map_err(|e| BundleError::Damaged(format!("its {what} cannot be read ({e})")))
    }
}
