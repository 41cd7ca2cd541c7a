//! Plain text out of uploaded files, for the search index.
//!
//! [`extract_text`] looks at a file's first bytes and its display name and returns the words a
//! person would search for: the text of plain-text and source files, HTML without its markup,
//! the text of PDF pages, and the body of Word (DOCX) and OpenDocument (ODT) documents. Images,
//! audio, video and other binaries give `None`.
//!
//! Uploads come from students, so every reader here treats its input as hostile: sizes are
//! capped before anything is parsed, everything decompressed is capped by what it produces
//! (XML through `Read::take`, PDF streams through [`inflate_capped`]), and the
//! format parsers run under `catch_unwind` because a crate panicking on an odd file must cost
//! us one file's text, never a worker thread. The display name only supplies an extension;
//! it is never used as a path.
//!
//! # Crates, and why these
//!
//! - `lopdf` (default features off, so no rayon, chrono, jiff or time): it parses the PDF
//!   object graph, decrypts files with an empty user password, and decodes font encodings
//!   and ToUnicode maps. The content-stream walk that turns text operators into words is
//!   written here, because lopdf's own `extract_text` glues words together when a PDF places
//!   them with `Td`/`Tm` instead of spaces. `pdf-extract` lays text out more faithfully, but
//!   it builds on the same lopdf and adds a font stack (CFF, Type 1, CMap parsers, euclid)
//!   that a search index does not need.
//! - `zip` with only the `deflate-flate2` feature: DOCX and ODT are zip files whose parts are
//!   stored or deflated, so the other codecs (bzip2, zstd, lzma, AES) would be dead weight.
//!   The deflate code is flate2 on its pure-Rust backend, which png and lopdf already pull in.
//! - `quick-xml`: a small streaming XML reader with no DOM, so a large `document.xml` is
//!   walked event by event and never held as a tree. It does not expand custom entities,
//!   which rules out "billion laughs" documents.
//! - HTML is handled by a small state machine in this file rather than an HTML5 parser
//!   crate: the index needs words, not a faithful DOM, and those crates are large.
//!
//! # Known limits
//!
//! - Output, not input, bounds every decoder here: one file's extraction stays under
//!   `heavy::MEMORY_PER_FILE` (a unit test measures a 1 KB PDF that inflates to 256 MiB).
//!   lopdf inflates object streams and cross-reference streams while loading, without a cap
//!   of its own, so [`load_time_streams_fit`] measures them with our capped inflater first
//!   and refuses the file if they do not fit; page contents are never inflated by lopdf but
//!   by [`decode_stream`]. The streams lopdf would decode with filters we do not bound (LZW,
//!   ASCII85) make the file unreadable here, and so do encrypted files with object streams.
//!   lopdf still builds an object tree several times larger than a crafted file's objects;
//!   [`MAX_PDF_BYTES`] bounds that. Callers run extraction through the `heavy` gate (a few
//!   at once, crashes remembered).
//! - Text drawn inside Form XObjects (`Do`) is not followed, and neither is text in PDF
//!   annotations or form fields. Scanned PDFs have no text at all and give an empty string.
//! - Encrypted PDFs are read only when they open with the empty user password.
//! - `catch_unwind` cannot catch a stack overflow or an abort. lopdf limits how deeply it
//!   nests when parsing, and the tests feed it deeply nested input to keep that true.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use quick_xml::events::Event;

/// How many leading bytes decide whether a file is text.
const SNIFF_LEN: usize = 8 * 1024;
/// Text, source and HTML files are read up to this many bytes; the index needs no more.
const MAX_TEXT_BYTES: u64 = 4 * 1024 * 1024;
/// PDFs larger than this are skipped: lopdf holds the whole file and its object graph, and
/// one file's processing must stay under `heavy::MEMORY_PER_FILE` (64 MiB).
const MAX_PDF_BYTES: u64 = 32 * 1024 * 1024;
/// The most one PDF stream may decode to while the file is checked before loading: object
/// streams and cross-reference streams, which lopdf inflates itself while loading, must fit.
const MAX_LOAD_STREAM_BYTES: usize = 4 * 1024 * 1024;
/// What all of those streams of one PDF may decode to together.
const MAX_LOAD_STREAMS_TOTAL: usize = 8 * 1024 * 1024;
/// The most one page's content streams are decoded to (longer pages are read this far).
const MAX_PAGE_CONTENT_BYTES: usize = 8 * 1024 * 1024;
/// What all pages' content of one PDF may decode to together (a time bound: a thousand pages
/// of drawings are not walked for their few words).
const MAX_CONTENT_TOTAL_BYTES: usize = 64 * 1024 * 1024;
/// Page content is parsed into operations this much at a time: lopdf's operations take many
/// times the bytes they come from, so a whole 8 MiB page would not fit the budget at once.
const CONTENT_CHUNK_BYTES: usize = 256 * 1024;
/// Zip archives larger than this are not opened at all.
const MAX_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;
/// At most this much decompressed XML is read from a DOCX or ODT entry (zip-bomb guard). The
/// XML reader's buffer may grow to one event's size, so this also bounds its memory.
const MAX_XML_BYTES: u64 = 16 * 1024 * 1024;
/// Zip archives listing more entries than this, or a central directory larger than
/// [`MAX_ZIP_DIRECTORY_BYTES`], are not opened: the zip crate reads the whole directory into
/// memory first. A document has a few dozen entries.
const MAX_ZIP_ENTRIES: u64 = 10_000;
const MAX_ZIP_DIRECTORY_BYTES: u64 = 4 * 1024 * 1024;
/// The `mimetype` entry of an OpenDocument text file.
const ODT_MIME: &str = "application/vnd.oasis.opendocument.text";

