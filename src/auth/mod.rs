//! Who is asking, and proving it: password and picture hashing, sessions, sign-in throttling,
//! cross-origin refusal and the first-run setup code.

pub mod origin;
pub mod password;
pub mod session;
pub mod setup_code;
pub mod throttle;

use std::sync::Arc;

/// What stands between a guess and an account: password and picture hashing (argon2id, a
/// few at once) and the sign-in throttle. One per box, shared by every way of signing in or
/// changing a secret. Cheap to clone.
#[derive(Clone)]
pub struct Guard {
    pub hasher: password::Hasher,
    pub throttle: Arc<throttle::Throttle>,
}

impl Guard {
    /// A guard hashing at most `concurrent_hashes` at once.
    pub fn new(concurrent_hashes: usize) -> Guard {
        Guard { hasher: password::Hasher::new(concurrent_hashes), throttle: Arc::default() }
    }
}

/// `n` random bytes from the operating system's generator, as URL-safe base64.
pub fn random_token(n: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens (session ids, card secrets) are stored and looked up by their BLAKE3 hash.
pub fn token_hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}
