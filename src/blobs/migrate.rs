//! Where a box keeps its files, and moving them: `folio blobs migrate --to s3://BUCKET` (or
//! `--to folder`, back to the box's disk).
//!
//! The place is remembered in `<data>/blobs-at` (`folder` or `s3://BUCKET`; no file means the
//! folder), written atomically, and changed only once every file is on the other side.
//!
//! A migration copies each file, then reads the copy back and checks its BLAKE3 hash (a file's
//! name *is* its hash, so the check needs nothing but the copy). Each checked file is written
//! to `<data>/blobs-migrate.done`, so an interrupted migration resumes where it stopped. When
//! every file is there, the place is switched and the progress file removed. The old copies
//! are left where they were, for the IT person to remove once they have seen folio work.
//!
//! Run it with folio stopped: files uploaded meanwhile would be missed. The command opens the
//! database, which a running folio holds, so it refuses to run beside one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use super::{BlobError, BlobHash, BlobStore, BlobsAt, map_io, s3, sync_dir};

/// The file that says where the files are.
pub const PLACE_FILE: &str = "blobs-at";
/// Left in the data folder by a restore: the files in `blobs/` came from a backup, and a box
/// whose files are on a bucket sends them there at its next start.
pub const RESTORED_MARKER: &str = "blobs-restored";
/// Hashes copied and checked so far by a migration in progress.
const PROGRESS_FILE: &str = "blobs-migrate.done";

/// Where this box keeps its files: the folder unless `blobs-at` says otherwise.
pub fn remembered(data_dir: &Path) -> io::Result<BlobsAt> {
    match fs::read_to_string(data_dir.join(PLACE_FILE)) {
        Ok(text) => text.trim().parse().map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", data_dir.join(PLACE_FILE).display()))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BlobsAt::Folder),
        Err(e) => Err(e),
    }
}

/// Records where the files are, durably (a new file renamed over the old).
pub fn remember(data_dir: &Path, at: &BlobsAt) -> io::Result<()> {
    let tmp = data_dir.join(format!(".{PLACE_FILE}.new"));
    let mut file = File::create(&tmp)?;
    writeln!(file, "{at}")?;
    file.sync_all()?;
    fs::rename(&tmp, data_dir.join(PLACE_FILE))?;
    sync_dir(data_dir)
}

/// What a migration did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Files copied and checked in this run.
    pub copied: u64,
    /// Files a run before this one had already copied and checked.
    pub resumed: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("the files are already in {0}")]
    AlreadyThere(BlobsAt),
    #[error("{0}")]
    Open(#[from] super::OpenError),
    #[error("{0}")]
    Target(String),
    #[error(
        "file {hash} reads back as {got} from {to}: the copy is damaged, and nothing was switched. Run the migration again."
    )]
    Mismatch { hash: String, got: String, to: BlobsAt },
    #[error("file {0} went missing while it was being copied")]
    Vanished(String),
    #[error("{0}")]
    Blob(#[from] BlobError),
    #[error("cannot keep the migration's progress: {0}")]
    Io(#[from] io::Error),
}

/// Copies every file of the box in `data_dir` to `to`, checks each copy, and then makes `to`
/// the place the box uses. `progress` is told (files done, files in all, bytes done, bytes in
/// all) after each file.
pub fn migrate(
    data_dir: &Path,
    to: &BlobsAt,
    progress: &mut dyn FnMut(u64, u64, u64, u64),
) -> Result<Migrated, MigrateError> {
    let from = BlobStore::open(data_dir)?;
    if from.at() == *to {
        return Err(MigrateError::AlreadyThere(to.clone()));
    }
    let target = match to {
        BlobsAt::Folder => BlobStore::open_folder(data_dir)?,
        BlobsAt::S3 { bucket } => {
            let settings = s3::S3Settings::from_env(data_dir).map_err(MigrateError::Target)?;
            let bucket = s3::Bucket::connect(bucket, &settings).map_err(MigrateError::Target)?;
            BlobStore::with_bucket(data_dir, bucket)?
        }
    };
    let done = copy_all(&from, &target, &data_dir.join(PROGRESS_FILE), progress)?;
    remember(data_dir, to)?;
    let _ = fs::remove_file(data_dir.join(PROGRESS_FILE));
    Ok(done)
}

/// Copies (and checks) every file of `from` not yet listed in `journal` into `to`, listing
/// each as it is done.
pub(super) fn copy_all(
    from: &BlobStore,
    to: &BlobStore,
    journal: &Path,
    progress: &mut dyn FnMut(u64, u64, u64, u64),
) -> Result<Migrated, MigrateError> {
    let already: std::collections::HashSet<BlobHash> = match File::open(journal) {
        Ok(file) => io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| BlobHash::from_hex(l.trim()))
            .collect(),
        Err(_) => Default::default(),
    };
    let all = from.all()?;
    let mut sizes = Vec::with_capacity(all.len());
    for hash in &all {
        let size = match from.bucket() {
            Some(bucket) => bucket.head_blocking(hash)?.map(|(size, _)| size),
            None => fs::metadata(from.path(hash)).ok().map(|m| m.len()),
        };
        sizes.push(size.ok_or_else(|| MigrateError::Vanished(hash.to_hex()))?);
    }
    let (files_total, bytes_total) = (all.len() as u64, sizes.iter().sum::<u64>());
    let mut log = OpenOptions::new().create(true).append(true).open(journal)?;
    let mut done = Migrated::default();
    let mut bytes_done = 0;
    for (hash, size) in all.iter().zip(&sizes) {
        if already.contains(hash) && to.contains(hash) {
            done.resumed += 1;
        } else {
            copy_one(from, to, hash)?;
            writeln!(log, "{hash}")?;
            log.sync_data()?;
            done.copied += 1;
            done.bytes += size;
        }
        bytes_done += size;
        progress(done.copied + done.resumed, files_total, bytes_done, bytes_total);
    }
    Ok(done)
}

