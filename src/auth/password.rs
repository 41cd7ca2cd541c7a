//! Password and picture-sequence hashing with argon2id.
//!
//! Each hash takes ~19 MiB and real CPU time, so at most a few run at once (a semaphore);
//! a burst of sign-ins queues instead of exhausting the box's memory.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

/// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(MEMORY_KIB, ITERATIONS, LANES, None).expect("valid argon2 parameters"),
    )
}

/// A hash of a random secret, verified against when there is no real hash (unknown user), so
/// "no such user" takes as long as "wrong password" and the two cannot be told apart.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now(&crate::auth::random_token(16)));

fn hash_now(secret: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2().hash_password(secret.as_bytes(), &salt).expect("argon2 hashing with valid parameters succeeds").to_string()
}

fn verify_now(secret: &str, hash: Option<&str>) -> bool {
    let (hash, real) = match hash {
        Some(h) => (h, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let ok = PasswordHash::new(hash)
        .map(|parsed| argon2().verify_password(secret.as_bytes(), &parsed).is_ok())
        .unwrap_or(false);
    ok && real
}

/// How many hashes may wait for a free slot before folio answers "busy" at once, so a flood
/// of sign-ins cannot pile up without bound.
const MAX_WAITING: usize = 64;

/// The box is hashing as much as it can; the caller should try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("the box is busy checking other sign-ins")]
pub struct Busy;

/// That someone has just given the secret this hash was made from. Only [`Hasher::prove`]
/// makes one, so a change that asks for the current secret (`domain::policy::SecretChange`)
/// cannot be let through by anything but a check of it.
#[derive(Debug)]
pub struct Proof {
    hash: String,
}

impl Proof {
    /// The hash the secret matched; a change holds only while this is still the current one.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Self {
        LazyLock::force(&DUMMY_HASH);
        Hasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, or answers `Busy` at once when
    /// too many are already waiting.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = permit.expect("the semaphore is never closed");
        Ok(tokio::task::spawn_blocking(work).await.expect("argon2 does not panic"))
    }

    pub async fn hash(&self, secret: String) -> Result<String, Busy> {
        self.run(move || hash_now(&secret)).await
    }

    /// Whether `secret` matches `hash`; `None` (no such user, no password set) is checked
    /// against a dummy hash so it costs the same and answers false.
    pub async fn verify(&self, secret: String, hash: Option<String>) -> Result<bool, Busy> {
        self.run(move || verify_now(&secret, hash.as_deref())).await
    }

    /// A [`Proof`] that `secret` matches `hash`, or `None` when it does not (or there is no hash).
    pub async fn prove(&self, secret: String, hash: Option<String>) -> Result<Option<Proof>, Busy> {
        let checked = hash.clone();
        let matched = self.run(move || verify_now(&secret, checked.as_deref())).await?;
        Ok(hash.filter(|_| matched).map(|hash| Proof { hash }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_required_cost_and_verify() {
        let h = hash_now("correct horse");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_now("correct horse", Some(&h)));
        assert!(!verify_now("wrong", Some(&h)));
        assert!(!verify_now("anything", None));
    }
}
