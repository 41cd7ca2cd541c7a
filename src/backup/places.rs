//! Where backups can go (the admin page): the data directory's folder and USB sticks.

use std::fs;
use std::path::{Path, PathBuf};

use super::read::list_backups;
use super::{Manifest, USB_ROOTS};

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
pub(super) fn unescape_mount(raw: &str) -> String {
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
