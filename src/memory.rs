//! Handing freed memory back to the system.
//!
//! The binary allocates with mimalloc (`src/main.rs`), which keeps a heap per thread and
//! gives freed memory back lazily: a purge is scheduled about 10 s after memory is freed
//! (mimalloc's purge delay of 1 s times its arena multiplier of 10) and carried out only
//! when some thread next goes through mimalloc's collection, which an idle server never
//! does. Measured in the search benchmark at 120,000 pieces of work, after its upload burst:
//! 10 MB of live data and 800 MB resident, still 764 MB once tokio had ended the burst's 150
//! blocking-pool threads; one `mi_collect` then gave back 630 MB.
//!
//! So the runtime folio serves on collects as each blocking-pool thread ends (after
//! [`KEEP_ALIVE`] without work: the burst it served is over), and [`spawn_upkeep`] carries
//! out mimalloc's scheduled purges every [`UPKEEP_EVERY`] for memory freed by the threads
//! that never end: the async workers, tantivy's, and the one pool thread the bookkeeping
//! flush (every 5 s) keeps alive. With these, the search gate (`Folio::search_work`) and no
//! transparent huge pages (`src/main.rs`), the same benchmark reads 157–196 MB 5 s after the
//! burst and 99–109 MB at 30 s (55–65 MB of it anonymous, the rest the index's mapped files;
//! three runs at stop 33). The library's tests and the fuzz targets keep the system allocator; there these
//! calls find nothing to do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long an idle blocking-pool thread waits for more work before it ends (tokio's own
/// default, named here because the memory figures depend on it).
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// How often [`spawn_upkeep`] carries out mimalloc's scheduled purges.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static GIVEN_BACK: AtomicUsize = AtomicUsize::new(0);

/// Gives back at once what mimalloc holds free: the calling thread's empty pages, and every
/// arena's free memory (purged now, not after the delay). Costs a walk over the thread's
/// pages and the arenas' free lists: for when a burst is over, not for every request.
pub fn give_back() {
    // SAFETY: mi_collect only inspects and releases mimalloc's own free memory.
    unsafe { libmimalloc_sys::mi_collect(true) };
    GIVEN_BACK.fetch_add(1, Ordering::Relaxed);
}

/// How many times [`give_back`] has run in this process.
pub fn times_given_back() -> usize {
    GIVEN_BACK.load(Ordering::Relaxed)
}

/// The runtime folio runs on: tokio's multi-threaded one, whose blocking-pool threads give
/// their memory back as they end.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    runtime_with(KEEP_ALIVE)
}

fn runtime_with(keep_alive: Duration) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_keep_alive(keep_alive)
        .on_thread_stop(give_back)
        .build()
}

/// Every [`UPKEEP_EVERY`], carries out the purges mimalloc scheduled (memory freed at least
/// its delay ago) without forcing the rest: under load that memory is about to be used
/// again, and the purge is mimalloc's own choice; idle, nothing else would carry it out.
pub fn spawn_upkeep() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // SAFETY: as in `give_back`; not forced, so only what is due is purged.
            unsafe { libmimalloc_sys::mi_collect(false) };
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blocking-pool thread that ends after its keep-alive gives its memory back; without
    /// the hook nothing does until some thread happens to allocate again.
    #[test]
    fn a_blocking_pool_thread_gives_memory_back_as_it_ends() {
        let runtime = runtime_with(Duration::from_millis(50)).unwrap();
        let before = times_given_back();
        runtime.block_on(async {
            tokio::task::spawn_blocking(|| std::hint::black_box(vec![1u8; 1 << 20]).len()).await.unwrap();
            let started = std::time::Instant::now();
            while times_given_back() == before {
                assert!(started.elapsed() < Duration::from_secs(10), "the idle pool thread never gave memory back");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
}
