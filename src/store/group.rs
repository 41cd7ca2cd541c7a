//! Group commit: writes that arrive together share one transaction and one fsync.
//!
//! Every [`Store::write`] used to be its own durable redb commit, so writers queued behind
//! each other's fsyncs and thirty of them reached hardly more than one. Now the callers
//! waiting to write form a batch in one redb write transaction, and one durable commit
//! answers them all:
//!
//! - **Turns.** The open batch transaction lives behind one lock, the turn. A caller takes the
//!   turn, runs its closure on the batch's transaction in its own thread (closures borrow
//!   from their callers' stacks, so they are never handed to another thread), and passes the
//!   turn on. Each closure sees everything the batch's earlier closures wrote, exactly as if
//!   the transactions had run one after the other, as they did before.
//! - **Who commits.** The caller that finds nobody waiting for the turn after its closure (or
//!   that makes the batch [`MAX_BATCH`] long) commits, still holding the turn: whoever
//!   arrives during that fsync queues for the turn and forms the next batch. The others of
//!   the batch wait for its outcome and are answered when it is durable. Acknowledged still
//!   means durable, and nothing is visible to readers before it is: the batch is one
//!   transaction, committed with redb's default (immediate) durability.
//! - **A closure that fails.** Its error must not take the batch's other writes with it,
//!   and its own partial writes must not stay. redb cannot roll back part of a transaction
//!   (a savepoint can only be taken before the transaction writes anything, so not between
//!   two callers' closures), and committing each closure on its own without an fsync
//!   (`Durability::None`) would let readers (pages, sync peers) see writes that a crash then
//!   takes back: a peer could hold an operation number this box hands out again after the
//!   crash. So a failing closure aborts the batch's transaction, its caller gets its error,
//!   and the batch's other callers, told to run again, run their closures once more in the
//!   next batch. That is why [`Store::write`] takes an `Fn`: a closure may run more than
//!   once, and everything it does must be inside the transaction (the compiler keeps an `Fn`
//!   from changing what it captured; effects outside, such as files, belong after `write`).
//!   Failures are rare (most refusals are decided before `write`, or by the first closure of
//!   a batch, which wastes nothing), and a second run costs only CPU.
//! - **A closure that panics** is caught in its caller's thread: the batch is aborted, its
//!   other callers run again (no one waits for a commit that will not come), and the panic
//!   goes on up to its own caller.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::{Store, StoreError, Tx};

/// The most closures one batch takes before it commits even with callers waiting, so a
/// steady stream of writes is still answered at least every that many.
pub const MAX_BATCH: usize = 64;

/// The group committer's state; one per database.
#[derive(Default)]
pub(super) struct Group {
    turn: Mutex<Turn>,
    /// Callers waiting for the turn (the batch goes on while there are any).
    queued: AtomicUsize,
    settled: Mutex<HashMap<u64, Settled>>,
    settled_changed: Condvar,
}

#[derive(Default)]
struct Turn {
    open: Option<Batch>,
    next_batch: u64,
}

/// The open batch: its transaction and how many closures it holds.
struct Batch {
    tx: Tx,
    id: u64,
    members: usize,
}

/// How a batch ended, for its callers that wait.
#[derive(Clone)]
enum Outcome {
    Committed,
    Failed(Arc<StoreError>),
    /// Aborted because another closure in it failed: run again.
    RunAgain,
}

struct Settled {
    outcome: Outcome,
    /// Callers that still have to read it.
    readers: usize,
}