/// Copies one file through `to`'s own way in (a temp file, then its hash name), then reads it
/// back from `to` and checks its hash.
fn copy_one(from: &BlobStore, to: &BlobStore, hash: &BlobHash) -> Result<(), MigrateError> {
    let Some((size, mut reader)) = from.reader(hash)? else { return Err(MigrateError::Vanished(hash.to_hex())) };
    let tmp = to.inner.tmp.join(format!("{:032x}.migrate", rand::random::<u128>()));
    let staged = (|| {
        let mut file = super::read::private_file(&tmp)?;
        let copied = io::copy(&mut reader, &mut file)?;
        if copied != size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file ended early"));
        }
        file.sync_all()
    })();
    if let Err(e) = staged {
        super::remove_quietly(&tmp);
        return Err(map_io(e).into());
    }
    to.place(&tmp, hash, size).inspect_err(|_| super::remove_quietly(&tmp))?;
    let Some((_, mut back)) = to.reader(hash)? else { return Err(MigrateError::Vanished(hash.to_hex())) };
    let got = hash_of(&mut back).map_err(map_io)?;
    if got != *hash {
        // Removed, or the next run would take the damaged copy for one already there.
        to.remove(hash)?;
        return Err(MigrateError::Mismatch { hash: hash.to_hex(), got: got.to_hex(), to: to.at() });
    }
    Ok(())
}

fn hash_of(reader: &mut dyn Read) -> io::Result<BlobHash> {
    Ok(BlobHash(*blake3::Hasher::new().update_reader(reader)?.finalize().as_bytes()))
}

/// `folio blobs migrate`: the migration with a progress bar on stderr.
pub fn cli(data_dir: &Path, to: &BlobsAt) -> anyhow::Result<()> {
    if crate::control::connect(data_dir)?.is_some() {
        anyhow::bail!(
            "folio is running on {}. Stop it first (sudo systemctl stop folio), run the migration, then start it again.",
            data_dir.display()
        );
    }
    // Holding the database keeps a folio from starting meanwhile.
    let _store = crate::store::Store::open(data_dir)?;
    let terminal = io::stderr().is_terminal();
    let mut last_tenth = u64::MAX;
    let migrated = migrate(data_dir, to, &mut |files, files_total, bytes, bytes_total| {
        let line = bar(files, files_total, bytes, bytes_total);
        let tenth = bytes * 10 / bytes_total.max(1);
        if terminal {
            eprint!("\r{line}");
        } else if tenth != last_tenth || files == files_total {
            eprintln!("{line}");
            last_tenth = tenth;
        }
    })?;
    if terminal {
        eprintln!();
    }
    println!(
        "All files are now in {to} ({} copied and checked now, {} by an earlier run). folio uses {to} from its next start. The old copies were left where they were; remove them once folio works.",
        migrated.copied, migrated.resumed
    );
    Ok(())
}

