//! The one backup (admin page) or restore (setup page) the box runs at a time.

use crate::store::Queries;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::read::inspect;
use super::restore::{PENDING, stage_pending};
use super::write::{Written, write};
use super::{BackupError, Progress};
use crate::store::Store;

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
        blobs: crate::blobs::BlobStore,
        in_flight: crate::blobs::InFlight,
        place: PathBuf,
    ) -> Result<(), BackupError> {
        self.claim(JobKind::Backup, &place)?;
        let jobs = self.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = backup_live(&store, &blobs, &in_flight, &place, &mut |p| jobs.report(p));
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
    blobs: &crate::blobs::BlobStore,
    in_flight: &crate::blobs::InFlight,
    place: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Written, BackupError> {
    let _hold = in_flight.hold_all();
    write(place, blobs, |dest| Ok(store.snapshot_to(dest).map(|_| ())?), progress)
}
