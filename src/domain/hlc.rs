//! The hybrid logical clock that orders operations across boxes.
//!
//! A timestamp is (wall-clock milliseconds, counter, replica). It never goes backwards on one
//! replica, even when the box has no real-time clock and boots believing it is 1970: the
//! store persists the highest timestamp it has issued and every new one is above it. Remote
//! timestamps are adopted (so causality holds across boxes) unless they are implausibly far
//! in the future, which would otherwise drag every later local edit into that future.

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

use super::ids::ReplicaId;

/// How far ahead of our own clock a remote timestamp may be and still be adopted: five
/// minutes. A timestamp further ahead is still stored and merged by (its operation keeps
/// its place in last-writer-wins), but our clock does not jump to it, so one box with a
/// clock in 2038 cannot drag every other box's later edits into 2038 with it.
pub const MAX_REMOTE_DRIFT_MS: u64 = 5 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    pub ms: u64,
    pub counter: u32,
    pub replica: ReplicaId,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a remote clock is {ahead_ms} ms ahead of ours, more than folio adopts")]
pub struct ClockTooFarAhead {
    /// How far ahead of our wall clock the remote timestamp is.
    pub ahead_ms: u64,
}

pub fn wall_clock_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Hlc {
    /// Before every real timestamp: the clock of a field nobody has written yet.
    pub const ZERO: Hlc = Hlc { ms: 0, counter: 0, replica: ReplicaId(uuid::Uuid::nil()) };

    /// Just before `self`: every timestamp of an earlier (ms, counter) is at or below it,
    /// `self` is above it. (Replica ids are random, never nil.)
    pub fn just_before(self) -> Hlc {
        Hlc { replica: ReplicaId(uuid::Uuid::nil()), ..self }
    }

    pub fn zero(replica: ReplicaId) -> Self {
        Hlc { ms: 0, counter: 0, replica }
    }

    /// The next local timestamp after `self` (the high-water mark), given the wall clock.
    pub fn tick(self, now_ms: u64, replica: ReplicaId) -> Hlc {
        if now_ms > self.ms {
            Hlc { ms: now_ms, counter: 0, replica }
        } else {
            Hlc { ms: self.ms, counter: self.counter + 1, replica }
        }
    }

    /// Our new high-water mark after seeing `remote`, or an error if it is too far ahead to
    /// adopt. "Now" is the later of our wall clock and our high-water mark: a box without a
    /// real-time clock that woke up in 1970 still knows it is at least as late as the last
    /// timestamp it issued or adopted.
    pub fn observe(self, remote: Hlc, now_ms: u64) -> Result<Hlc, ClockTooFarAhead> {
        let ours = self.ms.max(now_ms);
        if remote.ms > ours.saturating_add(MAX_REMOTE_DRIFT_MS) {
            return Err(ClockTooFarAhead { ahead_ms: remote.ms - now_ms });
        }
        Ok(if remote > self { Hlc { replica: self.replica, ..remote } } else { self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_never_goes_back_even_when_the_wall_clock_does() {
        let r = ReplicaId::random();
        let high = Hlc { ms: 5_000, counter: 3, replica: r };
        let next = high.tick(1_000, r);
        assert!(next > high);
        assert_eq!((next.ms, next.counter), (5_000, 4));
        let later = next.tick(9_000, r);
        assert_eq!((later.ms, later.counter), (9_000, 0));
    }

    #[test]
    fn observe_adopts_remote_time_but_refuses_the_far_future() {
        let r = ReplicaId::random();
        let ours = Hlc::zero(r).tick(10_000, r);
        let remote = Hlc { ms: 20_000, counter: 7, replica: ReplicaId::random() };
        let seen = ours.observe(remote, 10_000).unwrap();
        assert!(seen.tick(10_000, r) > remote);
        let absurd = Hlc { ms: 10_000 + MAX_REMOTE_DRIFT_MS + 1, ..remote };
        assert!(ours.observe(absurd, 10_000).is_err());
    }
}
