//! HTML to words: a small state machine, not an HTML5 parser (see the crate notes in
//! `extract`).

use super::collapse::{Collapser, Gap};
use super::listed;

/// Elements whose end (and start) separates blocks of text, so their words must not run
/// into the neighbours' words.
const BLOCK_TAGS: &str = "address article aside blockquote br caption dd details div dl dt fieldset figcaption \
    figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary \
    table tbody td tfoot th thead tr ul";

/// Turns HTML into text: tags go, `<script>`, `<style>`, `<head>` and comments go with
/// their contents, entities are decoded and whitespace collapsed, and block elements
/// become line breaks. It is deliberately forgiving: whatever it cannot read as markup it
/// keeps as text.
pub(super) fn html_to_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = Collapser::new();
    // Every index used to slice `html` below sits on an ASCII byte or the end of the
    // string, so it is always a character boundary.
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let Some((tag_end, tag)) = parse_markup(bytes, i) else {
                    i += 1;
                    continue;
                };
                push_html_text(&mut out, &html[text_start..i]);
                i = tag_end;
                if let Markup::Tag { name, closing, self_closing } = tag {
                    let name = name.to_ascii_lowercase();
                    if listed(BLOCK_TAGS, &name) {
                        out.gap(Gap::Line);
                    }
                    // XHTML may write `<script src="x.js"/>`, which has no contents to skip.
                    if !closing && !self_closing {
                        i = skip_hidden_element(bytes, &name, i);
                    }
                }
                text_start = i;
            }
            _ => i += 1,
        }
    }
    push_html_text(&mut out, &html[text_start..]);
    out.finish()
}

/// What sat between `<` and `>`.
enum Markup<'a> {
    Tag {
        name: &'a str,
        closing: bool,
        self_closing: bool,
    },
    /// Comments, doctypes, processing instructions and CDATA: nothing to show.
    Other,
}

/// Parses the markup starting at `bytes[start] == b'<'` and returns the index just past it.
/// `None` means the `<` is just a character, as in `a < b`.
fn parse_markup(bytes: &[u8], start: usize) -> Option<(usize, Markup<'_>)> {
    let rest = &bytes[start..];
    if rest.starts_with(b"<!--") {
        let end = find(bytes, start + 4, b"-->").map_or(bytes.len(), |at| at + 3);
        return Some((end, Markup::Other));
    }
    if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
        let end = find(bytes, start + 2, b">").map_or(bytes.len(), |at| at + 1);
        return Some((end, Markup::Other));
    }
    let closing = rest.get(1) == Some(&b'/');
    let name_start = start + 1 + usize::from(closing);
    let name_len =
        bytes[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':')).count();
    if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
        return None;
    }
    // The name is ASCII, so this cannot fail; the fallback only avoids a panic path.
    let name = std::str::from_utf8(&bytes[name_start..name_start + name_len]).unwrap_or("");
    // Attributes are skipped, honouring quotes so that `title="a > b"` does not end the tag.
    let mut i = name_start + name_len;
    let mut quote = None;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (None, b'>') => {
                let self_closing = bytes[i - 1] == b'/';
                return Some((i + 1, Markup::Tag { name, closing, self_closing }));
            }
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
        i += 1;
    }
    // An unterminated tag swallows the rest, as browsers do.
    Some((bytes.len(), Markup::Tag { name, closing, self_closing: false }))
}

/// After the start tag of `name` (ending at `from`), skips the element's contents when they
/// are never shown to a reader, returning where text resumes.
fn skip_hidden_element(bytes: &[u8], name: &str, from: usize) -> usize {
    let close: &[u8] = match name {
        "script" => b"</script",
        "style" => b"</style",
        // A missing `</head>` must not hide the whole page, so `<body>` ends it as well.
        "head" => {
            let end = [find_ignore_case(bytes, from, b"</head"), find_ignore_case(bytes, from, b"<body")]
                .into_iter()
                .flatten()
                .min();
            return end.unwrap_or(bytes.len());
        }
        _ => return from,
    };
    match find_ignore_case(bytes, from, close) {
        // The end tag itself is left for the main loop, which parses and drops it.
        Some(at) => at,
        None => bytes.len(),
    }
}

/// Decodes entities in a run of HTML text and feeds it to the collapser.
fn push_html_text(out: &mut Collapser, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match decode_entity(after) {
            Some((decoded, used)) => {
                out.push(decoded);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// Decodes the entity at the start of `text` (just after its `&`), returning the character
/// and the number of bytes consumed including the `;`. Unknown or malformed entities give
/// `None` and are then kept as written.
fn decode_entity(text: &str) -> Option<(char, usize)> {
    // Entity bodies are short; looking further would make `a & b ... ;` quadratic.
    let end = text.bytes().take(32).position(|b| b == b';')?;
    let body = &text[..end];
    let decoded = if let Some(number) = body.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        // NUL and surrogates are not characters a page may contain; show the usual mark.
        if code == 0 { '\u{FFFD}' } else { char::from_u32(code).unwrap_or('\u{FFFD}') }
    } else {
        match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{A0}',
            "copy" => '©',
            "reg" => '®',
            "hellip" => '…',
            "mdash" => '—',
            "ndash" => '–',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "euro" => '€',
            _ => return None,
        }
    };
    Some((decoded, end + 1))
}

/// Finds `needle` in `haystack` at or after `from`.
pub(super) fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|window| window == needle).map(|at| at + from)
}

/// Like [`find`], ignoring ASCII case.
fn find_ignore_case(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
        .map(|at| at + from)
}