/// Extensions read as text even when their first bytes are not valid UTF-8 (they are then
/// decoded lossily, which suits Latin-1 files written by older editors).
const TEXT_EXTENSIONS: &str = "txt text md markdown mdown rst adoc org tex bib log csv tsv json jsonl ndjson xml rs \
    py pyw ipynb js mjs cjs ts tsx jsx vue svelte c h cc cpp cxx hpp hh java kt kts \
    scala go rb php pl pm lua r jl swift m cs fs vb sh bash zsh fish ps1 bat cmd css \
    scss sass less sql toml yaml yml ini cfg conf properties hs ml ex exs erl clj lisp \
    scm rkt dart zig asm s pas f90 srt vtt";

/// Extensions handled as HTML.
const HTML_EXTENSIONS: &str = "html htm xhtml xht shtml";

/// Extensions whose files are never indexed as text, whatever their bytes look like: media
/// and binary formats, and document formats we do not parse (an RTF or SVG would only put
/// markup into the index).
const SKIPPED_EXTENSIONS: &str = "png jpg jpeg gif webp bmp tif tiff ico heic heif avif svg psd mp4 m4v mov avi mkv \
    webm wmv flv mpg mpeg 3gp ogv mp3 wav ogg oga opus flac m4a aac wma mid midi aif \
    aiff zip gz tgz bz2 xz 7z rar tar zst exe dll so dylib bin iso dmg class jar wasm o \
    a pyc sqlite db ttf otf woff woff2 rtf doc xls ppt";

/// What kind of text a file holds, decided from its display name and first bytes.
///
/// Returns `None` for files it cannot or should not read (images, video, audio, binaries,
/// unknown formats, unreadable or over-large files), otherwise the file's text cut to at
/// most `max_chars` characters. `file_name` is only consulted for its extension.
///
/// This reads files and parses them synchronously; call it from a blocking thread.
pub fn extract_text(path: &std::path::Path, file_name: &str, max_chars: usize) -> Option<String> {
    // Opening a FIFO or device would block or never end, so only regular files are read.
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let head = read_head(&mut file)?;
    let extension = extension_of(file_name);
    let kind = detect(&head, &extension)?;
    // A cap on output bytes lets the readers stop early; four bytes per character is the
    // most UTF-8 needs, so the cap never cuts text that `max_chars` would keep.
    let max_bytes = max_chars.saturating_mul(4);

    // The crates below are not ours and have panicked on malformed files before; a panic
    // there must only lose this file's text. Nothing shared is touched inside the closure,
    // so asserting unwind safety is sound.
    let extracted = catch_unwind(AssertUnwindSafe(|| match kind {
        Kind::Pdf if metadata.len() <= MAX_PDF_BYTES => pdf_text(path, max_bytes),
        Kind::Zip if metadata.len() <= MAX_ARCHIVE_BYTES => office_text(file, max_bytes),
        Kind::Pdf | Kind::Zip => None,
        Kind::Html => read_text(file).map(|text| html_to_text(&text)),
        Kind::Text => read_text(file),
    }));
    let mut text = extracted.ok().flatten()?;
    truncate_chars(&mut text, max_chars);
    Some(text)
}

/// The broad format, which picks the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Html,
    Pdf,
    /// A zip archive; only DOCX and ODT inside it are read.
    Zip,
}

/// Decides the format. Binary formats are recognised by their magic bytes alone, so a text
/// file named `x.pdf` never reaches the PDF parser; text is recognised by its bytes, and the
/// extension only widens (lossy text) or narrows (media) that judgement.
fn detect(head: &[u8], extension: &str) -> Option<Kind> {
    if head.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(Kind::Zip);
    }
    if listed(SKIPPED_EXTENSIONS, extension) {
        return None;
    }
    let text_like = utf16_bom(head).is_some_and(|big_endian| looks_like_utf16(head, big_endian))
        || looks_like_utf8(head)
        || ((listed(TEXT_EXTENSIONS, extension) || listed(HTML_EXTENSIONS, extension)) && !head.contains(&0));
    if !text_like {
        return None;
    }
    if listed(HTML_EXTENSIONS, extension) || sniff_html(head) { Some(Kind::Html) } else { Some(Kind::Text) }
}

/// Whether `word` is one of the space-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|listed| listed == word)
}

/// The lowercased extension of a display name, or "" when it has none. Both separators are
/// stripped first so that a name like `a.d/notes` has no extension.
fn extension_of(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => extension.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Reads up to [`SNIFF_LEN`] bytes from the start of the file.
fn read_head(file: &mut File) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.take(SNIFF_LEN as u64).read_to_end(&mut head).ok()?;
    Some(head)
}

/// True when the bytes are UTF-8 without NUL. A multi-byte character cut off by the end of
/// the sniff window does not count against the file.
fn looks_like_utf8(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && head.len() == SNIFF_LEN,
    }
}

/// `Some(true)` for a UTF-16 big-endian byte order mark, `Some(false)` for little-endian.
fn utf16_bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xFE, 0xFF, ..] => Some(true),
        [0xFF, 0xFE, ..] => Some(false),
        _ => None,
    }
}