/// `[#########-----------]  45%  1,234 of 2,741 files  1.2 GB of 2.7 GB`
fn bar(files: u64, files_total: u64, bytes: u64, bytes_total: u64) -> String {
    const WIDTH: u64 = 24;
    let filled = (bytes * WIDTH).checked_div(bytes_total).unwrap_or(WIDTH) as usize;
    let percent = (bytes * 100).checked_div(bytes_total).unwrap_or(100);
    format!(
        "[{}{}] {percent:>3}%  {files} of {files_total} files  {} of {}",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled),
        super::human_size(bytes),
        super::human_size(bytes_total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn put(store: &BlobStore, bytes: &[u8]) -> BlobHash {
        let mut writer = store.writer(u64::MAX).unwrap();
        writer.write(bytes).await.unwrap();
        writer.finish().await.unwrap().hash
    }

    #[test]
    fn the_place_is_the_folder_until_another_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(remembered(dir.path()).unwrap(), BlobsAt::Folder);
        let bucket = BlobsAt::S3 { bucket: "district-files".into() };
        remember(dir.path(), &bucket).unwrap();
        assert_eq!(remembered(dir.path()).unwrap(), bucket);
        fs::write(dir.path().join(PLACE_FILE), "ftp://nowhere\n").unwrap();
        assert!(remembered(dir.path()).unwrap_err().to_string().contains("s3://BUCKET"));
    }

    #[test]
    fn a_box_with_files_is_not_switched_by_a_flag_but_an_empty_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        runtime.block_on(put(&store, b"a drawing"));
        // No bucket is reached: the refusal comes first.
        let wanted = BlobsAt::S3 { bucket: "district-files".into() };
        let refused = BlobStore::open_at(dir.path(), Some(&wanted), None).unwrap_err();
        assert!(refused.to_string().contains("folio blobs migrate --to s3://district-files"), "{refused}");
        assert_eq!(remembered(dir.path()).unwrap(), BlobsAt::Folder);
    }

    /// Two folders stand in for the two places: what a journal lists as done (and the target
    /// has) is not copied again, the rest is copied and checked.
    #[tokio::test]
    async fn an_interrupted_copy_goes_on_where_it_stopped() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (from, to) = (BlobStore::open(a.path()).unwrap(), BlobStore::open(b.path()).unwrap());
        let mut hashes = Vec::new();
        for i in 0..4u8 {
            hashes.push(put(&from, &[i; 5000]).await);
        }
        hashes.sort();
        // The first run got as far as one file.
        put(&to, &[0u8; 5000]).await;
        let journal = a.path().join(PROGRESS_FILE);
        fs::write(&journal, format!("{}\n", hashes.iter().find(|h| to.contains(h)).unwrap())).unwrap();
        let mut seen = Vec::new();
        let done = tokio::task::spawn_blocking(move || {
            let done = copy_all(&from, &to, &journal, &mut |files, total, bytes, bytes_total| {
                seen.push((files, total, bytes, bytes_total))
            });
            (done, seen, to)
        })
        .await
        .unwrap();
        let (done, seen, to) = done;
        assert_eq!(done.unwrap(), Migrated { copied: 3, resumed: 1, bytes: 15_000 });
        assert_eq!(seen.last(), Some(&(4, 4, 20_000, 20_000)));
        for hash in &hashes {
            assert!(to.contains(hash));
        }
    }

    #[test]
    fn a_copy_that_reads_back_wrong_is_refused() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let from = BlobStore::open(a.path()).unwrap();
        let to = BlobStore::open(b.path()).unwrap();
        let hash = runtime.block_on(put(&from, b"the true bytes"));
        // The source file was damaged on disk after it was stored: its name no longer
        // matches, and the copy is not taken as good.
        fs::write(from.path(&hash), b"the false bytes").unwrap();
        let err = copy_all(&from, &to, &a.path().join(PROGRESS_FILE), &mut |_, _, _, _| ()).unwrap_err();
        assert!(matches!(err, MigrateError::Mismatch { .. }), "{err}");
        assert!(!to.contains(&hash), "the damaged copy is not left to pass for a good one next time");
    }
}
