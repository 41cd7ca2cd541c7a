//! Safe display names and `Content-Disposition` values for the original file name.

use super::Presentation;

/// Longest display name, in characters: enough for any real name, short enough for a card.
const NAME_MAX: usize = 120;

/// The original file name made safe to show. It never becomes a path (files are stored by
/// hash), so this is about what people see: no folders a browser or phone put in front of it,
/// no control characters, and no bidirectional overrides that make `photo<U+202E>gpj.exe`
/// look like `photoexe.jpg`. Long names keep their start, their end and their extension.
pub fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|&c| !is_hidden_char(c)).collect();
    let trimmed = cleaned.trim_start_matches(|c: char| c == '.' || c.is_whitespace()).trim_end();
    if trimmed.is_empty() {
        return "file".to_owned();
    }
    shorten(trimmed, NAME_MAX)
}

/// Control characters, bidi controls, line separators and the BOM: invisible or layout-changing
/// characters that have no place in a name on screen.
fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// `name` cut to `max` characters with an ellipsis in the middle of the stem, keeping a short
/// extension whole (the end of a name often tells versions apart: "... final v2.docx").
fn shorten(name: &str, max: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= max {
        return name.to_owned();
    }
    let ext_len = match chars.iter().rposition(|&c| c == '.') {
        Some(dot) if dot > 0 && chars.len() - dot <= 16 => chars.len() - dot,
        _ => 0,
    };
    let (stem, ext) = chars.split_at(chars.len() - ext_len);
    let room = max - ext_len - 1; // one for the ellipsis
    let tail = room / 3;
    let head = room - tail;
    let mut out: String = stem[..head].iter().collect();
    out.push('…');
    out.extend(&stem[stem.len() - tail..]);
    out.extend(ext);
    out
}

/// A `Content-Disposition` value naming the file: `attachment` for downloads, `inline`
/// otherwise. `filename*` carries the real (UTF-8) name for every current browser; `filename`
/// is an ASCII stand-in for old ones, with the characters that could end the quoted string or
/// the parameter (or be percent-decoded by some clients) replaced.
pub fn content_disposition(presentation: Presentation, name: &str) -> String {
    let name = if name.is_empty() { "file" } else { name };
    let disposition = match presentation {
        Presentation::Attachment => "attachment",
        Presentation::InlineMedia | Presentation::InlineText => "inline",
    };
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() && !matches!(c, '"' | '\\' | ';' | '%') { c } else { '_' })
        .collect();
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{}", percent_encode_attr(name))
}

/// RFC 5987 `value-chars`: every byte outside `attr-char` as `%XX`.
pub(super) fn percent_encode_attr(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        let attr_char = b.is_ascii_alphanumeric()
            || matches!(b, b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
        if attr_char {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0F)] as char);
        }
    }
    out
}
