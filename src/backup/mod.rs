//! Backups: a consistent copy of a box's data, written while folio keeps serving, and
//! brought back onto a freshly flashed box.
//!
//! # The format: a folder
//!
//! A backup is a folder named `folio-backup-2026-11-23T10-12-00Z` holding
//!
//! ```text
//! folio-backup.json   what it is: format, folio and schema version, schools, counts, the
//!                     BLAKE3 hash of the database file (written last)
//! folio.redb          the database, copied in one read transaction (store::snapshot)
//! blobs/ab/ab12…      every file the database names, laid out as in the data directory
//! ```
//!
//! A folder rather than one tar file because backups go to USB sticks, which come formatted
//! FAT32: a single file there cannot exceed 4 GiB, and a school's portfolio is larger than
//! that in weeks. Every stored file is named by the BLAKE3 hash of its bytes, so a restore
//! checks each one as it reads it with no extra index, and a damaged stick is noticed before
//! anything on the box is replaced. A folder is also what an installer can look into.
//!
//! # Consistency
//!
//! The database is copied from one redb read transaction: folio goes on serving and
//! uploading, and the copy is the store at one instant. Files are content-addressed and
//! never change once stored, so copying them after the snapshot is safe, as long as none is
//! deleted meanwhile: the backup holds off garbage collection (`InFlight::hold_all`) from
//! before the snapshot until the last file is copied.
//!
//! The backup is written under a hidden `.partial` name and renamed when complete, so a
//! folder with the final name is always whole; an interrupted one is removed (or left
//! hidden, if the stick was pulled out).

mod jobs;
mod places;
mod read;
mod restore;
#[cfg(test)]
mod tests;
mod write;

use std::io;
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub mod cli;

use crate::store::StoreError;
pub use jobs::{Job, JobKind, Jobs, RESTART_EXIT_CODE, RestartToRestore, backup_live};
pub use places::{Place, places};
pub use read::{inspect, list_backups, locate};
pub use restore::{Restored, apply_pending_restore, restore};
pub use write::{Written, blob_path, write};

/// The name of the description file in a backup folder.
pub const MANIFEST: &str = "folio-backup.json";
/// The version of the folder layout. Bump it when the layout changes.
pub const FORMAT: u32 = 1;
/// Backups are folders whose names start with this.
pub const PREFIX: &str = "folio-backup-";
/// Where USB sticks are mounted on a Linux box (the appliance mounts them under `/media`).
pub const USB_ROOTS: [&str; 2] = ["/media", "/run/media"];

const DB_FILE: &str = "folio.redb";
const BLOBS_DIR: &str = "blobs";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} is not a folder. Give the folder (or USB stick) to write the backup into.")]
    NotAFolder(PathBuf),
    #[error(
        "{path} has no {MANIFEST}: it is not a folio backup, or the backup did not finish. Choose a folder named {PREFIX}…."
    )]
    NotABackup { path: PathBuf },
    #[error("{path} holds several backups; name the one to restore: {}", .found.join(", "))]
    Several { path: PathBuf, found: Vec<String> },
    #[error(
        "This backup was made by folio {version} (backup format {found}); this folio reads format {FORMAT}. Install folio {version} or newer to restore it."
    )]
    NewerFormat { found: u32, version: String },
    #[error(
        "This backup holds data format {found}, but this folio reads format {expected}. Restore it with folio {version}, the version that made it, then upgrade."
    )]
    Schema { found: u32, expected: u32, version: String },
    #[error("The backup is damaged: {0}. Nothing on this box was changed. Use another backup.")]
    Damaged(String),
    #[error("The box's own data is damaged: {0}. The backup was not made. Tell your school's IT person.")]
    BoxDamaged(String),
    #[error(
        "This box already holds a school ({}). Restoring would replace all of its data. If that is what you want, run the restore again with --force.",
        .0.join(", ")
    )]
    AlreadySetUp(Vec<String>),
    #[error("There is not enough room on {path}: the backup needs {} more. Free some space or use a bigger stick.", human(*.needed))]
    NoRoom { path: PathBuf, needed: u64 },
    #[error("A backup is already being written. Wait for it to finish.")]
    Busy,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

/// Wraps an I/O error with what was being done, and recognises a full disk.
fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// What `folio-backup.json` says.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub folio_version: String,
    pub schema_version: u32,
    /// Seconds since 1970 (UTC).
    pub created_unix: u64,
    pub schools: Vec<String>,
    pub files: u64,
    pub file_bytes: u64,
    pub database_bytes: u64,
    /// BLAKE3 of `folio.redb`, in hex.
    pub database_blake3: String,
}

impl Manifest {
    /// "2026-11-23 10:12 UTC"
    pub fn created(&self) -> String {
        let (date, h, m, _) = civil_utc(self.created_unix);
        format!("{date} {h:02}:{m:02} UTC")
    }

    pub fn size(&self) -> u64 {
        self.file_bytes + self.database_bytes
    }
}

/// How far a backup or restore has got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Database,
    Files { done: u64, total: u64, bytes_done: u64, bytes_total: u64 },
    Finishing,
}

/// The file-copying part of a backup or a restore, told to the caller as it goes: at the
/// start, at most twice a second, and at the end.
struct FileProgress<'a> {
    now: Progress,
    last_report: Instant,
    report: &'a mut dyn FnMut(&Progress),
}

impl<'a> FileProgress<'a> {
    fn start(total: u64, bytes_total: u64, report: &'a mut dyn FnMut(&Progress)) -> Self {
        let now = Progress::Files { done: 0, total, bytes_done: 0, bytes_total };
        report(&now);
        FileProgress { now, last_report: Instant::now(), report }
    }

    fn copied(&mut self, bytes: u64) {
        if let Progress::Files { done, bytes_done, .. } = &mut self.now {
            *done += 1;
            *bytes_done += bytes;
        }
        if self.last_report.elapsed().as_millis() >= 500 {
            (self.report)(&self.now);
            self.last_report = Instant::now();
        }
    }

    fn finish(self) {
        (self.report)(&self.now);
        (self.report)(&Progress::Finishing);
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Database => write!(f, "Copying the database…"),
            Progress::Files { done, total, bytes_done, bytes_total } => {
                write!(f, "Copying files: {done} of {total} ({} of {})", human(*bytes_done), human(*bytes_total))
            }
            Progress::Finishing => write!(f, "Finishing…"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers

/// "1.5 GB", decimal units as file managers show them.
pub fn human(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1_000_000_000), ("MB", 1_000_000), ("kB", 1_000)];
    for (unit, size) in UNITS {
        if bytes >= size {
            return format!("{:.1} {unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} bytes")
}

/// Seconds since 1970 → ("YYYY-MM-DD", hour, minute, second) in UTC.
fn civil_utc(secs: u64) -> (String, u64, u64, u64) {
    let rem = secs % 86_400;
    (crate::domain::calendar::day_of(secs.saturating_mul(1000)), rem / 3600, rem % 3600 / 60, rem % 60)
}