/// Checks that a file with a UTF-16 byte order mark really decodes as text, since two bytes
/// are weak evidence on their own.
fn looks_like_utf16(head: &[u8], big_endian: bool) -> bool {
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
fn sniff_html(head: &[u8]) -> bool {
    let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = &start[start.iter().take_while(|byte| byte.is_ascii_whitespace()).count()..];
    let prefix = &start[..start.len().min(14)];
    prefix.eq_ignore_ascii_case(b"<!doctype html") || prefix.get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"<html"))
}

/// Reads a text file from the start, up to [`MAX_TEXT_BYTES`]: UTF-16 when it has a byte
/// order mark, otherwise UTF-8 with invalid sequences replaced.
fn read_text(mut file: File) -> Option<String> {
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
fn truncate_chars(text: &mut String, max_chars: usize) {
    if let Some((index, _)) = text.char_indices().nth(max_chars) {
        text.truncate(index);
    }
}

// ---------------------------------------------------------------------------------------
// Whitespace collapsing, shared by the HTML and PDF readers.
// ---------------------------------------------------------------------------------------

/// Builds text in which every run of whitespace becomes one space, or one line break when a
/// block boundary fell inside the run. Leading and trailing whitespace is dropped.
struct Collapser {
    out: String,
    pending: Gap,
}

/// The whitespace owed before the next visible character; a larger gap absorbs a smaller one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Space,
    Line,
}

impl Collapser {
    fn new() -> Self {
        Collapser { out: String::new(), pending: Gap::None }
    }

    fn push_str(&mut self, text: &str) {
        for c in text.chars() {
            self.push(c);
        }
    }

    fn push(&mut self, c: char) {
        // Line breaks in the source are layout, not structure, so they count as spaces, and
        // so do control characters, which badly encoded PDFs produce and nobody searches for.
        if c.is_whitespace() || c.is_control() {
            self.gap(Gap::Space);
            return;
        }
        if !self.out.is_empty() {
            match self.pending {
                Gap::None => {}
                Gap::Space => self.out.push(' '),
                Gap::Line => self.out.push('\n'),
            }
        }
        self.pending = Gap::None;
        self.out.push(c);
    }

    fn gap(&mut self, gap: Gap) {
        self.pending = self.pending.max(gap);
    }

    fn len(&self) -> usize {
        self.out.len()
    }

    fn finish(self) -> String {
        self.out
    }
}

// ---------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------

/// Elements whose end (and start) separates blocks of text, so their words must not run
/// into the neighbours' words.
const BLOCK_TAGS: &str = "address article aside blockquote br caption dd details div dl dt fieldset figcaption \
    figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary \
    table tbody td tfoot th thead tr ul";

