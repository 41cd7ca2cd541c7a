//! What keeps folio's memory small: searches take a bounded number of blocking-pool threads
//! (each thread keeps an allocator heap of its own), whatever the number of requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::TestCore;

/// Three times as many searches as may run at once, each holding its turn for a while: no
/// more than `searches_at_once` ever run together, and every one of them runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_in_flight_are_bounded_whatever_the_requests() {
    let core = TestCore::open();
    let allowed = folio::app::searches_at_once();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut searches = Vec::new();
    for _ in 0..allowed * 3 {
        let (folio, running, most) = (core.folio().clone(), running.clone(), most.clone());
        searches.push(tokio::spawn(async move {
            folio
                .search_work(move |_store| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
        }));
    }
    for search in searches {
        search.await.unwrap().unwrap();
    }
    let most = most.load(Ordering::SeqCst);
    assert!(most <= allowed, "{most} searches ran at once; at most {allowed} may");
    assert!(most >= 2, "the searches ran one at a time ({most}): the gate should let {allowed} through");
}
