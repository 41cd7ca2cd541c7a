//! PDF pages to words through lopdf, with every stream inflated by our own capped path.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::collapse::{Collapser, Gap};
use super::html::find;
use super::{
    CONTENT_CHUNK_BYTES, MAX_CONTENT_TOTAL_BYTES, MAX_LOAD_STREAM_BYTES, MAX_LOAD_STREAMS_TOTAL, MAX_PAGE_CONTENT_BYTES,
};

/// The text of every page, in page order. Pages that fail to decode are skipped; a file
/// lopdf cannot load at all, or one whose streams would decode past the limits, gives `None`.
///
/// Everything lopdf would inflate without a limit is kept from it: the file is checked first
/// ([`load_time_streams_fit`]), and page contents are decoded here ([`decode_stream`]) with
/// a cap on what they produce, never by lopdf's `get_page_content`.
pub(super) fn pdf_text(path: &Path, max_bytes: usize) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    if !load_time_streams_fit(&bytes) {
        return None;
    }
    let options = lopdf::LoadOptions { filter: Some(drop_unread_streams), ..Default::default() };
    let document = lopdf::Document::load_mem_with_options(&bytes, options).ok()?;
    drop(bytes);
    let mut out = Collapser::new();
    let mut content_left = MAX_CONTENT_TOTAL_BYTES;
    for page_id in document.get_pages().into_values() {
        if content_left == 0 {
            break;
        }
        // One bad page (an unknown font, a broken content stream) should not lose the rest.
        let _ = page_text(&document, page_id, &mut out, &mut content_left, max_bytes);
        out.gap(Gap::Line);
        if out.len() >= max_bytes {
            break;
        }
    }
    Some(out.finish())
}

/// lopdf's load filter: the pixels of pictures and the programs of embedded fonts are never
/// read for text, so their bytes are not kept in memory.
fn drop_unread_streams(id: lopdf::ObjectId, object: &mut lopdf::Object) -> Option<(lopdf::ObjectId, lopdf::Object)> {
    if let lopdf::Object::Stream(stream) = object {
        let dict = &stream.dict;
        let subtype = dict.get(b"Subtype").and_then(lopdf::Object::as_name).ok();
        let picture = subtype == Some(b"Image".as_slice());
        let font_program = [b"Length1".as_slice(), b"Length2", b"Length3"].iter().any(|key| dict.has(key))
            || matches!(subtype, Some(b"Type1C" | b"CIDFontType0C" | b"OpenType"));
        if picture || font_program {
            stream.set_content(Vec::new());
        }
    }
    // lopdf only looks at whether this is `Some`; the object itself was changed in place.
    Some((id, lopdf::Object::Null))
}

/// Why a stream was not decoded.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Undecoded {
    /// It would produce more than it may.
    TooLarge,
    /// A filter or parameter we do not decode (LZW, JBIG2, predictors in page content).
    Unsupported,
}

/// Decodes a stream's `/Filter` chain, producing at most `cap` bytes at every stage.
/// FlateDecode (with lopdf's fallback to raw deflate for a bad zlib header) and
/// ASCIIHexDecode are read; anything else is [`Undecoded::Unsupported`]. With
/// `predictors_allowed` false, a stream with a `/Predictor` is refused (page content never
/// has one); when only the size matters, predictors (which shrink) are ignored.
fn decode_stream(
    dict: &lopdf::Dictionary,
    raw: &[u8],
    cap: usize,
    predictors_allowed: bool,
) -> Result<Vec<u8>, Undecoded> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        Err(_) => Vec::new(),
        Ok(lopdf::Object::Name(name)) => vec![name.as_slice()],
        Ok(lopdf::Object::Array(names)) => {
            names.iter().map(|name| name.as_name().map_err(|_| Undecoded::Unsupported)).collect::<Result<_, _>>()?
        }
        Ok(_) => return Err(Undecoded::Unsupported),
    };
    let predictor = dict
        .get(b"DecodeParms")
        .ok()
        .and_then(|parms| match parms {
            lopdf::Object::Dictionary(d) => Some(d),
            lopdf::Object::Array(list) => list.iter().find_map(|p| p.as_dict().ok()),
            _ => None,
        })
        .and_then(|parms| parms.get(b"Predictor").and_then(lopdf::Object::as_i64).ok())
        .unwrap_or(1);
    if predictor > 1 && !predictors_allowed {
        return Err(Undecoded::Unsupported);
    }
    decode_filter_chain(&filters, raw, cap)
}

