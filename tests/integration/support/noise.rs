//! [`noise`]: test file contents that no compression shrinks and no sniffing recognises.

/// `len` incompressible bytes from `seed` (xorshift). The same seed gives the same stream, so
/// `noise(n, s)` is a prefix of `noise(m, s)` for n < m; another seed gives other content.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
