//! Plain text and source files: sniffing UTF-8 and UTF-16 from the first bytes, reading
//! within the bound, cutting to a character count.

use std::io::Read;
use std::io::Seek;

use std::fs::File;
use std::io::SeekFrom;

use super::{MAX_TEXT_BYTES, SNIFF_LEN};

/// Reads up to [`SNIFF_LEN`] bytes from the start of the file.
pub(super) fn read_head(file: &mut File) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.take(SNIFF_LEN as u64).read_to_end(&mut head).ok()?;
    Some(head)
}

/// True when the bytes are UTF-8 without NUL. A multi-byte character cut off by the end of
/// the sniff window does not count against the file.
pub(super) fn looks_like_utf8(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && head.len() == SNIFF_LEN,
    }
}

/// `Some(true)` for a UTF-16 big-endian byte order mark, `Some(false)` for little-endian.
pub(super) fn utf16_bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xFE, 0xFF, ..] => Some(true),
        [0xFF, 0xFE, ..] => Some(false),
        _ => None,
    }
}

/// Checks that a file with a UTF-16 byte order mark really decodes as text, since two bytes
/// are weak evidence on their own.
pub(super) fn looks_like_utf16(head: &[u8], big_endian: bool) -> bool {
    let units = utf16_units(&head[2..], big_endian);
    let mut decoded = char::decode_utf16(units).peekable();
    while let Some(unit) = decoded.next() {
        match unit {
            Ok('\0') => return false,
            Ok(_) => {}
            // A surrogate pair split by the end of the window is not evidence of binary.
            Err(_) if decoded.peek().is_none() => {}
            Err(_) => return false,
        }
    }
    true
}

fn utf16_units(bytes: &[u8], big_endian: bool) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(move |pair| {
        let pair = [pair[0], pair[1]];
        if big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
    })
}

/// Recognises HTML without an extension by its usual opening.
pub(super) fn sniff_html(head: &[u8]) -> bool {
    let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = &start[start.iter().take_while(|byte| byte.is_ascii_whitespace()).count()..];
    let prefix = &start[..start.len().min(14)];
    prefix.eq_ignore_ascii_case(b"<!doctype html") || prefix.get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"<html"))
}

/// Reads a text file from the start, up to [`MAX_TEXT_BYTES`]: UTF-16 when it has a byte
/// order mark, otherwise UTF-8 with invalid sequences replaced.
pub(super) fn read_text(mut file: File) -> Option<String> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_TEXT_BYTES).read_to_end(&mut bytes).ok()?;
    if let Some(big_endian) = utf16_bom(&bytes) {
        return Some(
            char::decode_utf16(utf16_units(&bytes[2..], big_endian)).map(|c| c.unwrap_or('\u{FFFD}')).collect(),
        );
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// Cuts `text` to at most `max_chars` characters, at a character boundary.
pub(super) fn truncate_chars(text: &mut String, max_chars: usize) {
    if let Some((index, _)) = text.char_indices().nth(max_chars) {
        text.truncate(index);
    }
}
