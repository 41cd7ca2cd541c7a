//! Slowing down password guessing. Failed sign-ins are counted per account and per network
//! address; past a small allowance each further failure locks that key for twice as long as
//! the last (1 s, 2 s, 4 s ... up to 15 minutes). A locked key answers 429 with Retry-After.
//! Counts live in memory: a restart forgives, which is acceptable for a box on a school LAN
//! and keeps the store free of write traffic from attackers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Forget a key this long after its last failure.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One person's account: few free tries, since a class of six-year-olds mistypes.
    Account,
    /// One network address: a whole classroom may sit behind it.
    Address,
}

impl Kind {
    fn allowance(self) -> u32 {
        match self {
            Kind::Account => 5,
            Kind::Address => 30,
        }
    }
}

struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
    in_flight: u32,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Entry { failures: 0, locked_until: None, last_failure: now, in_flight: 0 }
    }

    fn charge(&mut self, kind: Kind, now: Instant) {
        if now.duration_since(self.last_failure) > FORGET_AFTER {
            self.failures = 0;
        }
        self.failures += 1;
        self.last_failure = now;
        let allowance = kind.allowance();
        if self.failures >= allowance {
            let doublings = (self.failures - allowance).min(20);
            self.locked_until = Some(now + Duration::from_secs(1u64 << doublings).min(MAX_LOCK));
        }
    }
}

/// How long a second, concurrent attempt on the same account is asked to wait.
const BUSY_ACCOUNT_WAIT: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<(Kind, String), Entry>>,
}

impl Throttle {
    /// Starts a sign-in attempt on `keys`. Refused (with how long to wait) while a key is
    /// locked, or while another attempt on the same account is still being checked: checking
    /// is slow (argon2), and attempts sent in parallel must not all slip past the count.
    /// The attempt is counted as a failure from the start; [`Attempt::succeeded`] takes it
    /// back. An attempt dropped without that (wrong secret, or the client went away) stays
    /// counted.
    pub fn begin(self: &Arc<Self>, keys: Vec<(Kind, String)>) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap();
        for key in &keys {
            if let Some(entry) = entries.get(key) {
                if let Some(wait) = entry.locked_until.and_then(|until| until.checked_duration_since(now)) {
                    return Err(wait);
                }
                if key.0 == Kind::Account && entry.in_flight > 0 {
                    return Err(BUSY_ACCOUNT_WAIT);
                }
            }
        }
        if entries.len() > 50_000 {
            entries.retain(|_, e| e.in_flight > 0 || now.duration_since(e.last_failure) < FORGET_AFTER);
        }
        for key in &keys {
            let entry = entries.entry(key.clone()).or_insert_with(|| Entry::new(now));
            entry.in_flight += 1;
            entry.charge(key.0, now);
        }
        Ok(Attempt { throttle: Arc::clone(self), keys })
    }
}

/// One sign-in attempt in progress (see [`Throttle::begin`]).
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: Vec<(Kind, String)>,
}

impl Attempt {
    /// The secret was right: the account's count is cleared and the address's charge undone.
    pub fn succeeded(self) {
        let mut entries = self.throttle.entries.lock().unwrap();
        for key in &self.keys {
            if let Some(entry) = entries.get_mut(key) {
                match key.0 {
                    Kind::Account => {
                        entry.failures = 0;
                        entry.locked_until = None;
                    }
                    Kind::Address => {
                        entry.failures = entry.failures.saturating_sub(1);
                        if entry.failures < Kind::Address.allowance() {
                            entry.locked_until = None;
                        }
                    }
                }
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let mut entries = self.throttle.entries.lock().unwrap();
        for key in &self.keys {
            if let Some(entry) = entries.get_mut(key) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Vec<(Kind, String)> {
        vec![(Kind::Account, "ana".to_string())]
    }

    #[test]
    fn locks_grow_after_the_allowance_and_success_clears_the_account() {
        let t = Arc::new(Throttle::default());
        for _ in 0..4 {
            drop(t.begin(account()).expect("within the allowance"));
        }
        drop(t.begin(account()).expect("the fifth try is allowed"));
        let first = t.begin(account()).err().expect("locked after five failures");
        assert!(first <= Duration::from_secs(1));
        t.entries.lock().unwrap().get_mut(&account()[0]).unwrap().locked_until = None;
        drop(t.begin(account()).unwrap());
        let second = t.begin(account()).err().expect("locked again, for longer");
        assert!(second > first, "{second:?} > {first:?}");
        t.entries.lock().unwrap().get_mut(&account()[0]).unwrap().locked_until = None;
        t.begin(account()).unwrap().succeeded();
        for _ in 0..4 {
            drop(t.begin(account()).expect("a success starts the count again"));
        }
    }

    #[test]
    fn a_second_attempt_on_the_same_account_waits_for_the_first() {
        let t = Arc::new(Throttle::default());
        let first = t.begin(account()).unwrap();
        assert_eq!(t.begin(account()).err(), Some(BUSY_ACCOUNT_WAIT));
        let other = t.begin(vec![(Kind::Account, "ben".to_string())]);
        assert!(other.is_ok(), "other accounts are not held up");
        drop(first);
        assert!(t.begin(account()).is_ok());
    }

    #[test]
    fn parallel_attempts_from_one_address_are_all_counted() {
        let t = Arc::new(Throttle::default());
        let address = || vec![(Kind::Address, "10.0.0.9".to_string())];
        let held: Vec<Attempt> = (0..Kind::Address.allowance()).map(|_| t.begin(address()).unwrap()).collect();
        assert!(t.begin(address()).is_err(), "the attempts in flight already count");
        drop(held);
    }
}
