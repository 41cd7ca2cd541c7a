//! USB bundles: sync for sites with no network between them. `folio bundle export` writes
//! the operations (and the files they name) that a paired box lacks into one file, signed by
//! this box; `folio bundle import` (or the admin page) checks it and applies it on the other
//! box, exactly as a network sync round would have.
//!
//! # What goes in
//!
//! For each school the pairing's scope shares ([`grants`]), the pages `sync::ops_missing`
//! makes against the positions the peer last reported (`PEER_SCHOOL_TO_POSITIONS`, written by
//! a network sync round or by importing a bundle *from* that peer; none known means
//! everything in scope), asked for again and again until nothing is left. Then every file
//! those operations name that this box holds. The header also carries this box's own
//! positions (within the grant), so when the other box imports the bundle it learns what
//! this box holds, and its next bundle back carries only what is new: a stick carried to
//! and fro keeps both boxes in step without a network.
//!
//! # The format (version 1)
//!
//! ```text
//! "FOLIOBDL"                 8 bytes, magic
//! version                    u32, big-endian (1)
//! records, each: kind (1 byte), length (u64, big-endian), payload of that length
//!   'H' header, JSON, first: source box id and certificate, target box id, created (ms),
//!       folio version, the source's positions per school
//!   'P' a page (`sync::Page` as JSON), in the order they were made
//!   'F' a file: name length (1 byte), name, the bytes. The name is the BLAKE3 hash of the
//!       bytes in 64 lowercase hex digits, never a path.
//!   'E' the end, JSON: how many pages, operations, files and file bytes came before
//!   'S' the signature, last: ECDSA P-256 (`Identity::sign`) over
//!       "folio bundle v1\0" followed by the BLAKE3 hash of every byte before this record
//! ```
//!
//! Lengths make the file self-describing and let a reader skip nothing blindly: a record
//! larger than its kind allows (a header or page over 64 MiB) is refused before it is read,
//! and one within it is read a piece at a time, so memory grows with the bytes that arrive,
//! not with the length a record declares.
//!
//! # Importing
//!
//! The file is read once, start to end, never held in memory (files can be hundreds of
//! megabytes): the header is checked first (magic, version, meant for this box, from a
//! paired box whose pinned certificate it names), pages are checked as JSON and copied to a
//! staging folder inside the data directory, files are hashed as they stream and must match
//! their names (files already here, or named by no operation in the bundle, are only hashed).
//! Only when the last byte is in and the signature matches the *pinned* certificate of the
//! source is anything applied: each page goes through `sync::apply_page` with the grant the
//! pairing gives the source (so a bundle can carry nothing the network could not), its
//! staged files moved into the blob store just before it (so no row ever names a missing
//! file, and a refused page leaves no files behind). A page for a school the pairing does
//! not share refuses the whole bundle before anything is applied. A bundle
//! larger than `Config::max_bundle_bytes` is refused before it is read. Importing a bundle
//! twice changes nothing the second time: operations and files already here are skipped.
//!
//! A bundle whose page breaks the grant is refused from that page on (earlier pages stay
//! applied, as on the network: each page is whole or not at all); one signed by the source
//! cannot be broken by anyone else.

pub mod cli;
pub mod pipe;
pub mod serve;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{BoxId, Identity, Peer, PeerScope};
use crate::blobs::{BlobHash, BlobStore};
use crate::domain::{Change, ReplicaId, SchoolId};
use crate::store::{Queries, Store, StoreError, peers as store_peers};
use crate::sync::{self, ApplyReport, ClockAhead, Grant, Limits, Page, Positions, SyncError};

pub const MAGIC: &[u8; 8] = b"FOLIOBDL";
pub const FORMAT: u32 = 1;
/// What the signature signs, before the hash: so a bundle signature can never be taken for
/// a signature of anything else the box signs.
const SIGNED_PREFIX: &[u8] = b"folio bundle v1\0";
/// The largest header or page a reader accepts (a page is at most 4 MiB, or one operation).
const MAX_JSON_RECORD: u64 = 64 * 1024 * 1024;
const MAX_END_RECORD: u64 = 64 * 1024;
const MAX_SIGNATURE: u64 = 1024;
/// The name bundles get by default: `folio-bundle-<from>-to-<to>.folio`.
pub const EXTENSION: &str = "folio";

