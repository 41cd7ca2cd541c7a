use super::*;
use crate::store::Store;
use std::fs;

use super::places::unescape_mount;
use super::read::{inspect, locate};
use super::restore::restore;
use super::write::{blob_path, write};

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
    let blobs = crate::blobs::BlobStore::open(data.path()).unwrap();
    let written = write(dest.path(), &blobs, |p| Ok(store.snapshot_to(p).map(|_| ())?), &mut |_| {}).unwrap();
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
