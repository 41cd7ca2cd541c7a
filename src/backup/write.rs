//! Writing a backup folder: the snapshot, then every file it names, checked as copied,
//! under a hidden name renamed when whole.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{
    BLOBS_DIR, BackupError, DB_FILE, FORMAT, FileProgress, MANIFEST, Manifest, PREFIX, Progress, civil_utc, io_err,
};
use crate::store::snapshot;
use crate::store::tables::SCHEMA_VERSION;

/// A finished backup.
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// Writes a new backup folder into `parent`. `make_db` writes the consistent database copy
/// to the path it is given (a live store's `snapshot_to`, or a copy of a snapshot the
/// running server made); the files it names are then copied from `blobs` (the box's folder
/// or its bucket). Whoever calls this keeps garbage collection off until it returns.
pub fn write(
    parent: &Path,
    blobs: &crate::blobs::BlobStore,
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
            let hash = crate::blobs::BlobHash::from_hex(hex)?;
            let size = match blobs.size_now(&hash) {
                Ok(Some(size)) => size,
                // Work synced from another box whose file has not arrived yet: the restored
                // box fetches it from its peers, as this one would have.
                Ok(None) if summary.on_their_way.contains(hex) => return None,
                Ok(None) => {
                    return Some(Err(BackupError::BoxDamaged(format!(
                        "file {hex}, which the database names, is missing"
                    ))));
                }
                Err(e @ crate::blobs::BlobError::Unavailable(_)) => {
                    return Some(Err(BackupError::Io { what: format!("cannot read file {hex}"), source: e.into_io() }));
                }
                Err(e) => return Some(Err(BackupError::BoxDamaged(format!("file {hex} cannot be read: {e}")))),
            };
            Some(Ok((hex.clone(), size)))
        })
        .collect::<Result<_, BackupError>>()?;
    let bytes_total: u64 = sources.iter().map(|(_, size)| size).sum();
    let total = sources.len() as u64;
    let mut files = FileProgress::start(total, bytes_total, progress);
    for (hex, _) in &sources {
        let dest = blob_path(&partial.join(BLOBS_DIR), hex);
        fs::create_dir_all(dest.parent().expect("a blob has a folder"))
            .map_err(|e| no_room_or(e, parent, bytes_total, "cannot make a folder in the backup"))?;
        let hash = crate::blobs::BlobHash::from_hex(hex).expect("checked above");
        let copied = match blobs.reader(&hash) {
            Ok(Some((_, mut source))) => copy_verified_from(&mut source, Path::new(hex), &dest, Some(hex)),
            Ok(None) => Err(CopyError::Read(io::ErrorKind::NotFound.into())),
            Err(e) => Err(CopyError::Read(e.into_io())),
        }
        .map_err(|e| e.into_error(Side::Box, parent, bytes_total))?;
        files.copied(copied);
    }
    files.finish();
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
pub(super) struct RemoveOnDrop(pub(super) Option<PathBuf>);

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
pub(super) fn copy_verified(from: &Path, to: &Path, expect: Option<&str>) -> Result<u64, CopyError> {
    let mut src = File::open(from).map_err(CopyError::Read)?;
    copy_verified_from(&mut src, from, to, expect)
}

/// [`copy_verified`] from a reader; `from` names it in the error.
fn copy_verified_from(src: &mut dyn Read, from: &Path, to: &Path, expect: Option<&str>) -> Result<u64, CopyError> {
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

pub(super) enum CopyError {
    Read(io::Error),
    Write(io::Error),
    Mismatch(PathBuf),
}

/// Which side a copy reads from: the box's data (backup) or a backup (restore).
#[derive(Clone, Copy)]
pub(super) enum Side {
    Box,
    Backup,
}

impl CopyError {
    pub(super) fn into_error(self, from: Side, dest: &Path, needed: u64) -> BackupError {
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

pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
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
pub(super) fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub(super) fn sync_dirs(root: &Path) -> Result<(), BackupError> {
    let blobs = root.join(BLOBS_DIR);
    if blobs.is_dir() {
        for entry in fs::read_dir(&blobs).map_err(io_err("cannot list the backup"))? {
            sync_dir(&entry.map_err(io_err("cannot list the backup"))?.path())?;
        }
        sync_dir(&blobs)?;
    }
    sync_dir(root)
}
