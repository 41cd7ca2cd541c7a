//! Slowing down guessing without slowing down a class.
//!
//! What is guessed is throttled where it is guessed: one account's password, one student's
//! pictures, the box's setup code (per address). Each such secret keeps its own count of
//! failures and follows its [`Schedule`]: a few free tries, then a wait that doubles with
//! each further failure, up to a cap.
//!
//! | secret | free failures | the next failures wait | cap |
//! |---|---|---|---|
//! | one account's password | 4 | 1 s, 2 s, 4 s, 8 s ... | 15 min |
//! | one student's pictures | 2 | 1 s, 2 s, 4 s ... 32 s | 60 s |
//! | the setup code, per address | 29 | 1 s, 2 s, 4 s ... | 15 min |
//!
//! So a child who taps wrong pictures three times waits 1 s, five times 4 s, and never more
//! than a minute; one child's count never touches another's. A success clears the count,
//! and a count is forgotten an hour after its last failure. Twelve pictures in a sequence of
//! three make 1,728 sequences: at a guess a minute, finding one child's takes about 14 hours
//! on average, in front of the class's tablet.
//!
//! Failures from one network address also fill that address's bucket, which empties by one
//! failure every 2 s and refuses new attempts while it holds 300 (`ADDRESS_BUCKET`). It is
//! only there against guessing many accounts at once from one machine, so it sits far above
//! a class's worst morning: 30 children on 3 shared tablets behind one address, each erring
//! five times, is 150 failures, and a sign-in rush of 20 minutes drains 600 meanwhile. A
//! success takes its own charge back, and nothing else touches the bucket: looking up a class
//! code that exists costs nothing.
//!
//! An attempt is counted as a failure before its secret is checked ([`Throttle::begin`]) and
//! only one attempt per password or pictures is checked at a time, so guesses sent in
//! parallel gain nothing. A refusal says how long to wait (429 + `Retry-After`).
//! Counts live in memory: a restart forgives, which is acceptable for a box on a school LAN
//! and keeps the store free of write traffic from attackers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Forget a secret's count this long after its last failure.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// What an attempt is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One account's password, by username (on a district box, every account of that name).
    Password,
    /// One student's picture sequence, by user id.
    Pictures,
    /// The box's setup code (and a backup restore before setup), per network address.
    SetupCode,
    /// Every failure from one network address: a bucket, not a schedule (see the module doc).
    Address,
}

/// When a secret's failures start to cost waiting, and how long at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The failure that first locks the secret (for 1 s); each later one doubles the wait.
    pub locks_from: u32,
    pub cap: Duration,
}

impl Schedule {
    /// How long the secret stays locked after its `failures`-th failure in a row.
    pub fn wait_after(self, failures: u32) -> Duration {
        if failures < self.locks_from {
            return Duration::ZERO;
        }
        let doublings = (failures - self.locks_from).min(30);
        Duration::from_secs(1u64 << doublings).min(self.cap)
    }
}

impl Kind {
    /// The schedule of a guessed secret (`None` for the address bucket).
    pub fn schedule(self) -> Option<Schedule> {
        match self {
            // Adults mistype too, but a password is long: the cap can be long as well.
            Kind::Password => Some(Schedule { locks_from: 5, cap: Duration::from_secs(15 * 60) }),
            // Six-year-olds tap the wrong picture: seconds, never an hour.
            Kind::Pictures => Some(Schedule { locks_from: 3, cap: Duration::from_secs(60) }),
            // One code per box, typed by an installer.
            Kind::SetupCode => Some(Schedule { locks_from: 30, cap: Duration::from_secs(15 * 60) }),
            Kind::Address => None,
        }
    }

    /// Whether a second attempt must wait while one is being checked: argon2 is slow, and
    /// attempts sent in parallel must not all be checked before the first failure counts.
    fn one_at_a_time(self) -> bool {
        matches!(self, Kind::Password | Kind::Pictures)
    }
}

/// An address's bucket: refuses while it holds this many failures...
pub const ADDRESS_BUCKET: f64 = 300.0;
/// ...and lets one out every this long.
pub const ADDRESS_DRAIN: Duration = Duration::from_secs(2);