impl Group {
    /// Waits for the turn.
    fn take_turn(&self) -> MutexGuard<'_, Turn> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        // Closures' panics are caught before they reach the lock, so a poisoned turn can only
        // come from a panic in the commit itself, which leaves no batch open.
        let turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        turn
    }

    fn settle(&self, batch: u64, outcome: Outcome, readers: usize) {
        if readers == 0 {
            return;
        }
        self.settled.lock().unwrap_or_else(PoisonError::into_inner).insert(batch, Settled { outcome, readers });
        self.settled_changed.notify_all();
    }

    /// Waits until `batch` is settled.
    fn outcome_of(&self, batch: u64) -> Outcome {
        let mut settled = self.settled.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(entry) = settled.get_mut(&batch) {
                let outcome = entry.outcome.clone();
                entry.readers -= 1;
                if entry.readers == 0 {
                    settled.remove(&batch);
                }
                return outcome;
            }
            settled = self.settled_changed.wait(settled).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Store {
    /// Runs `f` in a write transaction and returns once what it wrote is durable. One user
    /// action is one call: it either happens whole or not at all.
    ///
    /// Calls made at the same time share one transaction and one fsync ([`group`](self)):
    /// `f` sees what the calls before it in the batch wrote, and may run more than once (when
    /// another call of its batch fails, the batch runs again without that one), so it must do
    /// nothing outside the transaction. [`Store::write_alone`] is for the rare write that
    /// cannot be written so.
    pub fn write<T, E: From<StoreError>>(&self, f: impl Fn(&mut Tx) -> Result<T, E>) -> Result<T, E> {
        loop {
            let mut turn = self.group.take_turn();
            if turn.open.is_none() {
                let txn = self.db.begin_write().map_err(StoreError::from)?;
                let tx = Tx { txn, replica: self.replica, clock: Arc::clone(&self.clock), recorded: false };
                let id = turn.next_batch;
                turn.next_batch += 1;
                turn.open = Some(Batch { tx, id, members: 0 });
            }
            let batch = turn.open.as_mut().expect("a batch was opened above");
            let (id, members) = (batch.id, batch.members);
            let result = match std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut batch.tx))) {
                Ok(result) => result,
                Err(panic) => {
                    // The batch's others must not wait for a commit nobody will make: they
                    // run again at once, in a batch of their own.
                    turn.open = None;
                    drop(turn);
                    self.group.settle(id, Outcome::RunAgain, members);
                    std::panic::resume_unwind(panic);
                }
            };
            let value = match result {
                Ok(value) => value,
                Err(e) => {
                    // Dropping the transaction aborts it: this closure's writes go, and so do
                    // the batch's others, whose callers run theirs again.
                    turn.open = None;
                    drop(turn);
                    self.group.settle(id, Outcome::RunAgain, members);
                    return Err(e);
                }
            };
            let batch = turn.open.as_mut().expect("still open");
            batch.members += 1;
            if self.group.queued.load(Ordering::SeqCst) > 0 && batch.members < MAX_BATCH {
                // The next caller goes on with the batch; the last one commits it.
                drop(turn);
                match self.group.outcome_of(id) {
                    Outcome::Committed => return Ok(value),
                    Outcome::Failed(e) => return Err(StoreError::Shared(e).into()),
                    Outcome::RunAgain => continue,
                }
            }
            let batch = turn.open.take().expect("still open");
            // Committed holding the turn: callers arriving meanwhile form the next batch.
            let outcome = match self.commit(batch.tx) {
                Ok(()) => Outcome::Committed,
                Err(e) => Outcome::Failed(Arc::new(e)),
            };
            drop(turn);
            self.group.settle(id, outcome.clone(), members);
            return match outcome {
                Outcome::Committed => Ok(value),
                Outcome::Failed(e) => Err(StoreError::Shared(e).into()),
                Outcome::RunAgain => unreachable!("a commit does not ask to run again"),
            };
        }
    }

    /// Commits a batch, with the bookkeeping kept in memory (one fsync).
    fn commit(&self, tx: Tx) -> Result<(), StoreError> {
        self.commit_tx(tx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;
    use std::sync::{Barrier, mpsc};
    use std::time::Duration;

    use super::*;

    fn key(name: &str) -> Option<Vec<u8>> {
        Some(name.as_bytes().to_vec())
    }

    /// Starts a write that holds the turn until told to go on, so the writes started meanwhile
    /// queue up behind it and form one batch.
    /// Its closure's runs are counted in the third value.
    fn hold_the_turn(store: &Store) -> (std::thread::JoinHandle<()>, mpsc::Sender<()>, Arc<AtomicU64>) {
        let (go, wait) = mpsc::channel::<()>();
        let (holding, held) = mpsc::channel::<()>();
        let wait = Mutex::new(wait);
        let (store, runs) = (store.clone(), Arc::new(AtomicU64::new(0)));
        let counted = runs.clone();
        let holder = std::thread::spawn(move || {
            store
                .write(|tx| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let _ = holding.send(());
                    // Until told to go on; a second run finds the sender gone and goes on at once.
                    let _ = wait.lock().unwrap().recv();
                    tx.meta_set("holder", b"holder")
                })
                .unwrap();
        });
        held.recv().unwrap();
        (holder, go, runs)
    }

    /// Waits until `n` callers are queued for the turn.
    fn until_queued(store: &Store, n: usize) {
        while store.group.queued.load(Ordering::SeqCst) < n {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn writes_made_at_once_share_commits_and_each_is_durable_when_answered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let commits = store.commit_counter();
        let (holder, go, _) = hold_the_turn(&store);
        let before = commits.load(Ordering::SeqCst);
        let start = Arc::new(Barrier::new(10));
        let writers: Vec<_> = (0..10)
            .map(|i| {
                let (store, start) = (store.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let name = format!("w{i}");
                    store.write(|tx| tx.meta_set(&name, name.as_bytes())).unwrap();
                    // Answered: it is committed (a fresh read transaction sees it).
                    assert_eq!(store.meta(&name).unwrap(), key(&name));
                })
            })
            .collect();
        until_queued(&store, 10);
        go.send(()).unwrap();
        holder.join().unwrap();
        for w in writers {
            w.join().unwrap();
        }
        let made = commits.load(Ordering::SeqCst) - before;
        assert!(made <= 2, "11 writes made at once took {made} commits");
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        for i in 0..10 {
            assert_eq!(store.meta(&format!("w{i}")).unwrap(), key(&format!("w{i}")), "w{i} survived a reopen");
        }
    }

    #[test]
    fn a_write_that_fails_takes_back_only_its_own_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (holder, go, holder_runs) = hold_the_turn(&store);
        let spawn = |name: &'static str, fail: bool, panic: bool| {
            let store = store.clone();
            std::thread::spawn(move || {
                store.write(|tx| {
                    tx.meta_set(name, name.as_bytes())?;
                    assert!(!panic, "a closure that panics after writing");
                    if fail { Err(StoreError::Erased) } else { Ok(()) }
                })
            })
        };
        let good = vec![spawn("a", false, false), spawn("b", false, false)];
        until_queued(&store, 2);
        let bad = spawn("bad", true, false);
        until_queued(&store, 3);
        let panicking = spawn("panics", false, true);
        until_queued(&store, 4);
        let more = spawn("c", false, false);
        until_queued(&store, 5);
        go.send(()).unwrap();
        drop(go); // a second run of the holder's closure does not wait
        holder.join().unwrap();
        for w in good {
            w.join().unwrap().unwrap();
        }
        assert!(matches!(bad.join().unwrap(), Err(StoreError::Erased)), "the failing write gets its own error");
        assert!(panicking.join().is_err(), "the panic reaches its own caller");
        more.join().unwrap().unwrap();
        for name in ["holder", "a", "b", "c"] {
            assert_eq!(store.meta(name).unwrap(), key(name), "{name} was committed");
        }
        assert_eq!(store.meta("bad").unwrap(), None, "the failed write's change was taken back");
        assert_eq!(store.meta("panics").unwrap(), None, "the panicked write's change was taken back");
        assert!(holder_runs.load(Ordering::SeqCst) >= 2, "the write batched before a failure ran again");
    }

    #[test]
    fn a_panic_in_the_last_closure_of_a_batch_leaves_no_one_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (holder, go, holder_runs) = hold_the_turn(&store);
        let panicking = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.write(|tx| -> Result<(), StoreError> {
                    tx.meta_set("panics", b"panics")?;
                    panic!("a closure that panics after writing, with nobody queued behind it")
                })
            })
        };
        until_queued(&store, 1);
        go.send(()).unwrap();
        drop(go);
        // The holder's write is in the panicking closure's batch and waits for its outcome; with
        // nobody left to take the turn after the panic, only the panicking caller can tell it.
        let (answered, answer) = mpsc::channel();
        std::thread::spawn(move || answered.send(holder.join().is_ok()));
        assert_eq!(answer.recv_timeout(Duration::from_secs(60)), Ok(true), "the holder's write was answered");
        assert!(panicking.join().is_err(), "the panic reaches its own caller");
        assert_eq!(store.meta("holder").unwrap(), key("holder"));
        assert_eq!(store.meta("panics").unwrap(), None, "the panicked write's change was taken back");
        assert!(holder_runs.load(Ordering::SeqCst) >= 2, "the holder's write ran again");
    }
}
