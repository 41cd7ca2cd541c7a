//! Who is asking, and proving it: password and picture hashing, sessions, sign-in throttling,
//! cross-origin refusal and the first-run setup code.

pub mod origin;
pub mod password;
pub mod session;
pub mod setup_code;
pub mod throttle;

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