/// Turns HTML into text: tags go, `<script>`, `<style>`, `<head>` and comments go with
/// their contents, entities are decoded and whitespace collapsed, and block elements
/// become line breaks. It is deliberately forgiving: whatever it cannot read as markup it
/// keeps as text.
fn html_to_text(html: &str) -> String {
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
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
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

// ---------------------------------------------------------------------------------------
// PDF
// ---------------------------------------------------------------------------------------

/// The text of every page, in page order. Pages that fail to decode are skipped; a file
/// lopdf cannot load at all, or one whose streams would decode past the limits, gives `None`.
///
/// Everything lopdf would inflate without a limit is kept from it: the file is checked first
/// ([`load_time_streams_fit`]), and page contents are decoded here ([`decode_stream`]) with
/// a cap on what they produce, never by lopdf's `get_page_content`.
fn pdf_text(path: &Path, max_bytes: usize) -> Option<String> {
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
enum Undecoded {
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
fn inflate_capped(raw: &[u8], cap: usize) -> Result<Vec<u8>, Undecoded> {
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

// ---------------------------------------------------------------------------------------
// DOCX and ODT
// ---------------------------------------------------------------------------------------

/// Which word-processor XML a zip holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// Office Open XML: `word/document.xml`.
    Docx,
    /// OpenDocument Text: `content.xml`.
    Odt,
}

/// Opens a zip archive and reads the document text of a DOCX or ODT inside it. Other zip
/// formats (spreadsheets, presentations, EPUB, plain archives) give `None`.
fn office_text(mut file: File, max_bytes: usize) -> Option<String> {
    if zip_directory_fits(&mut file) != Some(true) {
        return None;
    }
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).ok()?;
    // An OpenDocument file names its type in a `mimetype` entry; an ODS or ODP has one too,
    // so any other type is refused rather than read as a Word file.
    let dialect = match archive.by_name("mimetype") {
        Ok(entry) => {
            let mut mime = String::new();
            entry.take(256).read_to_string(&mut mime).ok()?;
            if mime.trim() != ODT_MIME {
                return None;
            }
            Dialect::Odt
        }
        Err(_) => Dialect::Docx,
    };
    let part = match dialect {
        Dialect::Docx => "word/document.xml",
        Dialect::Odt => "content.xml",
    };
    let entry = archive.by_name(part).ok()?;
    xml_text(BufReader::new(entry.take(MAX_XML_BYTES)), dialect, max_bytes)
}

/// Reads the end-of-central-directory record and checks the archive lists at most
/// [`MAX_ZIP_ENTRIES`] in at most [`MAX_ZIP_DIRECTORY_BYTES`], before the zip crate reads
/// that directory into memory. Zip64 archives (over 65,535 entries or 4 GiB), which no word
/// processor writes for a document, are refused.
fn zip_directory_fits(file: &mut File) -> Option<bool> {
    let len = file.seek(SeekFrom::End(0)).ok()?;
    // The record is 22 bytes plus a comment of at most 65,535.
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.by_ref().take(tail_len).read_to_end(&mut tail).ok()?;
    file.seek(SeekFrom::Start(0)).ok()?;
    let record = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let field = |at: usize, size: usize| -> Option<u64> {
        let bytes = tail.get(record + at..record + at + size)?;
        Some(bytes.iter().rev().fold(0u64, |n, &b| n << 8 | u64::from(b)))
    };
    let (entries, directory) = (field(10, 2)?, field(12, 4)?);
    // MAX_ZIP_ENTRIES is below 0xFFFF, the value that sends readers to the Zip64 record.
    Some(entries <= MAX_ZIP_ENTRIES && directory <= MAX_ZIP_DIRECTORY_BYTES)
}

/// Walks the document XML and collects the text a reader sees.
///
/// Elements are matched by local name so that documents using unusual namespace prefixes
/// still read. In DOCX, text lives in `w:t` (and `a:t` in drawings); `w:delText` (deleted
/// revisions) and `w:instrText` (field codes) are left out by not being `t`. In ODT, text is
/// any character data inside `text:p` or `text:h`.
///
/// A parse error ends the walk but keeps the text read so far: a document cut short by the
/// size cap, or slightly malformed, is still worth indexing. Only a document that yields
/// nothing before failing gives `None`.
fn xml_text<R: BufRead>(input: R, dialect: Dialect, max_bytes: usize) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;

    let mut out = String::new();
    let mut buf = Vec::new();
    // Depth inside elements whose character data is document text.
    let mut in_text = 0usize;
    // Depth inside a DOCX run (`w:r`), where `w:tab` is a real tab rather than a tab stop.
    let mut in_run = 0usize;
    // Depth inside an element skipped whole, with everything under it.
    let mut skipping = 0usize;
    let mut failed = false;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) => break,
            Ok(event) => event,
            Err(_) => {
                failed = true;
                break;
            }
        };
        match event {
            Event::Start(start) => {
                let name = start.local_name();
                let name = name.as_ref();
                if skipping > 0 || skipped_element(dialect, name) {
                    skipping += 1;
                } else {
                    match (dialect, name) {
                        (Dialect::Docx, b"t") | (Dialect::Odt, b"p" | b"h") => in_text += 1,
                        (Dialect::Docx, b"r") => in_run += 1,
                        _ => {}
                    }
                    push_empty_element(&mut out, dialect, name, in_run > 0 || dialect == Dialect::Odt);
                }
            }
            Event::Empty(empty) if skipping == 0 => {
                push_empty_element(
                    &mut out,
                    dialect,
                    empty.local_name().as_ref(),
                    in_run > 0 || dialect == Dialect::Odt,
                );
            }
            Event::End(_) if skipping > 0 => skipping -= 1,
            Event::End(end) => match (dialect, end.local_name().as_ref()) {
                (Dialect::Docx, b"t") => in_text = in_text.saturating_sub(1),
                (Dialect::Docx, b"r") => in_run = in_run.saturating_sub(1),
                (Dialect::Docx, b"p") => out.push('\n'),
                (Dialect::Odt, b"p" | b"h") => {
                    in_text = in_text.saturating_sub(1);
                    out.push('\n');
                }
                _ => {}
            },
            // One event can hold a whole (capped) entry's text: push only what fits.
            Event::Text(text) if in_text > 0 && skipping == 0 => {
                if let Ok(text) = text.xml10_content() {
                    push_capped(&mut out, &text, max_bytes);
                }
            }
            Event::CData(data) if in_text > 0 && skipping == 0 => {
                if let Ok(text) = data.decode() {
                    push_capped(&mut out, &text, max_bytes);
                }
            }
            Event::GeneralRef(reference) if in_text > 0 && skipping == 0 => {
                if let Some(c) = resolve_xml_reference(&reference) {
                    out.push(c);
                }
            }
            _ => {}
        }
        buf.clear();
        if out.len() >= max_bytes {
            break;
        }
    }
    if failed && out.trim().is_empty() {
        return None;
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    Some(out)
}

/// Appends as much of `text` as keeps `out` within `max_bytes`, cut at a character boundary.
fn push_capped(out: &mut String, text: &str, max_bytes: usize) {
    let mut end = text.len().min(max_bytes.saturating_sub(out.len()));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&text[..end]);
}

/// Subtrees whose text would only repeat or contradict the document: Word's fallback copy
/// of drawings (the same text box again, for old readers) and ODT's record of deleted text.
fn skipped_element(dialect: Dialect, local_name: &[u8]) -> bool {
    match dialect {
        Dialect::Docx => local_name == b"Fallback",
        Dialect::Odt => local_name == b"tracked-changes",
    }
}

/// Elements that stand for whitespace inside text. `in_flow` says whether a tab is text
/// (DOCX: inside a run, not a paragraph's tab-stop list).
fn push_empty_element(out: &mut String, dialect: Dialect, local_name: &[u8], in_flow: bool) {
    match (dialect, local_name) {
        (Dialect::Docx, b"tab") | (Dialect::Odt, b"tab") if in_flow => out.push('\t'),
        (Dialect::Docx, b"br" | b"cr") | (Dialect::Odt, b"line-break") => out.push('\n'),
        (Dialect::Docx, b"noBreakHyphen") => out.push('-'),
        (Dialect::Odt, b"s") => out.push(' '),
        _ => {}
    }
}