const HEADER: u8 = b'H';
const PAGE: u8 = b'P';
const FILE: u8 = b'F';
const END: u8 = b'E';
const SIGNATURE: u8 = b'S';

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("This file is not a folio bundle. Choose the .folio file that `folio bundle export` wrote.")]
    NotABundle,
    #[error(
        "This bundle was made by a newer folio (bundle format {0}; this box reads format {FORMAT}). Update folio on this box, then import it again."
    )]
    NewerFormat(u32),
    #[error(
        "The bundle is larger than this box accepts ({}). Nothing was changed. Make smaller bundles more often, or raise the limit (--max-bundle-bytes).",
        crate::backup::human(*.limit)
    )]
    TooLarge { limit: u64 },
    #[error(
        "The bundle ends too early: it was not copied completely. Nothing was changed. Copy it onto the stick again and wait until the copy has finished."
    )]
    Truncated,
    #[error("The bundle is damaged ({0}). Nothing was changed. Make a new bundle on the other box.")]
    Damaged(String),
    #[error(
        "The bundle names a file \"{0}\", which is not a file hash (64 lowercase hex digits). folio never makes such a bundle. Nothing was changed."
    )]
    BadFileName(String),
    #[error(
        "This bundle was made for box {target}, not for this box ({me}). Nothing was changed. Import it on box {target}."
    )]
    WrongBox { target: String, me: String },
    #[error("This bundle was made by this box itself. Import it on the box it was made for.")]
    FromSelf,
    #[error(
        "This bundle comes from box {0}, which is not paired with this box. Nothing was changed. Pair the two boxes first."
    )]
    NotPaired(String),
    #[error("No paired box has the id {0}. The admin page lists the paired boxes and their ids.")]
    UnknownPeer(String),
    #[error("Several paired boxes have ids starting with {0}. Give more of the id.")]
    AmbiguousPeer(String),
    #[error(
        "Box {0} signed this bundle with a different key than the one it was paired with: was it reflashed? Pair again. Nothing was changed."
    )]
    KeyChanged(String),
    #[error(
        "The bundle's signature does not match box {0}: it was changed or damaged after box {0} made it. Nothing was changed."
    )]
    BadSignature(String),
    #[error("Box {source_box} sent data this pairing does not allow or that does not fit: {error}. {done}")]
    Refused { source_box: String, error: Box<SyncError>, done: String },
    #[error("Another bundle is being imported on this box. Wait for it to finish.")]
    Busy,
    #[error("The disk is full. Free some space (or use a bigger stick); nothing was lost.")]
    DiskFull,
    #[error(
        "The stick cannot hold a file this large (FAT32 sticks hold at most 4 GB a file). Use a stick formatted exFAT, or make bundles more often so each stays smaller."
    )]
    FileTooLargeForDisk,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl BundleError {
    fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> BundleError {
        let what = what.into();
        // EFBIG: a FAT32 stick and a bundle over 4 GiB.
        move |source| match source.raw_os_error() {
            Some(27) => BundleError::FileTooLargeForDisk,
            _ => match crate::blobs::map_io(source) {
                crate::blobs::BlobError::DiskFull => BundleError::DiskFull,
                crate::blobs::BlobError::Io(source) => BundleError::Io { what, source },
                crate::blobs::BlobError::TooBig { .. } => unreachable!("map_io never says too big"),
            },
        }
    }

    /// Whether the fault is the bundle's (or the person's choice of it), not the box's.
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            BundleError::Store(_)
                | BundleError::Io { .. }
                | BundleError::DiskFull
                | BundleError::FileTooLargeForDisk
                | BundleError::Busy
        )
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Header {
    source: BoxId,
    /// The source's certificate (DER, base64). Only a message's material: the signature is
    /// checked against the certificate pinned at pairing, never this one.
    source_cert: String,
    target: BoxId,
    created_ms: u64,
    folio_version: String,
    /// What the source holds of each school it shares with the target (within the grant).
    positions: Vec<Positions>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct End {
    pages: u64,
    ops: u64,
    files: u64,
    file_bytes: u64,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub source: BoxId,
    pub target: BoxId,
    pub pages: u64,
    pub ops: u64,
    pub files: u64,
    pub file_bytes: u64,
    /// Files the operations name that this box does not hold either (still on their way to
    /// it): the other box gets them from whichever box has them.
    pub files_missing: u64,
    /// The size of the bundle.
    pub bytes: u64,
}

impl ExportSummary {
    /// "1,204 operations and 37 files (12.3 MB) for box 3f2a…"
    pub fn describe(&self) -> String {
        let mut text = if self.ops == 0 && self.files == 0 {
            format!("nothing that box {}… lacks, as far as this box knows", self.target.short())
        } else {
            format!(
                "{} and {} ({}) for box {}…",
                count(self.ops, "operation"),
                count(self.files, "file"),
                crate::backup::human(self.file_bytes),
                self.target.short()
            )
        };
        if self.files_missing > 0 {
            text += &format!(
                "; {} this box has not received yet {} not in it",
                count(self.files_missing, "file"),
                if self.files_missing == 1 { "is" } else { "are" }
            );
        }
        text
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = BundleImport)]
pub struct ImportReport {
    pub source: Option<BoxId>,
    pub pages: u64,
    /// Operations new to this box.
    pub ops_received: u64,
    /// Operations this box already had.
    pub ops_already_here: u64,
    /// New operations waiting for a record that has not arrived yet.
    pub ops_waiting: u64,
    /// Files new to this box.
    pub files_received: u64,
    pub file_bytes_received: u64,
    /// Files this box already had.
    pub files_already_here: u64,
    /// Boxes whose clocks are far ahead of this one's (see `sync`).
    #[serde(default)]
    pub clocks_ahead: Vec<ClockAheadView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClockAheadView {
    pub origin: ReplicaId,
    pub ahead_ms: u64,
}

impl ImportReport {
    /// "applied 1,204 operations and 37 files from box 3f2a…" or "…; nothing was new".
    pub fn describe(&self) -> String {
        let from = self.source.map(|s| format!("box {}…", s.short())).unwrap_or_else(|| "the other box".into());
        if self.ops_received == 0 && self.files_received == 0 {
            return format!(
                "nothing was new: this box already had all {} and {} in the bundle from {from}",
                count(self.ops_already_here, "operation"),
                count(self.files_already_here, "file")
            );
        }
        let mut text = format!(
            "applied {} and {} from {from}",
            count(self.ops_received, "operation"),
            count(self.files_received, "file")
        );
        if self.ops_already_here > 0 || self.files_already_here > 0 {
            text += &format!(
                " ({} and {} were already here)",
                count(self.ops_already_here, "operation"),
                count(self.files_already_here, "file")
            );
        }
        if self.ops_waiting > 0 {
            text += &format!(
                "; {} wait for records a later bundle or sync will bring",
                count(self.ops_waiting, "operation")
            );
        }
        for ahead in &self.clocks_ahead {
            text += &format!(
                "; the clock of replica {} is {} minutes ahead of this box's (its edits keep their own time)",
                ahead.origin.0,
                ahead.ahead_ms / 60_000
            );
        }
        text
    }

    fn add(&mut self, page: &ApplyReport, clocks: &mut BTreeMap<ReplicaId, u64>) {
        self.pages += 1;
        self.ops_received += page.ops_received as u64;
        self.ops_already_here += page.ops_already_here as u64;
        self.ops_waiting += page.ops_waiting as u64;
        for ClockAhead { origin, ahead_ms } in &page.clocks_ahead {
            let worst = clocks.entry(*origin).or_default();
            *worst = (*worst).max(*ahead_ms);
        }
    }
}

/// "1 file", "1,204 operations".
pub fn count(n: u64, what: &str) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n == 1 { format!("{grouped} {what}") } else { format!("{grouped} {what}s") }
}

/// Finds a paired box by its id or a unique beginning of it (people read the short id off
/// the admin page).
pub fn find_peer(store: &Store, id: &str) -> Result<Peer, BundleError> {
    let wanted = id.trim().to_ascii_lowercase();
    if wanted.len() < 4 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BundleError::UnknownPeer(id.trim().to_string()));
    }
    let mut found: Vec<Peer> =
        store.read(store_peers::peers)?.into_iter().filter(|p| p.id.to_string().starts_with(&wanted)).collect();
    match found.len() {
        0 => Err(BundleError::UnknownPeer(wanted)),
        1 => Ok(found.remove(0)),
        _ => Err(BundleError::AmbiguousPeer(wanted)),
    }
}

