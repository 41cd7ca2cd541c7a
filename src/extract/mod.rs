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

mod collapse;
mod html;
mod office;
mod pdf;
#[cfg(test)]
mod tests;
mod text;
#[cfg(test)]
mod unicode_properties;

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};

use html::html_to_text;
use office::office_text;
use pdf::pdf_text;
use text::{looks_like_utf8, looks_like_utf16, read_head, read_text, sniff_html, truncate_chars, utf16_bom};

/// How many leading bytes decide whether a file is text.
pub const SNIFF_LEN: usize = 8 * 1024;
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

/// Whether [`extract_text`] would read anything from a file of `size` bytes whose first bytes
/// (at least the first [`SNIFF_LEN`], or the whole file when shorter) are `head`: so a file kept
/// on a bucket is fetched for its text only when it has some to give (not every video).
pub fn worth_reading(head: &[u8], file_name: &str, size: u64) -> bool {
    match detect(&head[..head.len().min(SNIFF_LEN)], &extension_of(file_name)) {
        Some(Kind::Pdf) => size <= MAX_PDF_BYTES,
        Some(Kind::Zip) => size <= MAX_ARCHIVE_BYTES,
        Some(Kind::Html | Kind::Text) => true,
        None => false,
    }
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
