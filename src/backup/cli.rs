//! `folio backup` and `folio restore`: what they print and how they find the data.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::bail;

use super::{Progress, human};
use crate::control;
use crate::store::Store;

/// `folio backup --to PLACE`: through the running server if there is one, else from the
/// store directly.
pub fn backup(data_dir: &Path, place: &Path) -> anyhow::Result<()> {
    if !place.is_dir() {
        bail!(
            "{} is not a folder. Give the folder (or the USB stick's folder, such as /media/STICK) to write the backup into.",
            place.display()
        );
    }
    let mut printer = Printer::new();
    let blobs = crate::blobs::BlobStore::attach(data_dir)?;
    let written = match control::connect(data_dir)? {
        Some(client) => {
            eprintln!("folio is running: it copies its database while it keeps serving.");
            let lease = client.snapshot()?;
            let from = lease.path.clone();
            let written = super::write(
                place,
                &blobs,
                |dest| {
                    copy_synced(&from, dest).map_err(|source| super::BackupError::Io {
                        what: format!("cannot copy the database snapshot to {}", dest.display()),
                        source,
                    })
                },
                &mut |p| printer.show(p),
            );
            lease.release();
            written?
        }
        None => {
            if !Store::db_path(data_dir).is_file() {
                bail!(
                    "There is no folio data in {}. Give folio's data folder with --data (on the appliance it is /var/lib/folio).",
                    data_dir.display()
                );
            }
            let store = Store::open(data_dir)?;
            super::write(place, &blobs, |dest| Ok(store.snapshot_to(dest).map(|_| ())?), &mut |p| printer.show(p))?
        }
    };
    printer.done();
    let m = &written.manifest;
    println!(
        "Backup written to {}\n  {}: {} files, {} in all. Keep it somewhere safe: it holds the students' work.",
        written.path.display(),
        schools(&m.schools),
        m.files,
        human(m.size())
    );
    Ok(())
}

/// `folio restore BACKUP`: only while no folio serves the data directory.
pub fn restore(backup: &Path, data_dir: &Path, force: bool) -> anyhow::Result<()> {
    if control::connect(data_dir)?.is_some() {
        bail!(
            "folio is running on {}. Stop it first (sudo systemctl stop folio), run the restore again, then start it (sudo systemctl start folio).",
            data_dir.display()
        );
    }
    let backup = super::locate(backup)?;
    let manifest = super::inspect(&backup)?;
    eprintln!(
        "Restoring {} (made {} by folio {}): {}, {} files, {}.",
        backup.display(),
        manifest.created(),
        manifest.folio_version,
        schools(&manifest.schools),
        manifest.files,
        human(manifest.size())
    );
    let mut printer = Printer::new();
    let restored = super::restore(&backup, data_dir, force, &mut |p| printer.show(p)).map_err(|e| match e {
        crate::backup::BackupError::Store(crate::store::StoreError::InUse(_)) => anyhow::anyhow!(
            "Another folio is using {}. Stop it first (sudo systemctl stop folio), then run the restore again.",
            data_dir.display()
        ),
        other => other.into(),
    })?;
    printer.done();
    println!(
        "Restored into {}. This box now writes as replica {} (not as the box the backup came from).\nStart folio to use it (on the appliance: sudo systemctl start folio).",
        data_dir.display(),
        restored.replica
    );
    Ok(())
}

fn schools(names: &[String]) -> String {
    match names {
        [] => "no school set up".to_string(),
        names => names.join(", "),
    }
}

fn copy_synced(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::copy(from, to)?;
    std::fs::File::open(to)?.sync_all()
}

/// Progress on stderr: one line rewritten in place on a terminal; in a log, a line per step
/// and per tenth of the bytes copied.
struct Printer {
    terminal: bool,
    /// The step and tenth last printed.
    last: Option<(u8, u64)>,
}

impl Printer {
    fn new() -> Self {
        Printer { terminal: std::io::stderr().is_terminal(), last: None }
    }

    fn show(&mut self, progress: &Progress) {
        let line = progress.to_string();
        if self.terminal {
            eprint!("\r{line:<72}");
            self.last = Some((0, 0));
            return;
        }
        let now = match progress {
            Progress::Database => (0, 0),
            Progress::Files { bytes_done, bytes_total, .. } => (1, bytes_done * 10 / (*bytes_total).max(1)),
            Progress::Finishing => (2, 0),
        };
        if self.last != Some(now) {
            eprintln!("{line}");
            self.last = Some(now);
        }
    }

    fn done(&mut self) {
        if self.terminal && self.last.is_some() {
            eprintln!();
        }
    }
}
