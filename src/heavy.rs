//! Heavy work on stored files, done so that no file can take the box down.
//!
//! Two kinds of work decode what students upload: pictures into thumbnails
//! ([`crate::media::make_thumbnail`]) and documents into text for search
//! ([`crate::extract::extract_text`]). A crafted file can make a decoder produce far more than
//! it reads (a 2 KB PDF that inflates to 1 GiB, a truncated PNG whose header claims
//! 11,800 × 11,800 pixels), and a file that kills the process once kills it again on every
//! restart if it is still on a to-do list. Four rules keep that from happening; this module
//! holds the last three, the decoders hold the first:
//!
//! 1. **Every decoder is bounded by what it produces** (text bytes, pixels), never only by its
//!    input: see `extract` (`BoundedInflate`, the PDF load filter) and `media` (the pixel
//!    budget and scaled JPEG decoding). One file's processing stays under
//!    [`MEMORY_PER_FILE`]; unit tests measure it with a counting allocator ([`meter`]).
//! 2. **Few at once**: at most [`AT_ONCE`] heavy jobs run at a time, thumbnails and text
//!    extraction alike, so the worst case is `AT_ONCE × MEMORY_PER_FILE`. Requests for the
//!    same job on the same file wait for the one running instead of decoding it again.
//! 3. **Failures are remembered**: a file whose job failed for a reason that lies in the file
//!    (it is corrupt, too large, or its decoder panicked) gets a *failed* mark and is never
//!    decoded again by this version of folio; the work shows "no preview" (or has no text in
//!    search) and the file itself still downloads.
//! 4. **Crashes are remembered too**: before a job starts, a *started* mark is written and
//!    synced; it is removed when the job ends. A process that dies mid-job (out of memory, an
//!    abort that `catch_unwind` cannot catch) leaves the mark, and the next attempt — after
//!    the restart — finds it, turns it into a failed mark and skips the file instead of
//!    dying on it again. The to-do rows (`THUMBNAIL_TODO`, `SEARCH_TODO`) then drain.
//!
//! # Where the marks live, and why there
//!
//! Marks are files in `<data>/quarantine/` (`<job>-<blob hash>.started|.failed`), beside the
//! other state derived from the blobs (`thumbs/`, `search/text/`), not rows in redb:
//!
//! - They describe a blob's *content* (same bytes, same failure), not anything a person did, so
//!   they are derived state: deleting the folder costs one more attempt per file, protected
//!   by the started mark like any other. They are not operations and never sync.
//! - A redb row would need two durable commits per decode through the store's single writer,
//!   contending with uploads and sync, and would make a thumbnail request (a read) write to
//!   the database. A small file written and synced outside the database costs the same fsync
//!   without the lock.
//! - Garbage collection removes them with the blob, like thumbnails and extracted text.
//!
//! A failed mark names the folio version that wrote it; a newer folio (which may read the
//! file well) tries once more, still protected by the started mark.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::blobs::BlobHash;

/// How many heavy jobs run at once across the whole box. Two keep both cores of a small box
/// busy while bounding memory to twice [`MEMORY_PER_FILE`].
pub const AT_ONCE: usize = 2;
/// What one file's processing may take in memory, at most. The decoders' own limits are set
/// well inside it; unit tests check them against it.
pub const MEMORY_PER_FILE: usize = 64 * 1024 * 1024;

/// The kinds of heavy work, each remembered separately: a PNG that makes no thumbnail says
/// nothing about its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    Thumbnail,
    Text,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Thumbnail => "thumbnail",
            Job::Text => "text",
        }
    }
}

/// Why a job did not give its result.
#[derive(Debug)]
pub enum Refused<E> {
    /// The file was given up on earlier (failed, panicked, or the process died while working
    /// on it); nothing was decoded now. The reason is the one recorded then.
    Quarantined(String),
    /// The job ran and failed. When the failure lies in the file it is now remembered.
    Failed(E),
}

impl<E: std::fmt::Display> std::fmt::Display for Refused<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Quarantined(reason) => write!(f, "given up on earlier: {reason}"),
            Refused::Failed(e) => e.fmt(f),
        }
    }
}

