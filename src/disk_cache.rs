//! Files folio makes from stored files and can make again (thumbnails in `<data>/thumbs/`,
//! extracted text in `<data>/search/text/`), kept on the box's disk under one total size.
//!
//! With the files on a bucket (`blobs::s3`) these caches are what spares a page or a
//! re-index a trip to the store, and nothing else bounds them: a district box with a million
//! pictures would fill its disk with thumbnails. Housekeeping calls [`trim`] now and then; it
//! removes the least recently used files until the caches hold at most nine tenths of the
//! bound (so it does not run again at the next one made). "Used" is the file's modification
//! time, moved forward by [`used`] when a cached file is read, at most once a day per file,
//! so reading stays nearly free of writes. A file trimmed is simply made again when it is
//! next wanted.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The caches' size unless `--cache-mb` says otherwise.
pub const DEFAULT_BYTES: u64 = 4 * crate::config::GIB;

/// How stale a cached file's time may get before a read moves it forward.
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The folders of the caches in a data folder.
pub fn folders(data_dir: &Path) -> Vec<PathBuf> {
    vec![crate::media::thumbnails_dir(data_dir), crate::search::SearchIndex::text_cache_in(data_dir)]
}

/// Notes that the cached file at `path` was just read, so [`trim`] keeps it longer.
pub fn used(path: &Path) {
    let now = SystemTime::now();
    let Ok(meta) = std::fs::metadata(path) else { return };
    if meta.modified().is_ok_and(|at| now.duration_since(at).unwrap_or_default() < TOUCH_AFTER) {
        return;
    }
    if let Err(e) = std::fs::File::options().write(true).open(path).and_then(|f| f.set_modified(now)) {
        tracing::debug!(path = %path.display(), "could not mark a cached file used: {e}");
    }
}

/// What one [`trim`] found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// The caches' size before.
    pub bytes_before: u64,
    pub files_removed: u64,
    pub bytes_removed: u64,
}

/// Removes the least recently used files in `folders` (each flat; a missing one is empty)
/// until they hold at most nine tenths of `bound` bytes, if they hold more than `bound`.
pub fn trim(folders: &[PathBuf], bound: u64) -> io::Result<Trimmed> {
    let mut files = Vec::new();
    let mut total = 0u64;
    for folder in folders {
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            // Gone meanwhile (collected, or made again by a rename): skip it.
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            total += meta.len();
            files.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len(), entry.path()));
        }
    }
    let mut trimmed = Trimmed { bytes_before: total, ..Trimmed::default() };
    if total <= bound {
        return Ok(trimmed);
    }
    let goal = bound / 10 * 9;
    files.sort();
    for (_, len, path) in files {
        if total <= goal {
            break;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                total -= len;
                trimmed.files_removed += 1;
                trimmed.bytes_removed += len;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => total -= len,
            Err(e) => return Err(e),
        }
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, len: usize, age_s: u64) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, vec![7u8; len]).unwrap();
        let at = SystemTime::now() - Duration::from_secs(age_s);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(at).unwrap();
        path
    }

    #[test]
    fn the_least_recently_used_go_first_until_nine_tenths_of_the_bound() {
        let root = tempfile::tempdir().unwrap();
        let (thumbs, text) = (root.path().join("thumbs"), root.path().join("text"));
        std::fs::create_dir_all(&thumbs).unwrap();
        std::fs::create_dir_all(&text).unwrap();
        // 10 files of 100 bytes, the oldest first: a0 (10 days old) ... a9 (1 day old).
        let paths: Vec<PathBuf> = (0..10)
            .map(|i| {
                let dir = if i % 2 == 0 { &thumbs } else { &text };
                file(dir, &format!("a{i}"), 100, (10 - i) * 86_400)
            })
            .collect();
        let folders = [thumbs.clone(), text.clone(), root.path().join("missing")];

        assert_eq!(trim(&folders, 1000).unwrap(), Trimmed { bytes_before: 1000, ..Trimmed::default() }, "at the bound");
        // Reading the oldest makes it the newest.
        used(&paths[0]);
        let done = trim(&folders, 800).unwrap();
        assert_eq!(done, Trimmed { bytes_before: 1000, files_removed: 3, bytes_removed: 300 });
        let left: Vec<bool> = paths.iter().map(|p| p.exists()).collect();
        assert_eq!(left, [true, false, false, false, true, true, true, true, true, true]);
    }

    #[test]
    fn a_recently_used_file_is_not_touched_again() {
        let root = tempfile::tempdir().unwrap();
        let path = file(root.path(), "fresh", 10, 3600);
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        used(&path);
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), before, "an hour old: left as it is");
    }
}
