//! Restoring into a data directory (staged, verified, then swapped in), and the setup
//! page's restore: staged while serving, swapped in at the next start.

use crate::store::Queries;

use std::fs;
use std::io;
use std::path::Path;

use super::read::inspect;
use super::write::{CopyError, RemoveOnDrop, Side, blob_path, copy_verified, sync_dir, sync_dirs, write_synced};
use super::{BLOBS_DIR, BackupError, DB_FILE, FileProgress, Manifest, Progress, io_err};
use crate::store::{Store, snapshot};

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
    let mut files = FileProgress::start(manifest.files, bytes_total, progress);
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
        files.copied(copied);
    }
    files.finish();
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
    // The box's own settings stay: its certificates, and where it keeps its files and the key
    // to that bucket (restored files are sent up to the bucket when folio next opens).
    let keep = [
        staging.file_name().expect("named").to_owned(),
        old.file_name().expect("named").to_owned(),
        crate::tls::DIR.into(),
        crate::blobs::migrate::PLACE_FILE.into(),
        crate::blobs::s3::CREDENTIALS_FILE.into(),
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
    // Says the files in blobs/ came from the backup: a box on a bucket sends them up next.
    write_synced(&data_dir.join(crate::blobs::migrate::RESTORED_MARKER), b"")
        .map_err(io_err("cannot finish the restore"))?;
    sync_dir(data_dir)?;
    fs::remove_dir_all(staging).map_err(io_err("cannot tidy up after the restore"))?;
    fs::remove_dir_all(&old).map_err(io_err(format!("restored, but cannot delete the old data in {}", old.display())))
}

/// Where the setup page stages a restore, inside the data directory.
pub(super) const PENDING: &str = ".restore-pending";
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
pub(super) fn stage_pending(
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
