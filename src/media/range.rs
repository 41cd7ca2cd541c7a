//! A single-range `Range` header, for video and audio seeking.

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// Answer 416 with `Content-Range: bytes */<size>`.
    #[error("the requested range is not in the file")]
    Unsatisfiable,
}

/// A `Range` header for a file of `size` bytes, as the inclusive byte positions
/// `(first, last)` to send with 206.
///
/// Only single byte ranges are served (`bytes=a-b`, `bytes=a-`, `bytes=-n`): that is what video
/// and audio elements ask for when seeking. `Ok(None)` (another unit, or several ranges) means
/// "ignore the header and send the whole file with 200", which RFC 9110 allows and which spares
/// the box multipart responses. A range that starts past the end, or a header that does not
/// parse, is [`RangeError::Unsatisfiable`].
pub fn parse_range(header: &str, size: u64) -> Result<Option<(u64, u64)>, RangeError> {
    let Some((unit, set)) = header.trim().split_once('=') else {
        return Err(RangeError::Unsatisfiable);
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ok(None);
    }
    // Empty list elements are allowed by the list syntax ("bytes=0-1,") and mean nothing.
    let mut ranges = set.split(',').map(str::trim).filter(|r| !r.is_empty());
    let (Some(range), None) = (ranges.next(), ranges.next()) else {
        return if set.split(',').any(|r| !r.trim().is_empty()) { Ok(None) } else { Err(RangeError::Unsatisfiable) };
    };
    let (first, last) = range.split_once('-').ok_or(RangeError::Unsatisfiable)?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix: the last n bytes.
        let n = digits(last)?;
        if n == 0 || size == 0 {
            return Err(RangeError::Unsatisfiable);
        }
        return Ok(Some((size.saturating_sub(n), size - 1)));
    }
    let start = digits(first)?;
    let end = if last.is_empty() { u64::MAX } else { digits(last)? };
    if end < start || start >= size {
        return Err(RangeError::Unsatisfiable);
    }
    Ok(Some((start, end.min(size - 1))))
}

/// ASCII digits only (`u64::from_str` would take a `+`); values past `u64::MAX` saturate, which
/// for a last position means "to the end" and for a first one "past the end".
fn digits(s: &str) -> Result<u64, RangeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RangeError::Unsatisfiable);
    }
    Ok(s.bytes().fold(0u64, |n, b| n.saturating_mul(10).saturating_add(u64::from(b - b'0'))))
}
