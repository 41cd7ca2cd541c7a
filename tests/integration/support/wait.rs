//! [`eventually`]: waiting for what a box does in the background (indexing, sync rounds,
//! file transfers, backups) without a fixed sleep.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

/// What one look at a box found: done (with a value), or not yet (with what was seen, for the
/// message if time runs out).
pub trait Outcome {
    type Value;
    fn settled(self) -> Result<Self::Value, String>;
}

impl Outcome for bool {
    type Value = ();
    fn settled(self) -> Result<(), String> {
        if self { Ok(()) } else { Err("still false".into()) }
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn settled(self) -> Result<T, String> {
        self.ok_or_else(|| "still nothing".into())
    }
}

impl<T, E: Display> Outcome for Result<T, E> {
    type Value = T;
    fn settled(self) -> Result<T, String> {
        self.map_err(|seen| seen.to_string())
    }
}

/// Looks with `check` every 50 ms until it is done, and returns what it found; fails the test
/// with `what` and the last thing seen once `limit` has passed.
pub async fn eventually<O, F, Fut>(limit: Duration, what: &str, mut check: F) -> O::Value
where
    O: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
{
    let start = Instant::now();
    loop {
        match check().await.settled() {
            Ok(value) => return value,
            Err(seen) => assert!(start.elapsed() < limit, "{what}: not within {limit:?} ({seen})"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Why a box that was started did not come to answer.
#[derive(Debug, PartialEq, Eq)]
pub enum NotUp {
    /// It ended before it answered (check its error or log).
    Stopped,
    /// It still runs but did not answer within the limit.
    Silent,
}

/// Waits until the box at `base_url` answers `GET /healthz`, looking every 25 ms for as long
/// as `running` says it has not ended, and for `limit` at the most. Each look gives up after
/// 2 s, so a box that accepts connections but hangs is not waited on for ever.
pub async fn until_it_answers(base_url: &str, limit: Duration, mut running: impl FnMut() -> bool) -> Result<(), NotUp> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    let start = Instant::now();
    loop {
        if !running() {
            return Err(NotUp::Stopped);
        }
        if http.get(format!("{base_url}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if start.elapsed() >= limit {
            return Err(NotUp::Silent);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