/// The key for one account's password.
pub fn password(username: &str) -> (Kind, String) {
    (Kind::Password, username.to_string())
}

/// The key for one student's pictures.
pub fn pictures(user: crate::domain::UserId) -> (Kind, String) {
    (Kind::Pictures, user.to_string())
}

/// The key for every failure from one network address.
pub fn address(addr: std::net::IpAddr) -> (Kind, String) {
    (Kind::Address, addr.to_string())
}

/// The key for guessing the setup code from one network address.
pub fn setup_code(addr: std::net::IpAddr) -> (Kind, String) {
    (Kind::SetupCode, addr.to_string())
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

    fn charge(&mut self, schedule: Schedule, now: Instant) {
        if now.duration_since(self.last_failure) > FORGET_AFTER {
            self.failures = 0;
        }
        self.failures += 1;
        self.last_failure = now;
        let wait = schedule.wait_after(self.failures);
        self.locked_until = (!wait.is_zero()).then_some(now + wait);
    }
}

struct Bucket {
    level: f64,
    at: Instant,
}

impl Bucket {
    /// The level now, after draining since the last change.
    fn drain(&mut self, now: Instant) {
        let drained = now.duration_since(self.at).as_secs_f64() / ADDRESS_DRAIN.as_secs_f64();
        self.level = (self.level - drained).max(0.0);
        self.at = now;
    }

    /// How long until one more failure fits, if it does not now.
    fn wait(&self) -> Option<Duration> {
        let over = self.level + 1.0 - ADDRESS_BUCKET;
        (over > 0.0).then(|| ADDRESS_DRAIN.mul_f64(over))
    }
}

#[derive(Default)]
struct Counts {
    secrets: HashMap<(Kind, String), Entry>,
    addresses: HashMap<String, Bucket>,
}

/// How long a second, concurrent attempt on the same secret is asked to wait.
const BUSY_WAIT: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Throttle {
    counts: Mutex<Counts>,
}

impl Throttle {
    /// Starts an attempt on `keys`. Refused (with how long to wait) while a secret is locked,
    /// while another attempt on the same password or pictures is still being checked, or
    /// while the address's bucket is full. The attempt is counted as a failure from the
    /// start; [`Attempt::succeeded`] takes it back. An attempt dropped without that (wrong
    /// secret, or the client went away) stays counted.
    pub fn begin(self: &Arc<Self>, keys: Vec<(Kind, String)>) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap();
        let Counts { secrets, addresses } = &mut *counts;
        for key in &keys {
            if key.0 == Kind::Address {
                if let Some(bucket) = addresses.get_mut(&key.1) {
                    bucket.drain(now);
                    if let Some(wait) = bucket.wait() {
                        return Err(wait);
                    }
                }
            } else if let Some(entry) = secrets.get(key) {
                if let Some(wait) = entry.locked_until.and_then(|until| until.checked_duration_since(now)) {
                    return Err(wait);
                }
                if key.0.one_at_a_time() && entry.in_flight > 0 {
                    return Err(BUSY_WAIT);
                }
            }
        }
        if secrets.len() > 50_000 {
            secrets.retain(|_, e| e.in_flight > 0 || now.duration_since(e.last_failure) < FORGET_AFTER);
        }
        if addresses.len() > 50_000 {
            addresses.retain(|_, b| {
                b.drain(now);
                b.level > 0.0
            });
        }
        for key in &keys {
            match key.0.schedule() {
                None => {
                    let bucket = addresses.entry(key.1.clone()).or_insert(Bucket { level: 0.0, at: now });
                    bucket.drain(now);
                    bucket.level += 1.0;
                }
                Some(schedule) => {
                    let entry = secrets.entry(key.clone()).or_insert_with(|| Entry::new(now));
                    entry.in_flight += 1;
                    entry.charge(schedule, now);
                }
            }
        }
        Ok(Attempt { throttle: Arc::clone(self), keys })
    }
}

/// One attempt in progress (see [`Throttle::begin`]).
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: Vec<(Kind, String)>,
}