/// The grants a pairing's scope gives the other box: one per school it shares. Whole
/// schools share every school this box holds; classes only their own schools.
pub fn grants(store: &Store, scope: &PeerScope) -> Result<Vec<Grant>, StoreError> {
    match scope {
        PeerScope::WholeSchools => {
            Ok(store.read(|r| r.schools())?.into_iter().map(|s| Grant::whole_school(s.id)).collect())
        }
        PeerScope::Classes(pairs) => {
            let mut by_school: BTreeMap<SchoolId, BTreeSet<crate::domain::ClassId>> = BTreeMap::new();
            for (school, class) in pairs {
                by_school.entry(*school).or_default().insert(*class);
            }
            Ok(by_school.into_iter().map(|(school, classes)| Grant::classes(school, classes)).collect())
        }
    }
}

/// The files an operation names (hex hashes).
pub fn files_named(change: &Change) -> Vec<&str> {
    match change {
        Change::ArtifactCreated { artifact } => artifact.files().map(|f| f.hash.as_str()).collect(),
        Change::VersionAdded { version, .. } => version.files.iter().map(|f| f.hash.as_str()).collect(),
        Change::CommentAdded { comment } => comment.audio.iter().map(|f| f.hash.as_str()).collect(),
        Change::ActivityCreated { activity } => activity.files.iter().map(|f| f.hash.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// A file name in a bundle: exactly 64 lowercase hex digits.
fn is_hash_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------------------------------
// Writing

/// Writes everything `peer` lacks (as far as this box knows) into `out`, signed by
/// `identity`. The caller keeps garbage collection off meanwhile (a running server holds
/// `InFlight::hold_all`), so every file the pages name stays until it is copied.
pub fn export(
    store: &Store,
    blobs: &BlobStore,
    identity: &Identity,
    peer: &Peer,
    out: &mut dyn Write,
) -> Result<ExportSummary, BundleError> {
    let grants = grants(store, &peer.scope)?;
    let mut positions = Vec::new();
    for grant in &grants {
        // Only what the grant covers: the ids of classes and people outside it are none of
        // the other box's business.
        let covered: HashSet<crate::domain::Scope> = store.read(|r| grant.partitions(r))?.into_iter().collect();
        let mut ours = sync::positions(store, grant.school).map_err(sync_store)?;
        ours.have.retain(|p| covered.contains(&p.partition));
        positions.push(ours);
    }
    let header = Header {
        source: identity.id(),
        source_cert: base64::engine::general_purpose::STANDARD.encode(identity.cert_der().as_ref()),
        target: peer.id,
        created_ms: crate::domain::hlc::wall_clock_ms(),
        folio_version: crate::VERSION.to_string(),
        positions,
    };
    let mut out = Signing::new(out);
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT.to_be_bytes())?;
    out.record(HEADER, &serde_json::to_vec(&header).expect("a header serialises"))?;

    let mut end = End::default();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for grant in &grants {
        let mut theirs = store.read(|r| store_peers::peer_positions(r, peer.id, grant.school))?.unwrap_or_else(|| {
            Positions { school: grant.school, replica: ReplicaId(uuid::Uuid::nil()), have: Vec::new() }
        });
        loop {
            let page = sync::ops_missing(store, &theirs, grant, Limits::default()).map_err(sync_store)?;
            if page.spans.is_empty() {
                // Whom the peer may give new secrets travels even when no operation does.
                if page.wholly_inside.is_some() {
                    out.record(PAGE, &serde_json::to_vec(&page).expect("a page serialises"))?;
                    end.pages += 1;
                }
                break;
            }
            for op in &page.ops {
                named.extend(files_named(&op.change).into_iter().filter(|h| is_hash_name(h)).map(str::to_owned));
            }
            out.record(PAGE, &serde_json::to_vec(&page).expect("a page serialises"))?;
            end.pages += 1;
            end.ops += page.ops.len() as u64;
            for reached in page.positions_after() {
                match theirs.have.iter_mut().find(|p| p.partition == reached.partition && p.origin == reached.origin) {
                    Some(p) => p.seq = p.seq.max(reached.seq),
                    None => theirs.have.push(reached),
                }
            }
            if !page.more {
                break;
            }
        }
    }

    let mut files_missing = 0;
    let mut buf = vec![0u8; 1 << 20];
    for hex in &named {
        let hash = BlobHash::from_hex(hex).expect("checked to be a hash");
        let Ok(mut file) = File::open(blobs.path(&hash)) else {
            files_missing += 1;
            continue;
        };
        let size = file.metadata().map_err(BundleError::io("cannot read a file to put in the bundle"))?.len();
        let mut head = vec![hex.len() as u8];
        head.extend_from_slice(hex.as_bytes());
        out.record_head(FILE, head.len() as u64 + size)?;
        out.write_all(&head)?;
        let mut left = size;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            file.read_exact(&mut buf[..want]).map_err(BundleError::io(format!("cannot read file {hex}")))?;
            out.write_all(&buf[..want])?;
            left -= want as u64;
        }
        end.files += 1;
        end.file_bytes += size;
    }
    out.record(END, &serde_json::to_vec(&end).expect("the end serialises"))?;
    let mut message = SIGNED_PREFIX.to_vec();
    message.extend_from_slice(out.hasher.finalize().as_bytes());
    let signature = identity.sign(&message);
    out.record_unhashed(SIGNATURE, &signature)?;
    out.inner.flush().map_err(BundleError::io("cannot write the bundle"))?;
    Ok(ExportSummary {
        source: identity.id(),
        target: peer.id,
        pages: end.pages,
        ops: end.ops,
        files: end.files,
        file_bytes: end.file_bytes,
        files_missing,
        bytes: out.written,
    })
}

fn sync_store(e: SyncError) -> BundleError {
    match e {
        SyncError::Store(e) => BundleError::Store(e),
        other => BundleError::Store(StoreError::Corrupt(other.to_string())),
    }
}

/// The output, hashed as it is written.
struct Signing<'a> {
    inner: &'a mut dyn Write,
    hasher: blake3::Hasher,
    written: u64,
}

