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

mod export;
mod import;

pub mod cli;
pub mod pipe;
pub mod serve;

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use serde::{Deserialize, Serialize};

use super::{BoxId, Peer, PeerScope};
use crate::domain::{Change, ReplicaId, SchoolId};
use crate::store::{Queries, Store, StoreError, peers as store_peers};
use crate::sync::{ApplyReport, ClockAhead, Grant, Positions, SyncError};
pub use export::export;
pub use import::Importer;

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
                crate::blobs::BlobError::TooBig { .. } | crate::blobs::BlobError::Unavailable(_) => {
                    unreachable!("map_io says only disk full or I/O")
                }
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