/// The gate every heavy job goes through. Cheap to clone; one per data directory.
#[derive(Clone)]
pub struct Heavy(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    /// Jobs actually run (not answered from a mark), for tests and logs.
    attempts: AtomicU64,
}

#[derive(Default)]
struct State {
    running: usize,
    in_flight: HashSet<(Job, String)>,
}

impl Heavy {
    /// The gate for the data directory `data_dir` (marks in `<data_dir>/quarantine/`, made
    /// when first needed). Every call for the same directory in one process returns the same
    /// gate: a started mark is taken for a dead process's only when no gate of this process
    /// holds the job, so two gates on one directory would mistake each other's work for a
    /// crash.
    pub fn open(data_dir: &Path) -> Heavy {
        static GATES: Mutex<Vec<(PathBuf, std::sync::Weak<Inner>)>> = Mutex::new(Vec::new());
        let dir = data_dir.join("quarantine");
        let key = fs::canonicalize(data_dir).map(|d| d.join("quarantine")).unwrap_or_else(|_| dir.clone());
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        gates.retain(|(_, gate)| gate.strong_count() > 0);
        if let Some(inner) = gates.iter().find(|(path, _)| *path == key).and_then(|(_, gate)| gate.upgrade()) {
            return Heavy(inner);
        }
        let inner =
            Arc::new(Inner { dir, state: Mutex::default(), changed: Condvar::new(), attempts: AtomicU64::new(0) });
        gates.push((key, Arc::downgrade(&inner)));
        Heavy(inner)
    }

    /// Jobs actually run since this gate was made.
    pub fn attempts(&self) -> u64 {
        self.0.attempts.load(Ordering::Relaxed)
    }

    /// Whether `job` on this file was given up on (and why).
    pub fn quarantined(&self, job: Job, hash: &BlobHash) -> Option<String> {
        let text = fs::read_to_string(self.mark(job, hash, FAILED)).ok()?;
        let (version, reason) = text.split_once('\n').unwrap_or((text.as_str(), ""));
        (version == version_line()).then(|| reason.trim().to_string())
    }

    /// Runs `work` for `job` on the blob `hash`, blocking until a slot is free. Call it from a
    /// blocking thread.
    ///
    /// `lasting` says whether an error lies in the file (then it is remembered and the file is
    /// not tried again) or elsewhere (a full disk, a file still on its way: tried again next
    /// time). A panic in `work` is caught and always remembered. `work` should first look for
    /// its result (a thumbnail already made), since a request that waited for the same job
    /// runs it after the first one finished.
    pub fn run<T, E: std::fmt::Display>(
        &self,
        job: Job,
        hash: &BlobHash,
        work: impl FnOnce() -> Result<T, E>,
        lasting: impl FnOnce(&E) -> bool,
    ) -> Result<T, Refused<E>> {
        let hex = hash.to_hex();
        let inner = &self.0;
        let key = (job, hex.clone());
        let mut state = inner.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.in_flight.contains(&key) {
            state = wait(&inner.changed, state);
        }
        state.in_flight.insert(key.clone());
        drop(state);
        // From here on this thread owns the job on this file: released on every return.
        let _owned = Release { inner, key: Some(key), slot: false };

        if let Some(reason) = self.quarantined(job, hash) {
            return Err(Refused::Quarantined(reason));
        }
        let started = self.mark(job, hash, STARTED);
        if started.exists() {
            // Nobody in this process holds the job (we do now), so the mark is from a process
            // that died while working on this file: do not die on it again.
            let reason = "folio stopped while working on this file (it may have run out of memory)".to_string();
            tracing::warn!(hash = %hex, job = job.name(), "a file is quarantined: {reason}");
            self.remember_failure(job, hash, &reason);
            let _ = fs::remove_file(&started);
            return Err(Refused::Quarantined(reason));
        }

        let mut state = inner.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.running >= AT_ONCE {
            state = wait(&inner.changed, state);
        }
        state.running += 1;
        drop(state);
        let _slot = Release { inner, key: None, slot: true };

        if let Err(e) = self.write_mark(&started, "") {
            // Without the mark a crash could loop; do not start without it.
            tracing::warn!(hash = %hex, job = job.name(), "cannot write the processing mark: {e}");
            return Err(Refused::Quarantined(format!("the processing mark could not be written: {e}")));
        }
        inner.attempts.fetch_add(1, Ordering::Relaxed);
        // `work` owns what it touches; a panic leaves nothing shared half-changed here.
        let outcome = catch_unwind(AssertUnwindSafe(work));
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                if lasting(&e) {
                    tracing::info!(hash = %hex, job = job.name(), "a file is quarantined: {e}");
                    self.remember_failure(job, hash, &e.to_string());
                }
                Err(Refused::Failed(e))
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let reason = format!("the decoder failed ({message})");
                tracing::warn!(hash = %hex, job = job.name(), "a file is quarantined: {reason}");
                self.remember_failure(job, hash, &reason);
                Err(Refused::Quarantined(reason))
            }
        };
        let _ = fs::remove_file(&started);
        result
    }

    /// Forgets everything remembered about a blob that is gone from the box.
    pub fn forget(&self, hash: &BlobHash) {
        for job in [Job::Thumbnail, Job::Text] {
            for state in [STARTED, FAILED] {
                let _ = fs::remove_file(self.mark(job, hash, state));
            }
        }
    }

    fn mark(&self, job: Job, hash: &BlobHash, state: &str) -> PathBuf {
        self.0.dir.join(format!("{}-{}.{state}", job.name(), hash.to_hex()))
    }

    fn remember_failure(&self, job: Job, hash: &BlobHash, reason: &str) {
        let text = format!("{}\n{reason}\n", version_line());
        if let Err(e) = self.write_mark(&self.mark(job, hash, FAILED), &text) {
            tracing::warn!(hash = %hash.to_hex(), "cannot remember that a file failed: {e}");
        }
    }

    /// Writes a mark and syncs it and its folder, so it survives whatever ends the process
    /// (and a power cut after it).
    fn write_mark(&self, path: &Path, text: &str) -> io::Result<()> {
        fs::create_dir_all(&self.0.dir)?;
        let mut file = fs::File::create(path)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::File::open(&self.0.dir)?.sync_all()
    }
}