impl<'a> Signing<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Signing { inner, hasher: blake3::Hasher::new(), written: 0 }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BundleError> {
        self.hasher.update(bytes);
        self.write_unhashed(bytes)
    }

    fn write_unhashed(&mut self, bytes: &[u8]) -> Result<(), BundleError> {
        self.inner.write_all(bytes).map_err(BundleError::io("cannot write the bundle"))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn record_head(&mut self, kind: u8, len: u64) -> Result<(), BundleError> {
        self.write_all(&[kind])?;
        self.write_all(&len.to_be_bytes())
    }

    fn record(&mut self, kind: u8, payload: &[u8]) -> Result<(), BundleError> {
        self.record_head(kind, payload.len() as u64)?;
        self.write_all(payload)
    }

    fn record_unhashed(&mut self, kind: u8, payload: &[u8]) -> Result<(), BundleError> {
        self.write_unhashed(&[kind])?;
        self.write_unhashed(&(payload.len() as u64).to_be_bytes())?;
        self.write_unhashed(payload)
    }
}

// ---------------------------------------------------------------------------------------
// Reading

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
        if !super::identity::verify(&peer.cert_der, &message, &signature) {
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

impl From<BundleError> for crate::error::Error {
    fn from(e: BundleError) -> Self {
        use crate::error::Error;
        match e {
            BundleError::UnknownPeer(_) => Error::NotFound,
            BundleError::TooLarge { .. } => Error::TooLarge(e.to_string()),
            BundleError::Busy => Error::conflict(e.to_string()),
            BundleError::DiskFull | BundleError::FileTooLargeForDisk => Error::DiskFull,
            BundleError::Store(e) => Error::from(e),
            BundleError::Io { .. } => Error::internal(e),
            other => Error::Invalid(other.to_string()),
        }
    }
}