impl Attempt {
    /// The secret was right (or the looked-up thing exists): the secrets' counts are cleared
    /// and the address's charge taken back.
    pub fn succeeded(self) {
        let now = Instant::now();
        let mut counts = self.throttle.counts.lock().unwrap();
        for key in &self.keys {
            if key.0 == Kind::Address {
                if let Some(bucket) = counts.addresses.get_mut(&key.1) {
                    bucket.drain(now);
                    bucket.level = (bucket.level - 1.0).max(0.0);
                }
            } else if let Some(entry) = counts.secrets.get_mut(key) {
                entry.failures = 0;
                entry.locked_until = None;
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let mut counts = self.throttle.counts.lock().unwrap();
        for key in &self.keys {
            if let Some(entry) = counts.secrets.get_mut(key) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Vec<(Kind, String)> {
        vec![password("ana")]
    }

    fn unlock(t: &Throttle, key: &(Kind, String)) {
        t.counts.lock().unwrap().secrets.get_mut(key).unwrap().locked_until = None;
    }

    #[test]
    fn the_schedules_are_as_documented() {
        let secs =
            |kind: Kind| -> Vec<u64> { (1..=12).map(|n| kind.schedule().unwrap().wait_after(n).as_secs()).collect() };
        assert_eq!(secs(Kind::Pictures), [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(secs(Kind::Password), [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128]);
        assert_eq!(Kind::Password.schedule().unwrap().wait_after(40), Duration::from_secs(15 * 60));
        assert_eq!(Kind::SetupCode.schedule().unwrap().wait_after(29), Duration::ZERO);
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
        unlock(&t, &account()[0]);
        drop(t.begin(account()).unwrap());
        let second = t.begin(account()).err().expect("locked again, for longer");
        assert!(second > first, "{second:?} > {first:?}");
        unlock(&t, &account()[0]);
        t.begin(account()).unwrap().succeeded();
        for _ in 0..4 {
            drop(t.begin(account()).expect("a success starts the count again"));
        }
    }

    #[test]
    fn a_second_attempt_on_the_same_account_waits_for_the_first() {
        let t = Arc::new(Throttle::default());
        let first = t.begin(account()).unwrap();
        assert_eq!(t.begin(account()).err(), Some(BUSY_WAIT));
        let other = t.begin(vec![password("ben")]);
        assert!(other.is_ok(), "other accounts are not held up");
        drop(first);
        assert!(t.begin(account()).is_ok());
    }

    #[test]
    fn one_childs_mistakes_lock_only_that_childs_pictures() {
        let t = Arc::new(Throttle::default());
        let tablet: std::net::IpAddr = [10, 0, 0, 9].into();
        let kids: Vec<_> = (0..30).map(|_| crate::domain::UserId::new()).collect();
        for kid in &kids[..29] {
            for _ in 0..5 {
                if let Ok(attempt) = t.begin(vec![pictures(*kid), address(tablet)]) {
                    drop(attempt);
                }
            }
        }
        t.begin(vec![pictures(kids[29]), address(tablet)]).expect("the last child is not held up").succeeded();
        assert!(t.begin(vec![pictures(kids[0]), address(tablet)]).is_err(), "a child who erred waits");
    }

    #[test]
    fn an_address_bucket_fills_with_failures_and_successes_take_their_charge_back() {
        let t = Arc::new(Throttle::default());
        let addr: std::net::IpAddr = [10, 0, 0, 9].into();
        for _ in 0..1000 {
            t.begin(vec![address(addr)]).unwrap().succeeded();
        }
        let held: Vec<Attempt> = (0..ADDRESS_BUCKET as usize).map(|_| t.begin(vec![address(addr)]).unwrap()).collect();
        let wait = t.begin(vec![address(addr)]).err().expect("parallel attempts already count");
        assert!(wait <= ADDRESS_DRAIN, "{wait:?}");
        drop(held);
        t.counts.lock().unwrap().addresses.get_mut(&addr.to_string()).unwrap().at -= ADDRESS_DRAIN;
        assert!(t.begin(vec![address(addr)]).is_ok(), "the bucket drains");
    }
}
