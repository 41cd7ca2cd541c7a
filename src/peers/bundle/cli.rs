//! `folio bundle export` and `folio bundle import`: through the running server when there is
//! one (redb lets one process open the store), else on the store directly.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{ExportSummary, ImportReport, Importer};
use crate::blobs::BlobStore;
use crate::control::{self, ControlError};
use crate::peers::Identity;
use crate::store::Store;

/// `folio bundle export --peer ID --to FILE`. `to` may be a folder (a USB stick): the file
/// is then named after the two boxes and the date.
pub fn export(data_dir: &Path, peer: &str, to: &Path) -> anyhow::Result<()> {
    let folder = if to.is_dir() { to.to_path_buf() } else { to.parent().map(Path::to_path_buf).unwrap_or_default() };
    let folder = if folder.as_os_str().is_empty() { PathBuf::from(".") } else { folder };
    if !folder.is_dir() {
        bail!("{} is not a folder. Give a file in an existing folder (or the USB stick's folder).", folder.display());
    }
    let partial = folder.join(format!(".folio-bundle-{:08x}.partial", rand::random::<u32>()));
    let written = write_to(data_dir, peer, &partial);
    let summary = match written {
        Ok(summary) => summary,
        Err(e) => {
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    let target = if to.is_dir() {
        let day = crate::domain::calendar::day_of(crate::domain::hlc::wall_clock_ms());
        to.join(format!(
            "folio-bundle-{}-to-{}-{day}.{}",
            summary.source.short(),
            summary.target.short(),
            super::EXTENSION
        ))
    } else {
        to.to_path_buf()
    };
    fs::rename(&partial, &target).with_context(|| format!("cannot name the bundle {}", target.display()))?;
    if let Ok(dir) = File::open(&folder) {
        let _ = dir.sync_all();
    }
    println!(
        "Wrote {} ({}): {}.\nSigned by this box ({}…). Import it on box {}… with `folio bundle import` or on its admin page.",
        target.display(),
        crate::backup::human(summary.bytes),
        summary.describe(),
        summary.source.short(),
        summary.target.short()
    );
    Ok(())
}

fn write_to(data_dir: &Path, peer: &str, partial: &Path) -> anyhow::Result<ExportSummary> {
    let file = File::create(partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let summary = match control::connect(data_dir)? {
        Some(client) => {
            eprintln!("folio is running: it writes the bundle while it keeps serving.");
            client.bundle_export(peer, &mut out).map_err(plain)?
        }
        None => {
            let (store, blobs, identity) = open(data_dir)?;
            let peer = super::find_peer(&store, peer)?;
            super::export(&store, &blobs, &identity, &peer, &mut out)?
        }
    };
    let file = out.into_inner().map_err(|e| e.into_error()).context("cannot write the bundle")?;
    file.sync_all().context("cannot write the bundle")?;
    Ok(summary)
}

/// `folio bundle import FILE`.
pub fn import(data_dir: &Path, bundle: &Path, max_bytes: u64) -> anyhow::Result<()> {
    let mut file = File::open(bundle).with_context(|| format!("cannot open {}", bundle.display()))?;
    let size = file.metadata().with_context(|| format!("cannot read {}", bundle.display()))?.len();
    let report: ImportReport = match control::connect(data_dir)? {
        Some(client) => {
            eprintln!("folio is running: it applies the bundle while it keeps serving.");
            client.bundle_import(&mut file, size).map_err(plain)?
        }
        None => {
            let (store, blobs, identity) = open(data_dir)?;
            let importer = Importer { store: &store, blobs: &blobs, data_dir, me: identity.id(), max_bytes };
            importer.import(&mut std::io::BufReader::with_capacity(1 << 20, file), Some(size))?
        }
    };
    let mut line = report.describe();
    if let Some(first) = line.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let _ = writeln!(std::io::stdout(), "{line}.");
    Ok(())
}

/// The store, files and identity of a folio that is not running.
fn open(data_dir: &Path) -> anyhow::Result<(Store, BlobStore, Identity)> {
    if !Store::db_path(data_dir).is_file() {
        bail!(
            "There is no folio data in {}. Give folio's data folder with --data (on the appliance it is /var/lib/folio).",
            data_dir.display()
        );
    }
    let store = Store::open(data_dir)?;
    let blobs = BlobStore::open(data_dir).context("cannot open the box's files")?;
    let identity = Identity::load_or_create(data_dir)?;
    Ok((store, blobs, identity))
}

/// A refusal from the server is already in plain words: show it as it is.
fn plain(e: ControlError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}
