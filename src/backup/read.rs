//! Reading backups: finding one in a folder, checking its description and database.

use std::fs;
use std::path::{Path, PathBuf};

use super::{BackupError, FORMAT, MANIFEST, Manifest, PREFIX};
use crate::store::tables::{OLDEST_MIGRATABLE_SCHEMA, SCHEMA_VERSION};

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