fn decode_filter_chain(filters: &[&[u8]], raw: &[u8], cap: usize) -> Result<Vec<u8>, Undecoded> {
    let Some((first, rest)) = filters.split_first() else {
        return if raw.len() > cap { Err(Undecoded::TooLarge) } else { Ok(raw.to_vec()) };
    };
    let decoded = match *first {
        b"FlateDecode" | b"Fl" => inflate_capped(raw, cap)?,
        b"ASCIIHexDecode" | b"AHx" => ascii_hex(raw, cap)?,
        _ => return Err(Undecoded::Unsupported),
    };
    if rest.is_empty() { Ok(decoded) } else { decode_filter_chain(rest, &decoded, cap) }
}

/// Inflates zlib data (or raw deflate, when the zlib header is bad, as lopdf does), stopping
/// with [`Undecoded::TooLarge`] as soon as more than `cap` bytes come out. A stream cut short
/// gives what it held. This is the one inflater of the PDF path: a stream deflated twice (or
/// ten times) is capped at every stage, so 2 KB can never become 1 GiB.
pub(super) fn inflate_capped(raw: &[u8], cap: usize) -> Result<Vec<u8>, Undecoded> {
    let mut out = read_capped(flate2::read::ZlibDecoder::new(raw), cap)?;
    if out.is_empty() && raw.len() > 2 {
        out = read_capped(flate2::read::DeflateDecoder::new(&raw[2..]), cap)?;
    }
    Ok(out)
}

/// Reads `reader` to its end or its first error, keeping at most `cap` bytes; more is
/// [`Undecoded::TooLarge`].
fn read_capped(reader: impl Read, cap: usize) -> Result<Vec<u8>, Undecoded> {
    let mut out = Vec::new();
    let mut limited = reader.take(cap as u64 + 1);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match limited.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
    if out.len() > cap { Err(Undecoded::TooLarge) } else { Ok(out) }
}

fn ascii_hex(raw: &[u8], cap: usize) -> Result<Vec<u8>, Undecoded> {
    let digits = raw.iter().take_while(|&&b| b != b'>').filter_map(|&b| (b as char).to_digit(16));
    let mut out = Vec::new();
    let mut high = None;
    for digit in digits {
        match high.take() {
            None => high = Some(digit as u8),
            Some(h) => out.push(h << 4 | digit as u8),
        }
        if out.len() > cap {
            return Err(Undecoded::TooLarge);
        }
    }
    if let Some(h) = high {
        out.push(h << 4);
    }
    Ok(out)
}