/// Resolves `&amp;` and friends, and character references, in document XML.
fn resolve_xml_reference(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if reference.is_char_ref() {
        return reference.resolve_char_ref().ok().flatten();
    }
    match reference.decode().ok()?.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    use zip::write::SimpleFileOptions;

    const MAX: usize = 100_000;

    /// Writes `bytes` into a fresh file in `dir` under a storage name unrelated to the
    /// display name, as the blob store does, and returns its path.
    fn write_blob(dir: &tempfile::TempDir, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(format!("blob-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn extract(bytes: &[u8], file_name: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        extract_text(&write_blob(&dir, bytes), file_name, MAX)
    }

    /// A minimal PDF 1.4: one page, Helvetica (one of the 14 standard Type 1 fonts, so no
    /// font file is embedded), and an uncompressed content stream that draws `lines`, each
    /// below the previous. The cross-reference offsets are computed from the bytes written.
    fn minimal_pdf(lines: &[&str]) -> Vec<u8> {
        let mut content = String::from("BT\n/F1 18 Tf\n72 720 Td\n");
        for (index, line) in lines.iter().enumerate() {
            if index > 0 {
                content.push_str("0 -24 Td\n");
            }
            content.push_str(&format!("({line}) Tj\n"));
        }
        content.push_str("ET\n");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> \
             /Contents 5 0 R >>"
                .to_string(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
            format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        ];
        pdf_from_objects(&objects)
    }

    /// Numbers `objects` from 1, writes them with a correct cross-reference table, and
    /// makes object 1 the catalog.
    fn pdf_from_objects(objects: &[String]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            // Each entry is exactly 20 bytes, the trailing space included.
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        pdf
    }

    fn zip_bytes(entries: &[(&str, &str, zip::CompressionMethod)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content, method) in entries {
            writer.start_file(*name, SimpleFileOptions::default().compression_method(*method)).unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"#;

    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>"#;

    /// Two paragraphs; "Photosynthesis" is split across two runs, as Word does when the
    /// formatting changes mid-word, and a deleted revision must not be indexed.
    const DOCUMENT_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Photosyn</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>thesis needs</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> light &amp; water</w:t></w:r><w:del><w:r><w:delText>withdrawn</w:delText></w:r></w:del></w:p>
<w:p><w:r><w:t>Chlorophyll absorbs</w:t></w:r><w:r><w:br/><w:t>red light</w:t></w:r></w:p>
<w:sectPr/>
</w:body>
</w:document>"#;

    fn docx_bytes() -> Vec<u8> {
        use zip::CompressionMethod::Deflated;
        zip_bytes(&[
            ("[Content_Types].xml", CONTENT_TYPES, Deflated),
            ("_rels/.rels", RELS, Deflated),
            ("word/document.xml", DOCUMENT_XML, Deflated),
        ])
    }

    const CONTENT_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">
<office:body><office:text>
<text:tracked-changes><text:changed-region text:id="c1"><text:deletion><text:p>borrado</text:p></text:deletion></text:changed-region></text:tracked-changes>
<text:h text:outline-level="1">Mi canción</text:h>
<text:p>La <text:span text:style-name="T1">guitarra</text:span> suena<text:s/>bien<text:tab/>hoy<text:line-break/>mañana</text:p>
</office:text></office:body>
</office:document-content>"#;

    fn odt_bytes(mime: &str) -> Vec<u8> {
        use zip::CompressionMethod::{Deflated, Stored};
        // The OpenDocument spec requires `mimetype` to be the first entry, stored
        // uncompressed, so that tools can identify the file from fixed offsets.
        zip_bytes(&[
            ("mimetype", mime, Stored),
            (
                "META-INF/manifest.xml",
                r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>"#,
                Deflated,
            ),
            ("content.xml", CONTENT_XML, Deflated),
        ])
    }

    #[test]
    fn pdf_text_is_extracted() {
        let pdf = minimal_pdf(&["The bridge holds twelve kilograms", "before it bends"]);
        let text = extract(&pdf, "report.pdf").expect("a valid PDF yields text");
        assert!(text.contains("bridge"), "{text:?}");
        assert!(text.contains("kilograms"), "{text:?}");
        // The second line is placed with `Td`; it must not run into the first.
        assert!(text.contains("kilograms\nbefore"), "{text:?}");
    }

    #[test]
    fn pdf_is_recognised_by_content_not_name() {
        let pdf = minimal_pdf(&["The bridge holds twelve kilograms"]);
        let text = extract(&pdf, "upload").expect("a PDF without an extension is still a PDF");
        assert!(text.contains("bridge"), "{text:?}");
    }

    #[test]
    fn truncated_or_corrupt_pdf_gives_none() {
        let pdf = minimal_pdf(&["The bridge holds twelve kilograms"]);
        assert_eq!(extract(&pdf[..40], "cut.pdf"), None);
        let mut garbage = b"%PDF-1.7\n".to_vec();
        garbage.extend(pseudo_random_bytes(4096));
        assert_eq!(extract(&garbage, "garbage.pdf"), None);
    }

    #[test]
    fn hostile_pdfs_do_not_crash() {
        let page = |contents: &str| {
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> \
                 /Contents {contents} >>"
            )
        };
        let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string();
        let stream = |content: &str| format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len());
        let catalog = "<< /Type /Catalog /Pages 2 0 R >>".to_string();
        let pages = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string();
        let deep_arrays = "[".repeat(100_000);
        let deep_strings = "(".repeat(100_000);
        let deep_dicts = "<< /A ".repeat(50_000);
        let cases: Vec<Vec<String>> = vec![
            // Content streams nested far deeper than any real page.
            vec![catalog.clone(), pages.clone(), page("5 0 R"), font.clone(), stream(&deep_arrays)],
            vec![catalog.clone(), pages.clone(), page("5 0 R"), font.clone(), stream(&deep_strings)],
            vec![catalog.clone(), pages.clone(), page("5 0 R"), font.clone(), stream(&deep_dicts)],
            // A page tree whose only kid is itself.
            vec![catalog.clone(), "<< /Type /Pages /Kids [2 0 R] /Count 1 >>".to_string()],
            // Contents pointing back at the page, and at an object that does not exist.
            vec![catalog.clone(), pages.clone(), page("3 0 R"), font.clone()],
            vec![catalog.clone(), pages.clone(), page("[9 0 R 3 0 R]"), font.clone()],
            // A font whose encoding refers to itself, and text shown with no font at all.
            vec![
                catalog.clone(),
                pages.clone(),
                page("5 0 R"),
                "<< /Type /Font /Subtype /Type1 /Encoding 4 0 R >>".to_string(),
                stream("BT (no font selected) Tj /F1 12 Tf [(a) -500 (b)] TJ 1 2 3 Tm ' \" ET"),
            ],
            // An object nested beyond any limit in the body itself.
            vec![catalog.clone(), format!("{deep_arrays}1")],
        ];
        for (index, objects) in cases.iter().enumerate() {
            let pdf = pdf_from_objects(objects);
            // Any answer is fine; returning at all is the test.
            let _ = extract(&pdf, &format!("hostile-{index}.pdf"));
        }
    }

    #[test]
    fn text_named_pdf_is_never_parsed_as_pdf() {
        let text = extract(b"just some notes, not a PDF at all", "evil.pdf");
        // Either reading is acceptable; what matters is that the PDF parser never saw it.
        if let Some(text) = text {
            assert_eq!(text, "just some notes, not a PDF at all");
        }
    }

    #[test]
    fn docx_paragraphs_are_extracted() {
        let text = extract(&docx_bytes(), "essay.docx").expect("a valid DOCX yields text");
        assert!(text.contains("Photosynthesis needs"), "runs of one word must join: {text:?}");
        assert!(text.contains("light & water"), "{text:?}");
        assert!(text.contains("Chlorophyll absorbs\nred light"), "w:br is a line break: {text:?}");
        let first = text.find("water").unwrap();
        let second = text.find("Chlorophyll").unwrap();
        assert!(text[first..second].contains('\n'), "paragraphs must be separated: {text:?}");
        assert!(!text.contains("withdrawn"), "deleted revisions are not text: {text:?}");
    }

    #[test]
    fn odt_text_is_extracted() {
        let text = extract(&odt_bytes(ODT_MIME), "cancion.odt").expect("a valid ODT yields text");
        assert!(text.contains("canción"), "{text:?}");
        assert!(text.contains("La guitarra suena bien\thoy\nmañana"), "{text:?}");
        assert!(text.contains("canción\nLa"), "headings and paragraphs are separate lines: {text:?}");
        assert!(!text.contains("borrado"), "tracked deletions are not text: {text:?}");
    }

    #[test]
    fn other_zip_formats_give_none() {
        let spreadsheet = odt_bytes("application/vnd.oasis.opendocument.spreadsheet");
        assert_eq!(extract(&spreadsheet, "marks.odt"), None);
        let archive = zip_bytes(&[("notes.txt", "hello", zip::CompressionMethod::Deflated)]);
        assert_eq!(extract(&archive, "work.zip"), None);
        assert_eq!(extract(&archive, "work.docx"), None);
    }

    #[test]
    fn corrupt_docx_gives_none() {
        let mut corrupt = b"PK\x03\x04".to_vec();
        corrupt.extend(pseudo_random_bytes(2048));
        assert_eq!(extract(&corrupt, "essay.docx"), None);
        let docx = docx_bytes();
        assert_eq!(extract(&docx[..docx.len() / 2], "half.docx"), None);
    }

    #[test]
    fn html_is_stripped_and_decoded() {
        let html = "<!DOCTYPE html>\n<html><head><title>Head title</title>\
            <style>body { color: red }</style></head>\n<body>\n<h1>Volcano&nbsp;report</h1>\
            <!-- a hidden comment -->\n<p class=\"intro\" title=\"a > b\">\
            Lava &amp; ash &lt;hot&gt; &quot;really&quot; \
            &#39;very&#39; &#233;t&#xE9;</p>\n<script>var secret = \"xylophone\";</script>\
            <p>Second    paragraph</p></body></html>";
        let text = extract(html.as_bytes(), "page.html").expect("HTML yields text");
        assert!(!text.contains("xylophone"), "{text:?}");
        assert!(!text.contains("Head title"), "{text:?}");
        assert!(!text.contains("hidden comment"), "{text:?}");
        assert!(!text.contains("color"), "{text:?}");
        assert_eq!(text, "Volcano report\nLava & ash <hot> \"really\" 'very' été\nSecond paragraph");
    }

    #[test]
    fn html_edge_cases() {
        assert_eq!(html_to_text("a < b && c > d"), "a < b && c > d");
        assert_eq!(html_to_text("<p>unterminated &amp text <b"), "unterminated &amp text");
        assert_eq!(html_to_text("<head><title>t</title><body>kept</body>"), "kept");
        assert_eq!(html_to_text("<script>never closed"), "");
        assert_eq!(html_to_text("<SCRIPT>x</SCRIPT >after"), "after");
        assert_eq!(html_to_text("<script src=\"a.js\"/>shown"), "shown");
        assert_eq!(html_to_text("one<br>two<td>three</td>four"), "one\ntwo\nthree\nfour");
        assert_eq!(
            html_to_text("&#0; &#xD800; &#99999999; &#99999999999; &bogus;"),
            "\u{FFFD} \u{FFFD} \u{FFFD} &#99999999999; &bogus;"
        );
        // HTML has no CDATA outside foreign content: `<![` opens a bogus comment that ends
        // at the first `>`, and so does a processing instruction.
        assert_eq!(html_to_text("<![CDATA[x]]> <?php echo 1 ?>y"), "y");
    }

    #[test]
    fn html_without_extension_is_sniffed() {
        let text = extract(b"  <!doctype HTML><p>Hi<script>no</script></p>", "page").unwrap();
        assert_eq!(text, "Hi");
    }

    #[test]
    fn source_code_and_csv_are_text() {
        let source = "fn main() {\n    println!(\"the borrow checker\");\n}\n";
        assert_eq!(extract(source.as_bytes(), "main.rs").as_deref(), Some(source));
        let csv = "name,score\nAna,9\nBeto,7\n";
        assert_eq!(extract(csv.as_bytes(), "scores.csv").as_deref(), Some(csv));
        // Unknown extension, but the bytes are UTF-8 text.
        assert_eq!(extract(b"plain words", "README").as_deref(), Some("plain words"));
    }

    #[test]
    fn latin1_and_utf16_text() {
        assert_eq!(extract(b"caf\xE9", "menu.txt").as_deref(), Some("caf\u{FFFD}"));
        assert_eq!(extract(b"caf\xE9", "menu.unknown"), None);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("hola ñ".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(extract(&utf16, "notes.txt").as_deref(), Some("hola ñ"));
        assert_eq!(extract(b"\xEF\xBB\xBFwith bom", "bom.txt").as_deref(), Some("with bom"));
    }

    #[test]
    fn binaries_and_media_give_none() {
        let mut binary = pseudo_random_bytes(10_000);
        binary[100] = 0;
        for name in ["data.bin", "data", "data.txt", "data.html", "data.pdf"] {
            assert_eq!(extract(&binary, name), None, "{name}");
        }
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        assert_eq!(extract(png, "photo.png"), None);
        assert_eq!(extract(png, "photo.txt"), None);
        // A media extension wins even over text-looking bytes.
        assert_eq!(extract(b"<svg><text>hi</text></svg>", "drawing.svg"), None);
    }

    #[test]
    fn max_chars_truncates_at_a_char_boundary() {
        let text = "ñandú 🦀 señal ".repeat(100);
        let dir = tempfile::tempdir().unwrap();
        let path = write_blob(&dir, text.as_bytes());
        let cut = extract_text(&path, "notes.txt", 7).unwrap();
        assert_eq!(cut, "ñandú 🦀");
        assert_eq!(extract_text(&path, "notes.txt", 0).as_deref(), Some(""));
        let whole = extract_text(&path, "notes.txt", usize::MAX).unwrap();
        assert_eq!(whole, text);
    }

    #[test]
    fn file_name_is_only_an_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_blob(&dir, b"the real contents");
        for name in ["/etc/passwd", "../../../etc/shadow.txt", "C:\\Windows\\win.ini", ""] {
            assert_eq!(extract_text(&path, name, MAX).as_deref(), Some("the real contents"), "{name}");
        }
        assert_eq!(extension_of("archive.tar.GZ"), "gz");
        assert_eq!(extension_of(".bashrc"), "");
        assert_eq!(extension_of("dir.d/notes"), "");
    }

    #[test]
    fn missing_files_and_directories_give_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(extract_text(dir.path(), "notes.txt", MAX), None);
        assert_eq!(extract_text(&dir.path().join("absent"), "notes.txt", MAX), None);
    }

    /// Deterministic noise, so a failure can be reproduced.
    fn pseudo_random_bytes(len: usize) -> Vec<u8> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect()
    }

    /// A PDF whose one page's content stream is deflated twice: `zeros` zero bytes after both
    /// inflations, from a file of a few kilobytes.
    fn double_deflated_pdf(zeros: usize) -> Vec<u8> {
        use flate2::{Compression, write::ZlibEncoder};
        let deflate = |data: &[u8]| {
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        };
        let mut once = ZlibEncoder::new(Vec::new(), Compression::best());
        let block = vec![0u8; 1 << 20];
        for _ in 0..zeros / block.len() {
            once.write_all(&block).unwrap();
        }
        let twice = deflate(&once.finish().unwrap());
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        let mut object = |pdf: &mut Vec<u8>, body: &[u8]| {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
            pdf.extend_from_slice(body);
            pdf.extend_from_slice(b"\nendobj\n");
        };
        object(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
        object(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        object(&mut pdf, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>");
        let mut stream =
            format!("<< /Length {} /Filter [/FlateDecode /FlateDecode] >>\nstream\n", twice.len()).into_bytes();
        stream.extend_from_slice(&twice);
        stream.extend_from_slice(b"\nendstream");
        object(&mut pdf, &stream);
        let xref = pdf.len();
        pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
        for offset in &offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes(),
        );
        pdf
    }

    #[test]
    fn a_double_deflated_pdf_stays_within_the_memory_of_one_file() {
        // 256 MiB after two inflations, from a file of about a kilobyte.
        let pdf = double_deflated_pdf(256 << 20);
        assert!(pdf.len() < 4096, "{}", pdf.len());
        let dir = tempfile::tempdir().unwrap();
        let path = write_blob(&dir, &pdf);
        let (text, peak) = crate::heavy::meter::peak_during(|| extract_text(&path, "bomb.pdf", 200_000));
        assert!(peak < crate::heavy::MEMORY_PER_FILE, "extracting took {} MiB", peak >> 20);
        // Zeros are no text; what matters is that it returned, small.
        assert!(text.is_none_or(|t| t.len() <= 800_000));
    }

    #[test]
    fn extraction_output_never_exceeds_its_cap() {
        // Every reader, fed far more text than the cap: the result never passes it.
        let words = "photosynthesis ".repeat(50_000);
        let html = format!("<p>{words}</p>");
        let docx_xml = DOCUMENT_XML.replace("Chlorophyll absorbs", &words);
        let docx = {
            use zip::CompressionMethod::Deflated;
            zip_bytes(&[
                ("[Content_Types].xml", CONTENT_TYPES, Deflated),
                ("_rels/.rels", RELS, Deflated),
                ("word/document.xml", &docx_xml, Deflated),
            ])
        };
        let lines: Vec<String> = (0..2_000).map(|i| format!("line {i} of the report on bridges")).collect();
        let line_refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let pdf = minimal_pdf(&line_refs);
        let dir = tempfile::tempdir().unwrap();
        for (bytes, name) in [
            (words.as_bytes(), "notes.txt"),
            (html.as_bytes(), "page.html"),
            (&docx[..], "essay.docx"),
            (&pdf[..], "report.pdf"),
        ] {
            let path = write_blob(&dir, bytes);
            for cap in [0, 1, 10, 1000, 20_000] {
                let text = extract_text(&path, name, cap).unwrap_or_else(|| panic!("{name} gives text"));
                assert!(text.chars().count() <= cap, "{name} at {cap}: {}", text.chars().count());
            }
        }
        // The bounded inflater itself: never more than asked for, and says so.
        let big = {
            use flate2::{Compression, write::ZlibEncoder};
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(&vec![7u8; 1 << 20]).unwrap();
            encoder.finish().unwrap()
        };
        assert_eq!(inflate_capped(&big, 1 << 20).map(|v| v.len()), Ok(1 << 20));
        assert_eq!(inflate_capped(&big, (1 << 20) - 1), Err(Undecoded::TooLarge));
    }

    #[test]
    fn a_zip_listing_too_many_entries_is_not_opened() {
        let entries: Vec<(String, zip::CompressionMethod)> =
            (0..(MAX_ZIP_ENTRIES + 1)).map(|i| (format!("{i}"), zip::CompressionMethod::Stored)).collect();
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, method) in &entries {
            writer.start_file(name.as_str(), SimpleFileOptions::default().compression_method(*method)).unwrap();
        }
        writer.start_file("word/document.xml", SimpleFileOptions::default()).unwrap();
        writer.write_all(DOCUMENT_XML.as_bytes()).unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        assert_eq!(extract(&bytes, "many.docx"), None);
        assert!(extract(&docx_bytes(), "few.docx").is_some());
    }
}

/// The text readers under arbitrary Unicode (issue 20: every text path of search). Nothing
/// may panic; HTML without markup keeps exactly its words; text is never longer than asked.
#[cfg(test)]
mod unicode_properties {
    use proptest::prelude::*;

    use super::*;

    const ODD: &[&str] = &[
        "\u{a0}",
        "\u{3000}",
        "\u{2003}",
        "\u{85}",
        "\u{200b}",
        "\u{feff}",
        "\r\n",
        "e\u{301}",
        "👩‍🔬",
        "火山",
        "ß",
        "&amp;",
        "&nbsp;",
        "&#x3000;",
        "&#12354;",
        "&#0;",
        "&#xD800;",
        "&#99999999;",
        "&",
        ";",
        "<",
        ">",
        "<p>",
        "</p>",
        "<br/>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<a href=\"x\">",
        "<style",
        "\u{10ffff}",
    ];

    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => "[a-zA-Zà-ÿ0-9 ]{1,10}",
            3 => prop::sample::select(ODD).prop_map(str::to_string),
            2 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..80).prop_map(|p| p.concat())
    }

    fn words(text: &str) -> Vec<&str> {
        text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn html_never_panics_and_plain_text_keeps_its_words(html in text()) {
            let out = html_to_text(&html);
            prop_assert!(!out.starts_with(char::is_whitespace) && !out.ends_with(char::is_whitespace), "{out:?}");
            if !html.contains(['<', '&']) {
                prop_assert_eq!(words(&out), words(&html));
            }
        }

        #[test]
        fn extracted_text_is_at_most_what_was_asked(content in text(), bytes in prop::collection::vec(any::<u8>(), 0..64),
                                                    max_chars in 0usize..64) {
            let dir = tempfile::tempdir().unwrap();
            for (name, data) in [("a.html", content.as_bytes()), ("a.txt", content.as_bytes()), ("b.txt", &bytes[..]),
                                 ("b.html", &bytes[..])] {
                let path = dir.path().join(name);
                std::fs::write(&path, data).unwrap();
                if let Some(text) = extract_text(&path, name, max_chars) {
                    prop_assert!(text.chars().count() <= max_chars, "{name}: {text:?}");
                }
            }
        }
    }
}
