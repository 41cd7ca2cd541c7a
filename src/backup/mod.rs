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

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub mod cli;

use crate::store::{Queries, Store, StoreError, snapshot, tables::OLDEST_MIGRATABLE_SCHEMA, tables::SCHEMA_VERSION};

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

/// A finished backup.
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// Writes a new backup folder into `parent`. `make_db` writes the consistent database copy
/// to the path it is given (a live store's `snapshot_to`, or a copy of a snapshot the
/// running server made); the files it names are then copied from `blobs_dir`. Whoever
/// calls this keeps garbage collection off until it returns.
pub fn write(
    parent: &Path,
    blobs_dir: &Path,
    make_db: impl FnOnce(&Path) -> Result<(), BackupError>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Written, BackupError> {
    if !parent.is_dir() {
        return Err(BackupError::NotAFolder(parent.to_path_buf()));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (final_path, partial) = new_names(parent, now);
    fs::create_dir(&partial).map_err(io_err(format!("cannot write into {}", parent.display())))?;
    let mut cleanup = RemoveOnDrop(Some(partial.clone()));

    progress(&Progress::Database);
    let db_path = partial.join(DB_FILE);
    make_db(&db_path)?;
    let summary = snapshot::describe(&db_path)?;
    let schema_version = snapshot::schema_version(&db_path)?.unwrap_or(SCHEMA_VERSION);
    let database_bytes = fs::metadata(&db_path).map_err(io_err("cannot read the database copy"))?.len();
    let database_blake3 = hash_file(&db_path)?;

    let sources: Vec<(String, u64)> = summary
        .blobs
        .iter()
        .filter_map(|hex| {
            let size = match fs::metadata(blob_path(blobs_dir, hex)) {
                Ok(m) => m.len(),
                // Work synced from another box whose file has not arrived yet: the restored
                // box fetches it from its peers, as this one would have.
                Err(_) if summary.on_their_way.contains(hex) => return None,
                Err(e) => {
                    return Some(Err(BackupError::BoxDamaged(format!(
                        "file {hex}, which the database names, is missing ({e})"
                    ))));
                }
            };
            Some(Ok((hex.clone(), size)))
        })
        .collect::<Result<_, BackupError>>()?;
    let bytes_total: u64 = sources.iter().map(|(_, size)| size).sum();
    let total = sources.len() as u64;
    let mut files = Progress::Files { done: 0, total, bytes_done: 0, bytes_total };
    progress(&files);
    let mut last_report = Instant::now();
    for (hex, _) in &sources {
        let dest = blob_path(&partial.join(BLOBS_DIR), hex);
        fs::create_dir_all(dest.parent().expect("a blob has a folder"))
            .map_err(|e| no_room_or(e, parent, bytes_total, "cannot make a folder in the backup"))?;
        let copied = copy_verified(&blob_path(blobs_dir, hex), &dest, Some(hex))
            .map_err(|e| e.into_error(Side::Box, parent, bytes_total))?;
        if let Progress::Files { done, bytes_done, .. } = &mut files {
            *done += 1;
            *bytes_done += copied;
        }
        if last_report.elapsed().as_millis() >= 500 {
            progress(&files);
            last_report = Instant::now();
        }
    }
    progress(&files);

    progress(&Progress::Finishing);
    let manifest = Manifest {
        format: FORMAT,
        folio_version: crate::VERSION.to_string(),
        schema_version,
        created_unix: now,
        schools: summary.schools,
        files: total,
        file_bytes: bytes_total,
        database_bytes,
        database_blake3,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    write_synced(&partial.join(MANIFEST), &json).map_err(|e| no_room_or(e, parent, 0, "cannot write the backup"))?;
    sync_dirs(&partial)?;
    fs::rename(&partial, &final_path).map_err(io_err("cannot name the finished backup"))?;
    cleanup.0 = None;
    sync_dir(parent)?;
    Ok(Written { path: final_path, manifest })
}

/// `folio-backup-<time>` and its hidden work-in-progress name, unused in `parent`.
fn new_names(parent: &Path, now: u64) -> (PathBuf, PathBuf) {
    let (date, h, m, s) = civil_utc(now);
    let base = format!("{PREFIX}{date}T{h:02}-{m:02}-{s:02}Z");
    for n in 1.. {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let (done, partial) = (parent.join(&name), parent.join(format!(".{name}.partial")));
        if !done.exists() && !partial.exists() {
            return (done, partial);
        }
    }
    unreachable!()
}

/// Deletes a half-written folder unless disarmed.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// Where a blob lives under a `blobs` folder: `ab/ab12…`, as `BlobStore` lays it out.
pub fn blob_path(blobs_dir: &Path, hex: &str) -> PathBuf {
    blobs_dir.join(&hex[..2]).join(hex)
}

/// Copies a file, fsyncs the copy, and checks (when `expect` is given) that the bytes read
/// hash to that BLAKE3 hex. Returns the bytes copied.
fn copy_verified(from: &Path, to: &Path, expect: Option<&str>) -> Result<u64, CopyError> {
    let mut src = File::open(from).map_err(CopyError::Read)?;
    let mut dst = File::create(to).map_err(CopyError::Write)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let got = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        hasher.update(&buf[..got]);
        dst.write_all(&buf[..got]).map_err(CopyError::Write)?;
        n += got as u64;
    }
    dst.sync_all().map_err(CopyError::Write)?;
    if let Some(expect) = expect {
        let found = hasher.finalize().to_hex();
        if found.as_str() != expect {
            drop(dst);
            let _ = fs::remove_file(to);
            return Err(CopyError::Mismatch(from.to_path_buf()));
        }
    }
    Ok(n)
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
    Mismatch(PathBuf),
}

/// Which side a copy reads from: the box's data (backup) or a backup (restore).
#[derive(Clone, Copy)]
enum Side {
    Box,
    Backup,
}

impl CopyError {
    fn into_error(self, from: Side, dest: &Path, needed: u64) -> BackupError {
        let damaged = |what: String| match from {
            Side::Box => BackupError::BoxDamaged(what),
            Side::Backup => BackupError::Damaged(what),
        };
        match self {
            CopyError::Read(e) => damaged(format!("a file could not be read ({e})")),
            CopyError::Write(e) => no_room_or(e, dest, needed, "cannot write the copy"),
            CopyError::Mismatch(path) => {
                damaged(format!("{} does not hold the bytes its name promises", path.display()))
            }
        }
    }
}

fn no_room_or(e: io::Error, dest: &Path, needed: u64, what: &str) -> BackupError {
    let full = matches!(e.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded)
        || matches!(e.raw_os_error(), Some(28) | Some(122));
    if full {
        BackupError::NoRoom { path: dest.to_path_buf(), needed }
    } else {
        BackupError::Io { what: format!("{what} in {}", dest.display()), source: e }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn hash_file(path: &Path) -> Result<String, BackupError> {
    let mut f = File::open(path).map_err(io_err(format!("cannot read {}", path.display())))?;
    let mut hasher = blake3::Hasher::new();
    io::copy(&mut f, &mut hasher).map_err(io_err(format!("cannot read {}", path.display())))?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// fsyncs a folder, so the names in it survive a power cut. Some filesystems (FAT on some
/// kernels) refuse to sync a directory handle; their data was synced file by file.
fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn sync_dirs(root: &Path) -> Result<(), BackupError> {
    let blobs = root.join(BLOBS_DIR);
    if blobs.is_dir() {
        for entry in fs::read_dir(&blobs).map_err(io_err("cannot list the backup"))? {
            sync_dir(&entry.map_err(io_err("cannot list the backup"))?.path())?;
        }
        sync_dir(&blobs)?;
    }
    sync_dir(root)
}

// ---------------------------------------------------------------------------------------
// Reading backups

/// Finds the backup at `path`: the folder itself, or the one backup folder inside it.
pub fn locate(path: &Path) -> Result<PathBuf, BackupError> {
    if path.join(MANIFEST).is_file() {
        return Ok(path.to_path_buf());
    }
    if !path.is_dir() {
        return Err(BackupError::NotABackup { path: path.to_path_buf() });
    }
    let mut found: Vec<String> = list_backups(path).into_iter().map(|(name, _)| name).collect();
    match found.len() {
        0 => Err(BackupError::NotABackup { path: path.to_path_buf() }),
        1 => Ok(path.join(found.remove(0))),
        _ => Err(BackupError::Several { path: path.to_path_buf(), found }),
    }
}

/// Reads and checks a backup's description: a format and data format this folio reads.
pub fn inspect(backup: &Path) -> Result<Manifest, BackupError> {
    let raw = fs::read(backup.join(MANIFEST)).map_err(|_| BackupError::NotABackup { path: backup.to_path_buf() })?;
    let manifest: Manifest =
        serde_json::from_slice(&raw).map_err(|e| BackupError::Damaged(format!("{MANIFEST} cannot be read ({e})")))?;
    if manifest.format > FORMAT {
        return Err(BackupError::NewerFormat { found: manifest.format, version: manifest.folio_version });
    }
    // An older data format is brought forward when the restored store is first opened.
    if !(OLDEST_MIGRATABLE_SCHEMA..=SCHEMA_VERSION).contains(&manifest.schema_version) {
        return Err(BackupError::Schema {
            found: manifest.schema_version,
            expected: SCHEMA_VERSION,
            version: manifest.folio_version,
        });
    }
    Ok(manifest)
}

/// The finished backups directly in `dir`, newest first: (folder name, description).
pub fn list_backups(dir: &Path) -> Vec<(String, Manifest)> {
    let mut found: Vec<(String, Manifest)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            if !name.starts_with(PREFIX) {
                return None;
            }
            let raw = fs::read(entry.path().join(MANIFEST)).ok()?;
            Some((name, serde_json::from_slice(&raw).ok()?))
        })
        .collect();
    found.sort_by(|a, b| b.1.created_unix.cmp(&a.1.created_unix).then(b.0.cmp(&a.0)));
    found
}

// ---------------------------------------------------------------------------------------
// Restoring

/// What a restore brought back.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// The replica id the restored box writes as from now on (never the original's).
    pub replica: crate::domain::ReplicaId,
}

/// Restores `backup` into `data_dir`. The caller makes sure no folio serves that directory
/// (`Store::open` would refuse anyway). A directory that already holds a school is refused
/// unless `force`.
///
/// Everything is copied and checked into a hidden folder inside `data_dir` first
/// ([`stage`]); only then is the old content moved aside and the restored content moved in
/// (renames, on the same disk), and the old content deleted ([`swap_in`]). Derived data
/// (thumbnails, the search index) is not in a backup and is rebuilt.
pub fn restore(
    backup: &Path,
    data_dir: &Path,
    force: bool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Restored, BackupError> {
    let manifest = inspect(backup)?;
    fs::create_dir_all(data_dir).map_err(io_err(format!("cannot make {}", data_dir.display())))?;
    if Store::db_path(data_dir).exists() {
        let store = Store::open(data_dir)?;
        let schools: Vec<String> = store.read(|r| r.schools())?.into_iter().map(|s| s.name).collect();
        drop(store);
        if !schools.is_empty() && !force {
            return Err(BackupError::AlreadySetUp(schools));
        }
    }
    let staging = data_dir.join(format!(".restore-{:08x}", rand::random::<u32>()));
    let cleanup = RemoveOnDrop(Some(staging.clone()));
    stage(backup, &manifest, data_dir, &staging, progress)?;
    swap_in(data_dir, &staging)?;
    drop(cleanup);
    // Opening it gives this box its own replica id: the backup's was the original box's.
    let store = Store::open(data_dir)?;
    let replica = store.replica();
    drop(store);
    Ok(Restored { manifest, replica })
}

/// Copies `backup` into the new folder `staging` (inside `data_dir`), checking every file
/// against its hash, and gives it the owner of `data_dir` (so a restore run as root leaves
/// files the `folio` service user can read). Nothing in `data_dir` itself changes.
fn stage(
    backup: &Path,
    manifest: &Manifest,
    data_dir: &Path,
    staging: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), BackupError> {
    fs::create_dir(staging).map_err(io_err(format!("cannot write into {}", data_dir.display())))?;
    progress(&Progress::Database);
    let db = staging.join(DB_FILE);
    copy_verified(&backup.join(DB_FILE), &db, Some(&manifest.database_blake3)).map_err(|e| match e {
        CopyError::Mismatch(_) => BackupError::Damaged("the database file does not match its description".into()),
        other => other.into_error(Side::Backup, data_dir, manifest.size()),
    })?;
    let summary = snapshot::describe(&db)?;
    let bytes_total = manifest.file_bytes;
    let mut files = Progress::Files { done: 0, total: manifest.files, bytes_done: 0, bytes_total };
    progress(&files);
    let mut last_report = Instant::now();
    for hex in &summary.blobs {
        let from = blob_path(&backup.join(BLOBS_DIR), hex);
        if !from.is_file() && summary.on_their_way.contains(hex) {
            continue;
        }
        if !from.is_file() {
            return Err(BackupError::Damaged(format!("file {hex}, which the database names, is missing")));
        }
        let to = blob_path(&staging.join(BLOBS_DIR), hex);
        fs::create_dir_all(to.parent().expect("a blob has a folder")).map_err(io_err("cannot make a folder"))?;
        let copied =
            copy_verified(&from, &to, Some(hex)).map_err(|e| e.into_error(Side::Backup, data_dir, bytes_total))?;
        if let Progress::Files { done, bytes_done, .. } = &mut files {
            *done += 1;
            *bytes_done += copied;
        }
        if last_report.elapsed().as_millis() >= 500 {
            progress(&files);
            last_report = Instant::now();
        }
    }
    progress(&files);
    progress(&Progress::Finishing);
    fs::create_dir_all(staging.join(BLOBS_DIR)).map_err(io_err("cannot make a folder"))?;
    give_to_owner_of(data_dir, staging)?;
    sync_dirs(staging)
}

/// Replaces everything in `data_dir` with the database and files staged in `staging` (a
/// folder inside it): the old content goes aside with one rename each, the staged content
/// comes in, then the old content is deleted. The box's certificate authority (`tls/`)
/// stays: it belongs to the box, not to the school's data, and devices trust it.
fn swap_in(data_dir: &Path, staging: &Path) -> Result<(), BackupError> {
    let old = data_dir.join(format!(".replaced-{:08x}", rand::random::<u32>()));
    fs::create_dir(&old).map_err(io_err("cannot make room for the restore"))?;
    let keep = [
        staging.file_name().expect("named").to_owned(),
        old.file_name().expect("named").to_owned(),
        crate::tls::DIR.into(),
    ];
    for entry in fs::read_dir(data_dir).map_err(io_err("cannot list the data folder"))? {
        let entry = entry.map_err(io_err("cannot list the data folder"))?;
        let name = entry.file_name();
        if keep.contains(&name) || name == "lost+found" {
            continue;
        }
        fs::rename(entry.path(), old.join(&name))
            .map_err(io_err(format!("cannot move {} aside", entry.path().display())))?;
    }
    for name in [DB_FILE, BLOBS_DIR] {
        fs::rename(staging.join(name), data_dir.join(name)).map_err(io_err("cannot move the restored data in"))?;
    }
    sync_dir(data_dir)?;
    fs::remove_dir_all(staging).map_err(io_err("cannot tidy up after the restore"))?;
    fs::remove_dir_all(&old).map_err(io_err(format!("restored, but cannot delete the old data in {}", old.display())))
}

// ---------------------------------------------------------------------------------------
// Restoring from the setup page: staged while serving, swapped in at the next start

/// Where the setup page stages a restore, inside the data directory.
const PENDING: &str = ".restore-pending";
/// Written into [`PENDING`] once everything there is copied and checked.
const PENDING_READY: &str = "ready.json";

/// Run by `crate::run` before it opens the store: swaps in a restore the setup page staged
/// (then the store, opened next, takes a new replica id), or removes one that never finished.
/// Returns the restored backup's description.
pub fn apply_pending_restore(data_dir: &Path) -> Result<Option<Manifest>, BackupError> {
    let pending = data_dir.join(PENDING);
    if !pending.is_dir() {
        return Ok(None);
    }
    let ready =
        fs::read(pending.join(PENDING_READY)).ok().and_then(|raw| serde_json::from_slice::<Manifest>(&raw).ok());
    let Some(manifest) = ready else {
        tracing::warn!("removing a restore that did not finish");
        fs::remove_dir_all(&pending).map_err(io_err("cannot remove an unfinished restore"))?;
        return Ok(None);
    };
    fs::remove_file(pending.join(PENDING_READY)).map_err(io_err("cannot read the staged restore"))?;
    swap_in(data_dir, &pending)?;
    tracing::warn!(schools = ?manifest.schools, created = %manifest.created(), "restored the backup chosen on the setup page");
    Ok(Some(manifest))
}

/// Stages `backup` for [`apply_pending_restore`]; the server then restarts to finish.
fn stage_pending(
    backup: &Path,
    manifest: &Manifest,
    data_dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), BackupError> {
    let pending = data_dir.join(PENDING);
    if pending.exists() {
        fs::remove_dir_all(&pending).map_err(io_err("cannot remove an earlier unfinished restore"))?;
    }
    let mut cleanup = RemoveOnDrop(Some(pending.clone()));
    stage(backup, manifest, data_dir, &pending, progress)?;
    let json = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    write_synced(&pending.join(PENDING_READY), &json).map_err(io_err("cannot finish staging the restore"))?;
    sync_dir(&pending)?;
    cleanup.0 = None;
    Ok(())
}

/// On Unix, when run as root: gives `tree` (recursively) the owner of `dir`.
fn give_to_owner_of(dir: &Path, tree: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = fs::metadata(dir).map_err(io_err("cannot read the data folder"))?;
        let me = fs::metadata(tree).map_err(io_err("cannot read the restore"))?;
        if owner.uid() == me.uid() && owner.gid() == me.gid() {
            return Ok(());
        }
        fn walk(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
            if path.is_dir() {
                for entry in fs::read_dir(path)? {
                    walk(&entry?.path(), uid, gid)?;
                }
            }
            Ok(())
        }
        walk(tree, owner.uid(), owner.gid()).map_err(io_err("cannot give the restored files to folio's user"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Where backups can go (the admin page)

/// A place the admin page offers for backups: a mounted USB stick or the configured folder.
#[derive(Clone, Debug)]
pub struct Place {
    pub path: PathBuf,
    /// What people recognise: the stick's name (its mount folder).
    pub label: String,
    pub backups: Vec<(String, Manifest)>,
}

/// The USB sticks mounted under [`USB_ROOTS`] (one or two levels down: `/media/STICK`,
/// `/media/USER/STICK`, `/run/media/USER/STICK`), then `extra` if it is a folder.
pub fn places(extra: Option<&Path>) -> Vec<Place> {
    let mut paths: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|m| {
            USB_ROOTS
                .iter()
                .any(|root| m.strip_prefix(root).is_ok_and(|rest| (1..=2).contains(&rest.components().count())))
        })
        .collect();
    paths.sort();
    paths.dedup();
    if let Some(extra) = extra.filter(|p| p.is_dir()) {
        paths.push(extra.to_path_buf());
    }
    paths
        .into_iter()
        .map(|path| Place {
            label: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            backups: list_backups(&path),
            path,
        })
        .collect()
}

/// Mount points from `/proc/self/mountinfo` (empty where there is none).
fn mount_points() -> Vec<PathBuf> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    info.lines().filter_map(|line| line.split(' ').nth(4)).map(|m| PathBuf::from(unescape_mount(m))).collect()
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style octal escapes.
fn unescape_mount(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let value = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// The one backup (admin page) or restore (setup page) the box runs at a time

/// The page's backup or restore, shared by the handlers. Cloning is cheap.
#[derive(Clone, Default)]
pub struct Jobs {
    current: Arc<Mutex<Option<Job>>>,
    /// Set, and notified, when a staged restore needs folio to start again.
    restart: Arc<(std::sync::atomic::AtomicBool, tokio::sync::Notify)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Backup,
    Restore,
}

/// A backup started from the admin page, or a restore from the setup page.
#[derive(Clone, Debug)]
pub struct Job {
    pub kind: JobKind,
    /// Where the backup goes (a backup), or the backup folder (a restore).
    pub place: PathBuf,
    pub progress: Progress,
    /// `None` while it runs; then the folder written or restored, or what went wrong.
    pub outcome: Option<Result<PathBuf, String>>,
}

/// `crate::run` returns this error after a restore was staged from the setup page: folio
/// stops so that it starts again with the restored data (`apply_pending_restore`). The
/// command line exits with [`RESTART_EXIT_CODE`], which `folio.service` restarts on.
#[derive(Debug, thiserror::Error)]
#[error(
    "folio stopped to finish restoring a backup. Start it again to use the restored school (on the folio box this happens by itself)."
)]
pub struct RestartToRestore;

/// EX_TEMPFAIL: "try again". `folio.service` has `RestartForceExitStatus=75`.
pub const RESTART_EXIT_CODE: u8 = 75;

impl Jobs {
    pub fn current(&self) -> Option<Job> {
        self.current.lock().unwrap().clone()
    }

    /// Claims the one slot, unless a job is running.
    fn claim(&self, kind: JobKind, place: &Path) -> Result<(), BackupError> {
        let mut slot = self.current.lock().unwrap();
        if slot.as_ref().is_some_and(|j| j.outcome.is_none()) || self.restart_pending() {
            return Err(BackupError::Busy);
        }
        *slot = Some(Job { kind, place: place.to_path_buf(), progress: Progress::Database, outcome: None });
        Ok(())
    }

    fn report(&self, progress: &Progress) {
        if let Some(job) = self.current.lock().unwrap().as_mut() {
            job.progress = progress.clone();
        }
    }

    fn finish(&self, outcome: Result<PathBuf, BackupError>) {
        if let Some(job) = self.current.lock().unwrap().as_mut() {
            job.outcome = Some(outcome.map_err(|e| e.to_string()));
        }
    }

    /// Starts a backup of `store` into `place` on the blocking pool, unless a job runs.
    pub fn start(
        &self,
        store: Store,
        data_dir: PathBuf,
        in_flight: crate::housekeeping::InFlight,
        place: PathBuf,
    ) -> Result<(), BackupError> {
        self.claim(JobKind::Backup, &place)?;
        let jobs = self.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = backup_live(&store, &data_dir, &in_flight, &place, &mut |p| jobs.report(p));
            if let Err(e) = &outcome {
                tracing::warn!(place = %place.display(), "backup failed: {e}");
            }
            jobs.finish(outcome.map(|w| w.path));
        });
        Ok(())
    }

    /// Starts staging a restore of `backup` into `data_dir` (for a box not set up yet).
    /// When it is staged, folio is asked to stop ([`Jobs::restart_requested`]) and the next
    /// start swaps it in.
    pub fn start_restore(&self, store: Store, data_dir: PathBuf, backup: PathBuf) -> Result<(), BackupError> {
        let manifest = inspect(&backup)?;
        self.claim(JobKind::Restore, &backup)?;
        let jobs = self.clone();
        tokio::task::spawn_blocking(move || {
            let staged = stage_pending(&backup, &manifest, &data_dir, &mut |p| jobs.report(p));
            // Someone may have finished setting up the box meanwhile: their school stays.
            let outcome = staged.and_then(|()| match store.read(|r| r.is_set_up()) {
                Ok(false) => Ok(backup.clone()),
                Ok(true) => {
                    let _ = fs::remove_dir_all(data_dir.join(PENDING));
                    Err(BackupError::AlreadySetUp(
                        store.read(|r| r.schools()).unwrap_or_default().into_iter().map(|s| s.name).collect(),
                    ))
                }
                Err(e) => Err(e.into()),
            });
            match &outcome {
                Ok(_) => {
                    tracing::warn!(backup = %backup.display(), "a restore is staged; folio stops to finish it");
                    jobs.restart.0.store(true, std::sync::atomic::Ordering::SeqCst);
                    jobs.restart.1.notify_one();
                }
                Err(e) => tracing::warn!(backup = %backup.display(), "restore failed: {e}"),
            }
            jobs.finish(outcome);
        });
        Ok(())
    }

    /// Resolves once a staged restore needs folio to stop and start again.
    pub async fn restart_requested(&self) {
        self.restart.1.notified().await
    }

    pub fn restart_pending(&self) -> bool {
        self.restart.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A backup of the store a running server holds: garbage collection is held off from before
/// the snapshot until the last file is copied.
pub fn backup_live(
    store: &Store,
    data_dir: &Path,
    in_flight: &crate::housekeeping::InFlight,
    place: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Written, BackupError> {
    let _hold = in_flight.hold_all();
    write(place, &data_dir.join(BLOBS_DIR), |dest| Ok(store.snapshot_to(dest).map(|_| ())?), progress)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(civil_utc(0), ("1970-01-01".into(), 0, 0, 0));
        assert_eq!(civil_utc(951_782_400), ("2000-02-29".into(), 0, 0, 0));
        assert_eq!(civil_utc(1_795_429_920), ("2026-11-23".into(), 10, 32, 0));
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape_mount("/media/MY\\040STICK"), "/media/MY STICK");
        assert_eq!(unescape_mount("/media/plain"), "/media/plain");
        assert_eq!(unescape_mount("/x\\"), "/x\\");
    }

    #[test]
    fn blob_paths_match_the_blob_store() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = crate::blobs::BlobStore::open(dir.path()).unwrap();
        let hash = crate::blobs::BlobHash(*blake3::hash(b"x").as_bytes());
        assert_eq!(blob_path(&dir.path().join(BLOBS_DIR), &hash.to_hex()), blobs.path(&hash));
    }

    #[test]
    fn a_damaged_file_is_noticed_and_nothing_is_left_behind() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let dest = tempfile::tempdir().unwrap();
        let written =
            write(dest.path(), &data.path().join(BLOBS_DIR), |p| Ok(store.snapshot_to(p).map(|_| ())?), &mut |_| {})
                .unwrap();
        assert!(written.path.join(MANIFEST).is_file());
        assert_eq!(inspect(&written.path).unwrap(), written.manifest);
        assert_eq!(locate(dest.path()).unwrap(), written.path);
        // Untouched, it restores (reading it changes nothing, so its hash still matches).
        let good = tempfile::tempdir().unwrap();
        restore(&written.path, good.path(), false, &mut |_| {}).unwrap();
        restore(&written.path, good.path(), false, &mut |_| {}).unwrap();

        // A database file changed after the backup was written is refused at restore.
        let mut db = fs::read(written.path.join(DB_FILE)).unwrap();
        let last = db.len() - 1;
        db[last] ^= 0xff;
        fs::write(written.path.join(DB_FILE), db).unwrap();
        let target = tempfile::tempdir().unwrap();
        let err = restore(&written.path, target.path(), false, &mut |_| {}).unwrap_err();
        assert!(matches!(err, BackupError::Damaged(_)), "{err}");
        let left: Vec<_> = fs::read_dir(target.path()).unwrap().collect();
        assert!(left.is_empty(), "a refused restore leaves nothing: {left:?}");
    }
}