/// Checks, before lopdf sees the file, that every stream it would inflate while loading
/// (object streams, cross-reference streams) decodes within [`MAX_LOAD_STREAM_BYTES`], and
/// all of them within [`MAX_LOAD_STREAMS_TOTAL`]: lopdf has no limit of its own there.
///
/// The file is scanned for `stream` keywords, not parsed, so nothing here trusts a length
/// or an offset: each stream's dictionary is parsed with lopdf's own parser, and its data is
/// taken from the keyword to the end of the file (inflating stops at the end of the
/// compressed data, so this measures at least what lopdf would produce). A stream that may be
/// one of those kinds (a name written with `#` escapes could spell `/ObjStm`) counts as one.
/// Encrypted files with object streams are refused: their streams can only be measured
/// after decryption, which lopdf does together with inflating them.
fn load_time_streams_fit(pdf: &[u8]) -> bool {
    let encrypted = find(pdf, 0, b"/Encrypt").is_some();
    let mut total = 0usize;
    let mut at = 0;
    while let Some(keyword) = find(pdf, at, b"stream") {
        at = keyword + 6;
        if pdf[..keyword].ends_with(b"end") {
            continue;
        }
        // The dictionary sits between the object's `obj` keyword and `stream`.
        let window = &pdf[keyword.saturating_sub(64 * 1024)..keyword];
        let Some(dict_start) = window.windows(2).rposition(|w| w == b"<<") else { continue };
        let dict_text = &window[dict_start..];
        let load_time = [b"ObjStm".as_slice(), b"XRef", b"#"]
            .iter()
            .any(|needle| dict_text.windows(needle.len()).any(|w| w == *needle));
        if !load_time {
            continue;
        }
        if encrypted {
            return false;
        }
        // A dictionary we cannot read is one lopdf cannot either; skip it like lopdf would
        // skip the object. Otherwise measure its data.
        let Some(dict) = parse_dictionary(dict_text) else { continue };
        let data_start = match &pdf[at..] {
            [b'\r', b'\n', ..] => at + 2,
            [b'\n' | b'\r', ..] => at + 1,
            _ => at,
        };
        match decode_stream(&dict, &pdf[data_start..], MAX_LOAD_STREAM_BYTES, true) {
            Ok(decoded) => total += decoded.len(),
            // lopdf reads LZW and ASCII85 too, without a limit: not a risk to take.
            Err(_) => return false,
        }
        if total > MAX_LOAD_STREAMS_TOTAL {
            return false;
        }
    }
    true
}

/// Parses `<< ... >>` (possibly with text after it) with lopdf's content parser, which reads
/// dictionaries as operands.
fn parse_dictionary(text: &[u8]) -> Option<lopdf::Dictionary> {
    let end = text.windows(2).rposition(|w| w == b">>")? + 2;
    let mut wrapped = text[..end].to_vec();
    wrapped.extend_from_slice(b" q");
    let content = lopdf::content::Content::decode(&wrapped).ok()?;
    let operand = content.operations.into_iter().next()?.operands.into_iter().next()?;
    match operand {
        lopdf::Object::Dictionary(dict) => Some(dict),
        _ => None,
    }
}

/// Walks one page's content streams and feeds the strings they show to `out`, with spaces
/// and line breaks where the text position jumps. Form XObjects are not followed.
///
/// The streams are decoded by [`decode_stream`] within [`MAX_PAGE_CONTENT_BYTES`] (and what
/// is left of the document's `content_left`), then parsed a chunk at a time.
fn page_text(
    document: &lopdf::Document,
    page_id: lopdf::ObjectId,
    out: &mut Collapser,
    content_left: &mut usize,
    max_bytes: usize,
) -> lopdf::Result<()> {
    let encodings: BTreeMap<Vec<u8>, lopdf::Encoding> = document
        .get_page_fonts(page_id)?
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding(document).ok().map(|encoding| (name, encoding)))
        .collect();
    let mut content = Vec::new();
    for id in document.get_page_contents(page_id) {
        let Ok(stream) = document.get_object(id).and_then(lopdf::Object::as_stream) else { continue };
        let cap = MAX_PAGE_CONTENT_BYTES.saturating_sub(content.len()).min(*content_left);
        match decode_stream(&stream.dict, &stream.content, cap, false) {
            Ok(decoded) => {
                *content_left -= decoded.len();
                content.extend_from_slice(&decoded);
                content.push(b'\n');
            }
            // Too much: the page is read as far as the limit allowed before it.
            Err(Undecoded::TooLarge) => {
                *content_left = content_left.saturating_sub(cap);
                break;
            }
            Err(Undecoded::Unsupported) => {}
        }
    }
    let mut walker = TextWalker { encodings: &encodings, encoding: None, line_y: None };
    let mut rest = content.as_slice();
    while !rest.is_empty() && out.len() < max_bytes {
        let cut = chunk_end(rest, CONTENT_CHUNK_BYTES);
        // A chunk that does not parse (cut inside a string, or simply broken) loses only
        // its own text.
        if let Ok(operations) = lopdf::content::Content::decode(&rest[..cut]) {
            walker.walk(&operations.operations, out);
        }
        rest = &rest[cut..];
    }
    Ok(())
}