const STARTED: &str = "started";
const FAILED: &str = "failed";

fn version_line() -> String {
    format!("folio {}", crate::VERSION)
}

fn wait<'a>(changed: &Condvar, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    changed.wait(state).unwrap_or_else(|e| e.into_inner())
}

/// Gives back the job's claim on its file, or its slot, however `run` returns.
struct Release<'a> {
    inner: &'a Inner,
    key: Option<(Job, String)>,
    slot: bool,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = &self.key {
            state.in_flight.remove(key);
        }
        if self.slot {
            state.running -= 1;
        }
        drop(state);
        self.inner.changed.notify_all();
    }
}

/// A counting allocator for the unit tests: how many bytes one thread had allocated at most
/// while it ran a closure, so tests can hold a decoder to [`MEMORY_PER_FILE`].
#[cfg(test)]
pub mod meter {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Meter;

    thread_local! {
        // Const-initialised and without destructors, so the allocator may touch them at any
        // time without allocating.
        static NOW: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(delta: isize) {
        let _ = NOW.try_with(|now| {
            let value = now.get() + delta;
            now.set(value);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(value)));
        });
    }

    unsafe impl GlobalAlloc for Meter {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                add(layout.size() as isize);
            }
            p
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                add(layout.size() as isize);
            }
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) };
            add(-(layout.size() as isize));
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                add(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    /// Runs `f` and returns its result with the most this thread had allocated, above what it
    /// held before, at any moment during it.
    pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let start = NOW.with(Cell::get);
        PEAK.with(|peak| peak.set(start));
        let result = f();
        let peak = PEAK.with(Cell::get);
        (result, (peak - start).max(0) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn hash(n: u8) -> BlobHash {
        BlobHash::from_hex(&format!("{n:02x}").repeat(32)).unwrap()
    }

    #[test]
    fn a_failure_in_the_file_is_remembered_and_not_tried_again() {
        let dir = tempfile::tempdir().unwrap();
        let heavy = Heavy::open(dir.path());
        let runs = AtomicUsize::new(0);
        let attempt = || {
            heavy.run(
                Job::Thumbnail,
                &hash(1),
                || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Err::<(), _>("the picture is too large")
                },
                |_| true,
            )
        };
        assert!(matches!(attempt(), Err(Refused::Failed(_))));
        for _ in 0..3 {
            assert!(matches!(attempt(), Err(Refused::Quarantined(reason)) if reason.contains("too large")));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Remembered on disk, so a new process (a new gate) does not try either.
        let again = Heavy::open(dir.path());
        assert!(again.quarantined(Job::Thumbnail, &hash(1)).is_some());
        assert!(again.quarantined(Job::Text, &hash(1)).is_none(), "each job is remembered on its own");
        // The blob is collected: so is what was remembered about it.
        again.forget(&hash(1));
        assert!(heavy.quarantined(Job::Thumbnail, &hash(1)).is_none());
    }

    #[test]
    fn a_passing_failure_is_tried_again() {
        let dir = tempfile::tempdir().unwrap();
        let heavy = Heavy::open(dir.path());
        let first = heavy.run(Job::Text, &hash(2), || Err::<(), _>("disk full"), |_| false);
        assert!(matches!(first, Err(Refused::Failed(_))));
        assert_eq!(heavy.run(Job::Text, &hash(2), || Ok::<_, &str>(7), |_| false).unwrap(), 7);
        assert_eq!(heavy.attempts(), 2);
    }

    #[test]
    fn a_panic_is_caught_and_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let heavy = Heavy::open(dir.path());
        let result = heavy.run(Job::Text, &hash(3), || -> Result<(), &str> { panic!("odd file") }, |_| true);
        assert!(matches!(result, Err(Refused::Quarantined(reason)) if reason.contains("odd file")));
        assert!(heavy.quarantined(Job::Text, &hash(3)).is_some());
        // Nothing is left claimed: the slot and the file are free again.
        assert_eq!(heavy.run(Job::Text, &hash(4), || Ok::<_, &str>(1), |_| true).unwrap(), 1);
    }

    #[test]
    fn a_process_that_died_mid_job_is_not_followed_into_the_grave() {
        let dir = tempfile::tempdir().unwrap();
        // What a process killed while extracting leaves behind.
        fs::create_dir_all(dir.path().join("quarantine")).unwrap();
        fs::write(dir.path().join("quarantine").join(format!("text-{}.started", hash(5).to_hex())), "").unwrap();
        let heavy = Heavy::open(dir.path());
        let ran = AtomicUsize::new(0);
        let result = heavy.run(
            Job::Text,
            &hash(5),
            || {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok::<_, &str>(())
            },
            |_| true,
        );
        assert!(matches!(result, Err(Refused::Quarantined(_))), "{result:?}");
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert!(heavy.quarantined(Job::Text, &hash(5)).is_some());
    }

    #[test]
    fn a_mark_from_another_version_gives_the_file_one_more_try() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("quarantine")).unwrap();
        let mark = dir.path().join("quarantine").join(format!("thumbnail-{}.failed", hash(6).to_hex()));
        fs::write(&mark, "folio 0.0.0-old\ntoo large\n").unwrap();
        let heavy = Heavy::open(dir.path());
        assert!(heavy.quarantined(Job::Thumbnail, &hash(6)).is_none());
        assert_eq!(heavy.run(Job::Thumbnail, &hash(6), || Ok::<_, &str>(()), |_| true).ok(), Some(()));
    }

    #[test]
    fn at_most_a_few_run_at_once_and_one_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let heavy = Heavy::open(dir.path());
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let runs_of_one_file = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let (heavy, now, most, same) = (heavy.clone(), now.clone(), most.clone(), runs_of_one_file.clone());
                std::thread::spawn(move || {
                    // Half the threads ask for the same file.
                    let file = if i % 2 == 0 { hash(7) } else { hash(8 + i) };
                    heavy.run(
                        Job::Thumbnail,
                        &file,
                        || {
                            if i % 2 == 0 {
                                same.fetch_add(1, Ordering::SeqCst);
                            }
                            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(running, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(30));
                            now.fetch_sub(1, Ordering::SeqCst);
                            Err::<(), _>("broken")
                        },
                        |_| true,
                    )
                })
            })
            .collect();
        for thread in threads {
            let _ = thread.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= AT_ONCE, "{}", most.load(Ordering::SeqCst));
        assert_eq!(runs_of_one_file.load(Ordering::SeqCst), 1, "the others waited and found it remembered");
    }
}
