//! Slowing down password guessing. Failed sign-ins are counted per account and per network
//! address; past a small allowance each further failure locks that key for twice as long as
//! the last (1 s, 2 s, 4 s ... up to 15 minutes). A locked key answers 429 with Retry-After.
//! Counts live in memory: a restart forgives, which is acceptable for a box on a school LAN
//! and keeps the store free of write traffic from attackers.

use std::collections::HashMap;
use std::sync::Mutex;
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
}

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<(Kind, String), Entry>>,
}

impl Throttle {
    /// `Err(wait)` if any of the keys is locked now.
    pub fn check(&self, keys: &[(Kind, String)]) -> Result<(), Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap();
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|&until| until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(w) => Err(w),
            None => Ok(()),
        }
    }

    pub fn failed(&self, keys: &[(Kind, String)]) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap();
        if entries.len() > 50_000 {
            entries.retain(|_, e| now.duration_since(e.last_failure) < FORGET_AFTER);
        }
        for key in keys {
            let entry =
                entries.entry(key.clone()).or_insert(Entry { failures: 0, locked_until: None, last_failure: now });
            if now.duration_since(entry.last_failure) > FORGET_AFTER {
                entry.failures = 0;
            }
            entry.failures += 1;
            entry.last_failure = now;
            let allowance = key.0.allowance();
            if entry.failures >= allowance {
                let doublings = (entry.failures - allowance).min(20);
                let lock = Duration::from_secs(1u64 << doublings).min(MAX_LOCK);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    /// A correct sign-in clears the account's count (not the address's).
    pub fn succeeded(&self, account: &(Kind, String)) {
        self.entries.lock().unwrap().remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_after_the_allowance_and_success_clears_the_account() {
        let t = Throttle::default();
        let account = (Kind::Account, "ana".to_string());
        let keys = [account.clone()];
        for _ in 0..4 {
            t.failed(&keys);
            assert!(t.check(&keys).is_ok());
        }
        t.failed(&keys);
        let first = t.check(&keys).unwrap_err();
        t.failed(&keys);
        let second = t.check(&keys).unwrap_err();
        assert!(second > first, "{second:?} > {first:?}");
        t.succeeded(&account);
        assert!(t.check(&keys).is_ok());
    }
}