/// Where to cut the content for the next chunk of at most about `max` bytes: just after an
/// `ET` (end of a text object) or failing that after whitespace, so operators are not split.
fn chunk_end(content: &[u8], max: usize) -> usize {
    if content.len() <= max {
        return content.len();
    }
    let window = &content[..max];
    let after_et = window
        .windows(4)
        .rposition(|w| w[0].is_ascii_whitespace() && &w[1..3] == b"ET" && w[3].is_ascii_whitespace())
        .map(|at| at + 3);
    after_et
        .or_else(|| window.iter().rposition(u8::is_ascii_whitespace).map(|at| at + 1))
        .filter(|&at| at > 0)
        .unwrap_or(max)
}

/// The text state carried from one chunk of a page's operations to the next.
struct TextWalker<'a> {
    encodings: &'a BTreeMap<Vec<u8>, lopdf::Encoding<'a>>,
    encoding: Option<&'a lopdf::Encoding<'a>>,
    /// The vertical position of the last text matrix, to tell a new line from a new word.
    line_y: Option<f32>,
}

impl TextWalker<'_> {
    fn walk(&mut self, operations: &[lopdf::content::Operation], out: &mut Collapser) {
        use lopdf::Object;
        for operation in operations {
            let operands = &operation.operands;
            match operation.operator.as_str() {
                "Tf" => {
                    self.encoding =
                        operands.first().and_then(|name| name.as_name().ok()).and_then(|name| self.encodings.get(name));
                }
                "Tj" => show_strings(out, self.encoding, operands),
                // `'` and `"` move to the next line before showing their string.
                "'" | "\"" => {
                    out.gap(Gap::Line);
                    show_strings(out, self.encoding, operands.last().map(std::slice::from_ref).unwrap_or_default());
                }
                "TJ" => {
                    for item in operands.iter().filter_map(|operand| operand.as_array().ok()).flatten() {
                        match item {
                            Object::String(..) => show_strings(out, self.encoding, std::slice::from_ref(item)),
                            // Adjustments are in thousandths of an em; a large negative one is
                            // how many generators write the space between words.
                            other => {
                                if other.as_float().is_ok_and(|adjust| adjust < -200.0) {
                                    out.gap(Gap::Space);
                                }
                            }
                        }
                    }
                }
                "Td" | "TD" => {
                    let moves_down = operands.get(1).and_then(|dy| dy.as_float().ok()).is_some_and(|dy| dy != 0.0);
                    out.gap(if moves_down { Gap::Line } else { Gap::Space });
                }
                "Tm" => {
                    let y = operands.get(5).and_then(|y| y.as_float().ok());
                    let same_line = matches!((self.line_y, y), (Some(a), Some(b)) if (a - b).abs() < 0.5);
                    out.gap(if same_line { Gap::Space } else { Gap::Line });
                    self.line_y = y;
                }
                "T*" | "ET" => out.gap(Gap::Line),
                _ => {}
            }
        }
    }
}

/// Decodes the string operands with the current font's encoding. Without a usable font the
/// bytes are read as Latin-1, which is right for the common case of ASCII text.
fn show_strings(out: &mut Collapser, encoding: Option<&lopdf::Encoding>, operands: &[lopdf::Object]) {
    for operand in operands {
        let lopdf::Object::String(bytes, _) = operand else { continue };
        match encoding.map(|encoding| encoding.bytes_to_string(bytes)) {
            Some(Ok(text)) => out.push_str(&text),
            Some(Err(_)) => {}
            None => {
                for &byte in bytes.iter() {
                    out.push(if byte.is_ascii_control() && !byte.is_ascii_whitespace() {
                        ' '
                    } else {
                        char::from(byte)
                    });
                }
            }
        }
    }
}
