//! What an uploaded file is, and how the box may show it.
//!
//! Students upload anything a camera roll, a recorder or a laptop holds, and browsers declare
//! whatever type they like (or `application/octet-stream`), so the declared type is never
//! trusted: [`sniff_content_type`] looks at the first bytes and only then at the name. The
//! result decides two things that must not disagree:
//!
//! - [`kind_of`]: how the work is labelled and filtered for people (photo, video, writing ...).
//! - [`presentation`]: how the bytes go out. Only inert media (pictures, video, sound) and text
//!   forced to `text/plain` are shown inline; anything a browser could run (HTML, SVG, XML,
//!   JavaScript, PDF) or that we do not know is sent as a download. This is the "user content is
//!   never served as active content" rule of the design brief, together with `nosniff` and the
//!   sandboxing CSP that the file handler adds.
//!
//! Also here: safe display names and `Content-Disposition` values for the original file name,
//! thumbnails for pictures, and parsing of a single-range `Range` header for video and audio
//! seeking. Nothing in this module touches the store; thumbnail files are derived data that
//! can be deleted and made again.

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, RgbImage};

/// How many leading bytes [`sniff_content_type`] wants. SVG files from drawing programs carry
/// comments and a DOCTYPE before `<svg`, and video containers list their tracks after a header
/// of a few hundred bytes (more after a Matroska `Void`), so a few kilobytes see them all.
pub const SNIFF_LEN: usize = 8192;

const OCTET_STREAM: &str = "application/octet-stream";
const HTML: &str = "text/html";
const XHTML: &str = "application/xhtml+xml";
const SVG: &str = "image/svg+xml";
const XML: &str = "application/xml";
const SCRATCH_SB3: &str = "application/x.scratch.sb3";

// ---------------------------------------------------------------------------------------------
// Sniffing
// ---------------------------------------------------------------------------------------------

/// The MIME type of an upload from its first bytes (`head`, ideally [`SNIFF_LEN`] of them) and,
/// where the bytes cannot tell, its file name.
///
/// Order matters for safety: binary signatures first (a PNG is a PNG whatever its name), then
/// markup (a file that starts like HTML, SVG or XML is reported as such even when it is named
/// `.txt` or `.png`, because that is what makes it a download rather than a page), then text
/// types by extension, then "is it UTF-8 text at all". The type the browser declared is not an
/// input on purpose.
pub fn sniff_content_type(head: &[u8], file_name: &str) -> &'static str {
    let ext = extension(file_name);
    if let Some(found) = sniff_binary(head, &ext) {
        return found;
    }
    // Notepad on older Windows saves "Unicode" text as UTF-16 with a BOM. Browsers honour a
    // BOM over the declared charset, so such text displays fine; look at it as UTF-8 so HTML
    // in UTF-16 is still recognised as HTML.
    let text: Cow<[u8]> = match utf16_to_utf8(head) {
        Some(converted) => Cow::Owned(converted),
        None => Cow::Borrowed(head),
    };
    if let Some(found) = sniff_markup(&text) {
        return found;
    }
    if let Some(found) = by_extension(&ext, &text) {
        return found;
    }
    if is_utf8_text(&text) { "text/plain" } else { OCTET_STREAM }
}

/// The lower-cased extension of the last path component, or "" when there is none (a name
/// that is only an extension, like `.bashrc`, has none).
fn extension(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.trim_matches('.').is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Signatures of binary formats. `ext` only refines a container whose content cannot say
/// (which office format a ZIP is, whether an MP4 holds only sound); every answer it leads to
/// is as safe as the one without it.
fn sniff_binary(h: &[u8], ext: &str) -> Option<&'static str> {
    if h.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if h.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if h.starts_with(b"GIF87a") || h.starts_with(b"GIF89a") {
        return Some("image/gif");
    }
    if h.len() >= 12 && h.starts_with(b"RIFF") {
        match &h[8..12] {
            b"WEBP" => return Some("image/webp"),
            b"WAVE" => return Some("audio/wav"),
            b"AVI " => return Some("video/x-msvideo"),
            _ => {}
        }
    }
    let iso = if h.len() >= 12 && &h[4..8] == b"ftyp" { iso_media(h, ext) } else { None };
    if iso.is_some() {
        return iso;
    }
    if h.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(matroska(h));
    }
    if h.starts_with(b"OggS") {
        let video = contains(h, b"\x80theora") || contains(h, b"\x01video");
        return Some(if video { "video/ogg" } else { "audio/ogg" });
    }
    if h.starts_with(b"fLaC") {
        return Some("audio/flac");
    }
    if h.starts_with(b"ID3") {
        return Some("audio/mpeg");
    }
    if h.starts_with(b"MThd") {
        return Some("audio/midi");
    }
    if h.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if h.starts_with(b"{\\rtf") {
        return Some("application/rtf");
    }
    if h.starts_with(b"II*\0") || h.starts_with(b"MM\0*") {
        return Some("image/tiff");
    }
    if h.starts_with(b"PK\x03\x04") || h.starts_with(b"PK\x05\x06") {
        return Some(zip_based(h, ext));
    }
    if h.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // The pre-2007 Office formats share one container; only the name tells them apart.
        return Some(match ext {
            "doc" => "application/msword",
            "xls" => "application/vnd.ms-excel",
            "ppt" => "application/vnd.ms-powerpoint",
            _ => OCTET_STREAM,
        });
    }
    if is_mpeg_transport_stream(h) {
        return Some("video/mp2t");
    }
    mpeg_audio_frame(h)
}

/// ISO base media files (MP4, MOV, M4A, HEIC, AVIF, 3GP) name their flavour in the `ftyp` box:
/// a major brand and a list of compatible ones.
fn iso_media(h: &[u8], ext: &str) -> Option<&'static str> {
    let box_len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let major = &h[8..12];
    let compatible: Vec<&[u8]> = h.get(16..box_len.min(h.len())).unwrap_or(&[]).chunks_exact(4).collect();
    let has = |brand: &[u8]| compatible.contains(&brand);

    let brand_type = |brand: &[u8]| -> Option<&'static str> {
        Some(match brand {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => "image/heic",
            b"avif" | b"avis" => "image/avif",
            b"mif1" | b"msf1" | b"heif" => "image/heif",
            b"M4A " | b"M4B " | b"M4P " => "audio/mp4",
            b"qt  " => "video/quicktime",
            b"3gp4" | b"3gp5" | b"3gp6" | b"3gp7" | b"3gs7" | b"3ge6" | b"3ge7" | b"3gg6" | b"3g2a" | b"3g2b"
            | b"3g2c" => "video/3gpp",
            b"isom" | b"iso2" | b"iso3" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1" | b"dash"
            | b"M4V " | b"M4VH" | b"M4VP" | b"MSNV" | b"f4v " | b"mmp4" | b"XAVC" => "video/mp4",
            _ => return None,
        })
    };

    let found = match brand_type(major) {
        // A generic HEIF major brand is made specific by what it is compatible with.
        Some("image/heif") if has(b"heic") || has(b"heix") => "image/heic",
        Some("image/heif") if has(b"avif") => "image/avif",
        Some(found) => found,
        None => compatible.iter().find_map(|b| brand_type(b))?,
    };
    if found == "video/mp4" || found == "video/3gpp" {
        // Android recorders write voice memos as plain `mp42`/`isom` files. The handler box
        // says what a track holds when the index comes first; the name is the fallback.
        let sound_only = match media_handlers(h) {
            (false, true) => true,
            (false, false) => matches!(ext, "m4a" | "m4b" | "aac"),
            _ => false,
        };
        if sound_only {
            return Some("audio/mp4");
        }
    }
    Some(found)
}

/// Whether the head holds a video (`vide`) and a sound (`soun`) track handler (`hdlr` box:
/// version/flags, pre-defined, then the handler type).
fn media_handlers(h: &[u8]) -> (bool, bool) {
    let (mut video, mut sound) = (false, false);
    for (i, window) in h.windows(4).enumerate() {
        if window == b"hdlr" {
            match h.get(i + 12..i + 16) {
                Some(b"vide") => video = true,
                Some(b"soun") => sound = true,
                _ => {}
            }
        }
    }
    (video, sound)
}

/// WebM and Matroska. Chrome records sound-only notes as WebM too, so the codec ids decide
/// between video and audio: a `CodecID` element (0x86, a one-byte size, then `V_...`/`A_...`).
fn matroska(h: &[u8]) -> &'static str {
    let webm = contains(&h[..h.len().min(64)], b"webm");
    let codec_kind =
        |prefix: &[u8]| h.windows(4).any(|w| w[0] == 0x86 && (0x81..=0xFE).contains(&w[1]) && &w[2..4] == prefix);
    let audio_only = !codec_kind(b"V_") && codec_kind(b"A_");
    match (webm, audio_only) {
        (true, false) => "video/webm",
        (true, true) => "audio/webm",
        (false, false) => "video/x-matroska",
        (false, true) => "audio/x-matroska",
    }
}

/// ZIP containers. ODF and EPUB name themselves in a first, uncompressed `mimetype` entry;
/// the OOXML formats and Scratch projects can only be told apart by their extension.
fn zip_based(h: &[u8], ext: &str) -> &'static str {
    if let Some(declared) = zip_mimetype_entry(h) {
        let known = match declared {
            b"application/vnd.oasis.opendocument.text" => Some("application/vnd.oasis.opendocument.text"),
            b"application/vnd.oasis.opendocument.spreadsheet" => Some("application/vnd.oasis.opendocument.spreadsheet"),
            b"application/vnd.oasis.opendocument.presentation" => {
                Some("application/vnd.oasis.opendocument.presentation")
            }
            b"application/vnd.oasis.opendocument.graphics" => Some("application/vnd.oasis.opendocument.graphics"),
            b"application/epub+zip" => Some("application/epub+zip"),
            _ => None,
        };
        if let Some(known) = known {
            return known;
        }
    }
    match ext {
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "odg" => "application/vnd.oasis.opendocument.graphics",
        "epub" => "application/epub+zip",
        "pages" => "application/vnd.apple.pages",
        "numbers" => "application/vnd.apple.numbers",
        "key" => "application/vnd.apple.keynote",
        "sb3" => SCRATCH_SB3,
        _ => "application/zip",
    }
}

/// The content of a ZIP's first entry if it is a stored (uncompressed) file named `mimetype`.
fn zip_mimetype_entry(h: &[u8]) -> Option<&[u8]> {
    let u16_at = |i: usize| h.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |i: usize| h.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let method = u16_at(8)?;
    let size = u32_at(18)?;
    let (name_len, extra_len) = (u16_at(26)?, u16_at(28)?);
    if method != 0 || h.get(30..30 + name_len)? != b"mimetype" {
        return None;
    }
    let start = 30 + name_len + extra_len;
    Some(h.get(start..start + size.min(128))?.trim_ascii())
}

/// MPEG transport streams (camcorder `.mts`/`.m2ts`, broadcast `.ts`): a 0x47 sync byte every
/// 188 bytes, or every 192 with a 4-byte timestamp in front. A NUL is required too, so a text
/// file that happens to have `G` at those places stays text.
fn is_mpeg_transport_stream(h: &[u8]) -> bool {
    let synced = |first: usize, step: usize| (0..3).all(|k| h.get(first + k * step) == Some(&0x47));
    (synced(0, 188) || synced(4, 192)) && h[..h.len().min(192)].contains(&0)
}

/// A bare MPEG audio frame header (MP3 without an ID3 tag) or an ADTS AAC header. The reserved
/// values are rejected so random binary rarely matches.
fn mpeg_audio_frame(h: &[u8]) -> Option<&'static str> {
    if h.len() < 4 || h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    if h[1] & 0xF6 == 0xF0 {
        // ADTS: MPEG-4 or MPEG-2 AAC, layer bits 00; sampling index 13..15 is reserved.
        return ((h[2] >> 2) & 0x0F < 13).then_some("audio/aac");
    }
    let version = (h[1] >> 3) & 0x03;
    let layer = (h[1] >> 1) & 0x03;
    let bitrate = h[2] >> 4;
    let sample_rate = (h[2] >> 2) & 0x03;
    (version != 1 && layer != 0 && bitrate != 0x0F && sample_rate != 3).then_some("audio/mpeg")
}

/// HTML, SVG and XML, recognised the way a browser would (leading BOM and whitespace skipped,
/// case ignored), so that anything a browser might render as a page is reported as markup.
fn sniff_markup(h: &[u8]) -> Option<&'static str> {
    let text = skip_bom_and_whitespace(h);
    if text.first() != Some(&b'<') {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    // The tags the WHATWG MIME sniffing standard treats as "this is HTML" at the start.
    const HTML_STARTS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
    ];
    let tag_ends = |i: usize| matches!(lower.get(i), Some(b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\r' | b'\x0c'));
    if HTML_STARTS.iter().any(|tag| lower.starts_with(tag) && tag_ends(tag.len())) {
        return Some(HTML);
    }
    let declared_xml = lower.starts_with(b"<?xml");
    if let Some(root) = root_element(&lower) {
        // `svg:svg` and `html:html` are the same elements with a namespace prefix.
        let local = root.rsplit(|&b| b == b':').next().unwrap_or(root);
        match local {
            b"svg" => return Some(SVG),
            b"html" => return Some(if declared_xml { XHTML } else { HTML }),
            _ if declared_xml => return Some(XML),
            _ => {}
        }
    }
    // The prolog did not lead to a root element within the head (a long comment, or a tag
    // that is not a name): fall back to "does it contain markup a browser would run".
    let has_tag = |tag: &[u8]| {
        lower
            .windows(tag.len() + 1)
            .any(|w| w.starts_with(tag) && matches!(w[tag.len()], b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\r'))
    };
    if has_tag(b"<svg") {
        Some(SVG)
    } else if has_tag(b"<html") || has_tag(b"<script") {
        Some(HTML)
    } else if declared_xml {
        Some(XML)
    } else if lower.starts_with(b"<!--") {
        // A document that opens with a comment is HTML to a sniffing browser.
        Some(HTML)
    } else {
        None
    }
}

/// The name of the root element of lower-cased markup: skips the XML declaration, processing
/// instructions, comments and whitespace; a DOCTYPE names the root directly. `None` when the
/// head ends first or what follows `<` is not a name.
fn root_element(mut s: &[u8]) -> Option<&[u8]> {
    fn name_at(s: &[u8]) -> Option<&[u8]> {
        let s = s.trim_ascii_start();
        let first = *s.first()?;
        if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
            return None;
        }
        let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.') || b >= 0x80;
        let end = s.iter().position(|&b| !is_name_byte(b))?;
        Some(&s[..end])
    }
    loop {
        s = s.trim_ascii_start();
        if s.starts_with(b"<?") {
            s = &s[find(s, b"?>")? + 2..];
        } else if s.starts_with(b"<!--") {
            s = &s[find(&s[4..], b"-->")? + 7..];
        } else if let Some(rest) = s.strip_prefix(b"<!doctype") {
            return name_at(rest);
        } else if let Some(rest) = s.strip_prefix(b"<") {
            return name_at(rest).filter(|_| rest.first().is_some_and(|b| !b.is_ascii_whitespace()));
        } else {
            return None;
        }
    }
}

/// Types known by extension. Markup and script extensions map to their (download-only) types
/// whatever the bytes, which errs towards safety; the other text types only when the head has
/// no NUL, so a binary misnamed `.txt` is not shown as text.
fn by_extension(ext: &str, text: &[u8]) -> Option<&'static str> {
    let active = match ext {
        "html" | "htm" => Some(HTML),
        "xhtml" | "xht" => Some(XHTML),
        "svg" => Some(SVG),
        "xml" => Some(XML),
        "js" | "mjs" | "cjs" => Some("text/javascript"),
        _ => None,
    };
    if active.is_some() {
        return active;
    }
    if text.contains(&0) {
        return None;
    }
    Some(match ext {
        "txt" | "text" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "css" => "text/css",
        "py" => "text/x-python",
        "ts" | "tsx" => "text/x-typescript",
        "rs" => "text/x-rust",
        "c" | "h" => "text/x-c",
        "cpp" | "cc" | "cxx" | "hpp" | "hh" | "ino" => "text/x-c++",
        "java" => "text/x-java",
        "go" => "text/x-go",
        "rb" => "text/x-ruby",
        "sh" | "bash" => "text/x-shellscript",
        "lua" => "text/x-lua",
        "php" => "text/x-php",
        "cs" => "text/x-csharp",
        "kt" => "text/x-kotlin",
        "swift" => "text/x-swift",
        "sql" => "text/x-sql",
        _ => return None,
    })
}

/// Text by content: valid UTF-8 without NUL. The head may end in the middle of a character,
/// so an incomplete sequence at the very end is allowed.
fn is_utf8_text(h: &[u8]) -> bool {
    if h.contains(&0) {
        return false;
    }
    match std::str::from_utf8(h) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// UTF-16 text with a byte-order mark, converted to UTF-8 (lossily: only for looking at).
fn utf16_to_utf8(h: &[u8]) -> Option<Vec<u8>> {
    let little = match h {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = h[2..]
        .chunks_exact(2)
        .map(|p| if little { u16::from_le_bytes([p[0], p[1]]) } else { u16::from_be_bytes([p[0], p[1]]) });
    let text: String = char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect();
    Some(text.into_bytes())
}

fn skip_bom_and_whitespace(h: &[u8]) -> &[u8] {
    h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h).trim_ascii_start()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// The type without parameters, trimmed and lower-cased, so `Image/SVG+XML; charset=x` is
/// judged like `image/svg+xml`.
fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Kinds and presentation
// ---------------------------------------------------------------------------------------------

/// What a piece of work is, for people: the label on a card and the filter in a portfolio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Video,
    Audio,
    Document,
    Code,
    Text,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::Image, Kind::Video, Kind::Audio, Kind::Document, Kind::Code, Kind::Text, Kind::Other];

    /// Words a six-year-old and a grandparent both understand.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Image => "Photo or picture",
            Kind::Video => "Video",
            Kind::Audio => "Recording",
            Kind::Document => "Document",
            Kind::Code => "Code",
            Kind::Text => "Writing",
            Kind::Other => "File",
        }
    }

    /// The stable name used in URLs, JSON and the store (the same as the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Document => "document",
            Kind::Code => "code",
            Kind::Text => "text",
            Kind::Other => "other",
        }
    }
}

/// The kind of work a content type (as [`sniff_content_type`] reports it) is.
pub fn kind_of(content_type: &str) -> Kind {
    let e = essence(content_type);
    match e.as_str() {
        "text/plain" | "text/markdown" => Kind::Text,
        "text/csv"
        | "application/pdf"
        | "application/rtf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/epub+zip" => Kind::Document,
        t if t.starts_with("application/vnd.openxmlformats-officedocument.")
            || t.starts_with("application/vnd.oasis.opendocument.")
            || t.starts_with("application/vnd.apple.") =>
        {
            Kind::Document
        }
        SCRATCH_SB3 | HTML | XHTML | XML | "text/xml" | "text/css" | "application/json" | "application/x-sh" => {
            Kind::Code
        }
        t if is_javascript(t) || t.starts_with("text/x-") => Kind::Code,
        t if t.starts_with("image/") => Kind::Image,
        t if t.starts_with("video/") => Kind::Video,
        t if t.starts_with("audio/") => Kind::Audio,
        t if t.starts_with("text/") => Kind::Text,
        _ => Kind::Other,
    }
}

/// How stored bytes may go out to a browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presentation {
    /// Pictures, video and sound: shown in the page with their own type. Browsers decode these
    /// as data, never as documents or scripts.
    InlineMedia,
    /// Writing, data and source code: shown in the browser, but always as
    /// `text/plain; charset=utf-8` so no browser can render it as HTML.
    InlineText,
    /// Everything else: a download. Includes every type a browser could run (HTML, SVG, XML,
    /// JavaScript, PDF) and every type we do not know.
    Attachment,
}

/// How a content type is presented. An allow-list: only what is known to be inert is inline.
pub fn presentation(content_type: &str) -> Presentation {
    let e = essence(content_type);
    let t = e.as_str();
    if is_active(t) {
        return Presentation::Attachment;
    }
    if t.starts_with("image/") || t.starts_with("video/") || t.starts_with("audio/") {
        return Presentation::InlineMedia;
    }
    match t {
        "text/plain" | "text/markdown" | "text/csv" | "text/css" | "application/json" | "application/x-sh" => {
            Presentation::InlineText
        }
        t if t.starts_with("text/x-") => Presentation::InlineText,
        _ => Presentation::Attachment,
    }
}

/// Types a browser may execute or render as a document with scripts.
fn is_active(t: &str) -> bool {
    matches!(t, HTML | XHTML | XML | "text/xml" | "application/pdf")
        || t.contains("svg")
        || t.contains("xml")
        || is_javascript(t)
}

fn is_javascript(t: &str) -> bool {
    t.contains("javascript") || t.contains("ecmascript")
}

/// The `Content-Type` to send for stored bytes of `content_type`.
///
/// Inline media keep their type (without parameters); inline text is always
/// `text/plain; charset=utf-8`. Downloads go out as `application/octet-stream`, not with their
/// real type: with `nosniff` that stops an uploaded `.js`/`.css`/`.svg` from being used as a
/// script, style sheet or image by any page (`Content-Disposition` does not apply to those
/// loads), and stops browsers that ignore `attachment` for some types (older iOS Safari did so
/// for HTML and PDF) from rendering them. The download keeps its name, and with it the type the
/// device opens it as.
pub fn served_content_type(content_type: &str) -> &str {
    match presentation(content_type) {
        Presentation::InlineMedia => content_type.split(';').next().unwrap_or("").trim(),
        Presentation::InlineText => "text/plain; charset=utf-8",
        Presentation::Attachment => OCTET_STREAM,
    }
}

// ---------------------------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------------------------

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
fn percent_encode_attr(value: &str) -> String {
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

// ---------------------------------------------------------------------------------------------
// Thumbnails
// ---------------------------------------------------------------------------------------------

/// The longest side of a thumbnail, in pixels: sharp on a card in a grid on a tablet, small
/// enough that a class page of them loads quickly over school Wi-Fi.
pub const THUMB_MAX: u32 = 320;

/// Pictures larger than this on either side are refused before decoding: no camera makes them,
/// and a tiny file claiming such a size is a decompression bomb. JPEGs, which are decoded
/// scaled down, may be larger (up to the format's 65,535).
const MAX_DIMENSION: u32 = 12_000;
/// The most memory the decoded pixels of one picture may take, at the size they are decoded.
/// A thumbnail is 320 pixels, so nothing needs more: a JPEG larger than this is decoded at
/// 1/2, 1/4 or 1/8 of its size (its DCT blocks scaled as they are decoded), and other pictures
/// that large (a PNG scan of more than ~8 megapixels, a decompression bomb) are refused
/// before a byte of them is decoded. With the file's buffers and the thumbnail this keeps one
/// picture under `heavy::MEMORY_PER_FILE` (64 MiB); the tests measure it.
const MAX_DECODE_BYTES: u64 = 32 * 1024 * 1024;
/// A progressive JPEG keeps every DCT coefficient of the whole picture (2 bytes per pixel and
/// colour channel at full size) until its last scan, whatever size it is decoded at; larger
/// ones (over ~8 megapixels in colour) are refused.
const MAX_PROGRESSIVE_COEFFICIENT_BYTES: u64 = 48 * 1024 * 1024;
/// What a JPEG is scaled down towards while decoding: twice the thumbnail, so the final box
/// filter still has pixels to average.
const JPEG_DECODE_TOWARDS: u16 = 2 * THUMB_MAX as u16;
const THUMB_QUALITY: u8 = 80;
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("this kind of file cannot be made into a preview")]
    Unsupported,
    #[error("the picture is too large to make a preview of")]
    TooLarge,
    #[error("could not read or write the preview: {0}")]
    Io(#[from] io::Error),
    #[error("the picture could not be read: {0}")]
    Image(String),
}

impl From<image::ImageError> for MediaError {
    fn from(e: image::ImageError) -> Self {
        match e {
            image::ImageError::Limits(_) => MediaError::TooLarge,
            image::ImageError::Unsupported(_) => MediaError::Unsupported,
            image::ImageError::IoError(e) => MediaError::Io(e),
            other => MediaError::Image(other.to_string()),
        }
    }
}

/// Whether [`make_thumbnail`] can read this type (the formats `image` is built with here).
pub fn thumbnailable(content_type: &str) -> bool {
    matches!(essence(content_type).as_str(), "image/jpeg" | "image/png" | "image/gif" | "image/webp")
}

/// Writes a JPEG of at most [`THUMB_MAX`]×[`THUMB_MAX`] (aspect kept, never enlarged) of the
/// picture at `source` to `dest`.
///
/// The format comes from the bytes, not the name. Decoding is bounded in size and memory, so a
/// decompression bomb fails with [`MediaError::TooLarge`] instead of taking the box down. The
/// camera's orientation tag is applied (phone photos are otherwise sideways), transparency is
/// flattened onto white (drawings), and no metadata is copied, so a thumbnail never carries
/// the GPS position a photo may hold. `dest` appears whole or not at all: the JPEG goes to a
/// temporary file beside it (`.<name>.<pid>-<n>.tmp`) that is renamed into place.
///
/// This blocks and uses at most a few tens of MiB, whatever the file: run it on the blocking
/// pool through the `heavy` gate (a few at a time, failures remembered).
pub fn make_thumbnail(source: &Path, dest: &Path) -> Result<(), MediaError> {
    let (picture, orientation) = decode_bounded(source)?;
    // Scaled first, turned after: turning the full picture would need a second copy of it.
    // Fitting into a square box commutes with quarter turns, so the result is the same.
    let mut small = if picture.width() > THUMB_MAX || picture.height() > THUMB_MAX {
        picture.thumbnail(THUMB_MAX, THUMB_MAX)
    } else {
        picture
    };
    small.apply_orientation(orientation);
    let rgb = flatten_onto_white(small);
    write_atomically(dest, |out| {
        image::codecs::jpeg::JpegEncoder::new_with_quality(out, THUMB_QUALITY).encode_image(&rgb)?;
        Ok(())
    })
}

/// Decodes the picture at `source` within [`MAX_DECODE_BYTES`] of pixels, with its camera
/// orientation. The size is read from the header and checked before anything is decoded,
/// so a file claiming 11,800 × 11,800 pixels costs a few bytes of header, not 418 MB.
fn decode_bounded(source: &Path) -> Result<(DynamicImage, Orientation), MediaError> {
    let reader = image::ImageReader::open(source)?.with_guessed_format()?;
    let format = reader.format();
    if format == Some(ImageFormat::Jpeg) {
        return decode_jpeg_scaled(source);
    }
    // GIF and WebP decoders keep a frame of their own beside the picture they hand over.
    let budget = match format {
        Some(ImageFormat::Png) => MAX_DECODE_BYTES,
        Some(ImageFormat::Gif | ImageFormat::WebP) => MAX_DECODE_BYTES / 2,
        _ => return Err(MediaError::Unsupported),
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(budget);
    let mut reader = reader;
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder()?;
    // What `ImageReader::decode` does too: refuse before allocating the output buffer.
    limits.reserve(decoder.total_bytes())?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    Ok((DynamicImage::from_decoder(decoder)?, orientation))
}

/// A JPEG decoded straight at 1/1, 1/2, 1/4 or 1/8 of its size (the smallest that is still
/// at least [`JPEG_DECODE_TOWARDS`] on one side), read from the file as it goes rather than
/// loaded whole, so a 48-megapixel photo costs what a 3-megapixel one does.
fn decode_jpeg_scaled(source: &Path) -> Result<(DynamicImage, Orientation), MediaError> {
    use jpeg_decoder::{CodingProcess, PixelFormat};
    let file = io::BufReader::new(File::open(source)?);
    let mut decoder = jpeg_decoder::Decoder::new(file);
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder.info().ok_or_else(|| MediaError::Image("the picture has no frame".into()))?;
    let channels: u64 = match info.pixel_format {
        PixelFormat::L8 => 1,
        PixelFormat::RGB24 => 3,
        // CMYK (print files) and 16-bit grey (medical, scientific) have no preview.
        PixelFormat::CMYK32 | PixelFormat::L16 => return Err(MediaError::Unsupported),
    };
    if info.coding_process == CodingProcess::DctProgressive
        && u64::from(info.width) * u64::from(info.height) * channels * 2 > MAX_PROGRESSIVE_COEFFICIENT_BYTES
    {
        return Err(MediaError::TooLarge);
    }
    let (width, height) = decoder.scale(JPEG_DECODE_TOWARDS, JPEG_DECODE_TOWARDS).map_err(jpeg_error)?;
    let decoded = u64::from(width) * u64::from(height) * channels;
    if width == 0 || height == 0 || decoded > MAX_DECODE_BYTES {
        return Err(MediaError::TooLarge);
    }
    decoder.set_max_decoding_buffer_size(MAX_DECODE_BYTES as usize);
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let (width, height) = (u32::from(width), u32::from(height));
    let picture = match info.pixel_format {
        PixelFormat::L8 => image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        _ => RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
    };
    let picture = picture.ok_or_else(|| MediaError::Image("the picture ended early".into()))?;
    Ok((picture, orientation))
}

fn jpeg_error(e: jpeg_decoder::Error) -> MediaError {
    match e {
        jpeg_decoder::Error::Io(e) => MediaError::Io(e),
        jpeg_decoder::Error::Unsupported(_) => MediaError::Unsupported,
        other => MediaError::Image(other.to_string()),
    }
}

/// RGB for JPEG. Dropping alpha would show whatever colour transparent pixels happen to hold
/// (often black); a drawing on paper is on white.
fn flatten_onto_white(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.into_rgb8();
    }
    let rgba = picture.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = u32::from(a);
        let over_white = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// Writes through `write` into a fresh temporary file beside `dest`, syncs it and renames it
/// over `dest`; on any failure the temporary file is removed and `dest` is untouched. The sync
/// keeps a power cut from leaving an empty thumbnail that would never be remade.
fn write_atomically(
    dest: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dest.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let temp = TempFile(dest.with_file_name(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )));
    let file = OpenOptions::new().write(true).create_new(true).open(&temp.0)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp.0, dest)?;
    std::mem::forget(temp);
    Ok(())
}

/// Removes a temporary file when dropped (on every early return).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Range requests
// ---------------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let len = 16 + 4 * compatible.len();
        let mut v = (len as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 0, 0]);
        for c in compatible {
            v.extend_from_slice(*c);
        }
        v.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        v
    }

    fn zip_with_first_entry(name: &[u8], stored: &[u8]) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date, crc
        v.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        v.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        v.extend_from_slice(&(name.len() as u16).to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(name);
        v.extend_from_slice(stored);
        v
    }

    #[test]
    fn sniffs_pictures_by_their_bytes_whatever_the_name() {
        assert_eq!(sniff_content_type(b"\xFF\xD8\xFF\xE0\0\x10JFIF", "x.txt"), "image/jpeg");
        assert_eq!(sniff_content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "notes.html"), "image/png");
        assert_eq!(sniff_content_type(b"GIF89a\x01\0\x01\0", "a"), "image/gif");
        assert_eq!(sniff_content_type(b"GIF87a\x01\0\x01\0", "a.gif"), "image/gif");
        assert_eq!(sniff_content_type(b"RIFF\x24\0\0\0WEBPVP8 ", "a.jpg"), "image/webp");
        assert_eq!(sniff_content_type(b"II*\0\x08\0\0\0", "scan"), "image/tiff");
    }

    #[test]
    fn sniffs_heic_and_heif() {
        assert_eq!(sniff_content_type(&ftyp(b"heic", &[b"mif1", b"heic"]), "IMG_0001.HEIC"), "image/heic");
        assert_eq!(sniff_content_type(&ftyp(b"heix", &[b"mif1"]), "a"), "image/heic");
        assert_eq!(sniff_content_type(&ftyp(b"mif1", &[b"mif1"]), "a"), "image/heif");
        assert_eq!(sniff_content_type(&ftyp(b"mif1", &[b"heic"]), "a"), "image/heic");
        assert_eq!(sniff_content_type(&ftyp(b"avif", &[b"mif1"]), "a"), "image/avif");
    }

    #[test]
    fn sniffs_mp4_mov_and_m4a() {
        assert_eq!(sniff_content_type(&ftyp(b"isom", &[b"isom", b"iso2"]), "clip.mp4"), "video/mp4");
        assert_eq!(sniff_content_type(&ftyp(b"mp42", &[b"isom"]), "clip"), "video/mp4");
        assert_eq!(sniff_content_type(&ftyp(b"M4V ", &[b"M4V "]), "clip.m4v"), "video/mp4");
        assert_eq!(sniff_content_type(&ftyp(b"qt  ", &[b"qt  "]), "IMG_0002.MOV"), "video/quicktime");
        assert_eq!(sniff_content_type(&ftyp(b"3gp4", &[]), "a.3gp"), "video/3gpp");
        assert_eq!(sniff_content_type(&ftyp(b"M4A ", &[b"mp42", b"isom"]), "memo.m4a"), "audio/mp4");
        // Unknown major brand: the compatible list decides.
        assert_eq!(sniff_content_type(&ftyp(b"zzzz", &[b"mp42"]), "a"), "video/mp4");
        // Android voice notes: generic MP4 brand; the extension or the track handler says sound.
        assert_eq!(sniff_content_type(&ftyp(b"mp42", &[b"isom"]), "Recording 3.m4a"), "audio/mp4");
        let mut with_handler = ftyp(b"isom", &[b"isom"]);
        with_handler.extend_from_slice(b"\0\0\0\x21hdlr\0\0\0\0\0\0\0\0soun");
        assert_eq!(sniff_content_type(&with_handler, "voice.mp4"), "audio/mp4");
        let mut with_video = ftyp(b"isom", &[b"isom"]);
        with_video.extend_from_slice(b"\0\0\0\x21hdlr\0\0\0\0\0\0\0\0vide\0\0\0\x21hdlr\0\0\0\0\0\0\0\0soun");
        assert_eq!(sniff_content_type(&with_video, "a.m4a"), "video/mp4");
    }

    #[test]
    fn sniffs_webm_and_matroska_video_or_sound() {
        let header = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04";
        let mut video = header.to_vec();
        video.extend_from_slice(b"\x18\x53\x80\x67\x01\xFF\xAE\x86\x85V_VP8\xAE\x86\x86A_OPUS");
        assert_eq!(sniff_content_type(&video, "a"), "video/webm");
        let mut sound = header.to_vec();
        sound.extend_from_slice(b"\x18\x53\x80\x67\x01\xFF\xAE\x86\x86A_OPUS");
        assert_eq!(sniff_content_type(&sound, "feedback.webm"), "audio/webm");
        assert_eq!(sniff_content_type(header, "a"), "video/webm");
        let mkv = b"\x1A\x45\xDF\xA3\xA3\x42\x82\x88matroska\x86\x85V_MS/";
        assert_eq!(sniff_content_type(mkv, "a.mkv"), "video/x-matroska");
    }

    #[test]
    fn sniffs_sound() {
        assert_eq!(sniff_content_type(b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\x1eOpusHead", "a"), "audio/ogg");
        assert_eq!(sniff_content_type(b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\x2a\x80theora", "a"), "video/ogg");
        assert_eq!(sniff_content_type(b"ID3\x04\0\0\0\0\0\x23", "song.txt"), "audio/mpeg");
        assert_eq!(sniff_content_type(&[0xFF, 0xFB, 0x90, 0x64, 0, 0], "a"), "audio/mpeg");
        assert_eq!(sniff_content_type(&[0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F], "a"), "audio/aac");
        assert_eq!(sniff_content_type(b"RIFF\x24\0\0\0WAVEfmt ", "a"), "audio/wav");
        assert_eq!(sniff_content_type(b"fLaC\0\0\0\x22", "a"), "audio/flac");
        assert_eq!(sniff_content_type(b"MThd\0\0\0\x06", "a.mid"), "audio/midi");
        // A reserved bitrate is not a frame header.
        assert_eq!(sniff_content_type(&[0xFF, 0xFB, 0xF0, 0x64, 0], "a"), "application/octet-stream");
    }

    #[test]
    fn sniffs_pdf_and_zip_based_documents() {
        assert_eq!(sniff_content_type(b"%PDF-1.7\n%\xE2\xE3", "essay.txt"), "application/pdf");
        let zip = zip_with_first_entry(b"[Content_Types].xml", b"<?xml");
        let ooxml = "application/vnd.openxmlformats-officedocument";
        assert_eq!(sniff_content_type(&zip, "Essay.DOCX"), format!("{ooxml}.wordprocessingml.document"));
        assert_eq!(sniff_content_type(&zip, "a.xlsx"), format!("{ooxml}.spreadsheetml.sheet"));
        assert_eq!(sniff_content_type(&zip, "a.pptx"), format!("{ooxml}.presentationml.presentation"));
        assert_eq!(sniff_content_type(&zip, "a.odt"), "application/vnd.oasis.opendocument.text");
        assert_eq!(sniff_content_type(&zip, "a.ods"), "application/vnd.oasis.opendocument.spreadsheet");
        assert_eq!(sniff_content_type(&zip, "a.odp"), "application/vnd.oasis.opendocument.presentation");
        assert_eq!(sniff_content_type(&zip, "book.epub"), "application/epub+zip");
        assert_eq!(sniff_content_type(&zip, "Maze Game.sb3"), "application/x.scratch.sb3");
        assert_eq!(sniff_content_type(&zip, "photos.zip"), "application/zip");
        assert_eq!(sniff_content_type(&zip, "page.html"), "application/zip");
        assert_eq!(sniff_content_type(b"PK\x05\x06\0\0\0\0", "empty"), "application/zip");
        // ODF and EPUB say what they are inside, whatever the name.
        let odt = zip_with_first_entry(b"mimetype", b"application/vnd.oasis.opendocument.text");
        assert_eq!(sniff_content_type(&odt, "renamed.zip"), "application/vnd.oasis.opendocument.text");
        let epub = zip_with_first_entry(b"mimetype", b"application/epub+zip");
        assert_eq!(sniff_content_type(&epub, "book"), "application/epub+zip");
        let doc = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0";
        assert_eq!(sniff_content_type(doc, "old.doc"), "application/msword");
        assert_eq!(sniff_content_type(doc, "old"), "application/octet-stream");
    }

    #[test]
    fn html_is_html_whatever_the_name() {
        for head in [
            &b"<!DOCTYPE html><p>hi"[..],
            b"<!doctype HTML>",
            b"  \n\t<html lang=en>",
            b"\xEF\xBB\xBF<HTML>",
            b"<script>alert(1)</script>",
            b"<head><title>x</title>",
            b"<BODY onload=x()>",
            b"<iframe src=x>",
            b"<b>bold</b>",
            b"<!-- hi --><p>x",
        ] {
            for name in ["notes.txt", "cat.png", "a", "story.md"] {
                assert_eq!(
                    sniff_content_type(head, name),
                    "text/html",
                    "{:?} as {name}",
                    String::from_utf8_lossy(head)
                );
            }
        }
        // UTF-16 with a BOM, as older Notepad saves.
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("<html><script>".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(sniff_content_type(&utf16, "readme.txt"), "text/html");
        assert_eq!(sniff_content_type(b"<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<html xmlns=\"x\">", "a"), XHTML);
        // An HTML file we cannot recognise is still treated as HTML by its name.
        assert_eq!(sniff_content_type(b"just words", "page.htm"), "text/html");
        // Text that merely mentions a tag later on is text.
        assert_eq!(sniff_content_type(b"I learned the <html> tag today", "notes.txt"), "text/plain");
        assert_eq!(sniff_content_type(b"<3 my cat", "notes.txt"), "text/plain");
    }

    #[test]
    fn svg_and_xml_are_recognised_whatever_the_name() {
        assert_eq!(sniff_content_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\">", "cat.png"), SVG);
        let inkscape =
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Created with Inkscape -->\n<svg\n width=\"10\">";
        assert_eq!(sniff_content_type(inkscape, "drawing.txt"), SVG);
        let illustrator = b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\r\n<!-- Generator: Adobe Illustrator -->\r\n\
            <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\">\r\n<svg version=\"1.1\">";
        assert_eq!(sniff_content_type(illustrator, "a.jpg"), SVG);
        assert_eq!(sniff_content_type(b"<!-- made by hand -->\n<svg viewBox=\"0 0 1 1\">", "a"), SVG);
        assert_eq!(sniff_content_type(b"<svg:svg xmlns:svg=\"x\">", "a"), SVG);
        assert_eq!(sniff_content_type(b"<?xml version=\"1.0\"?><rss version=\"2.0\">", "feed.txt"), XML);
        // A long prolog that never reaches the root within the head still counts by content.
        let long = [&b"<?xml version=\"1.0\"?><!-- "[..], &[b'x'; 9000], b" --><svg>"].concat();
        assert_eq!(sniff_content_type(&long[..SNIFF_LEN], "a.png"), XML);
        assert_eq!(sniff_content_type(b"<!-- unfinished comment <svg ", "a.png"), SVG);
        assert_eq!(sniff_content_type(b"hello", "drawing.svg"), SVG);
        assert_eq!(sniff_content_type(b"<data/>", "a.xml"), XML);
    }

    #[test]
    fn text_types_by_extension_then_utf8() {
        let cases = [
            ("a.txt", "text/plain"),
            ("a.md", "text/markdown"),
            ("a.markdown", "text/markdown"),
            ("marks.CSV", "text/csv"),
            ("a.json", "application/json"),
            ("game.py", "text/x-python"),
            ("app.js", "text/javascript"),
            ("app.ts", "text/x-typescript"),
            ("main.rs", "text/x-rust"),
            ("a.c", "text/x-c"),
            ("a.h", "text/x-c"),
            ("a.cpp", "text/x-c++"),
            ("Main.java", "text/x-java"),
            ("main.go", "text/x-go"),
            ("a.rb", "text/x-ruby"),
            ("run.sh", "text/x-shellscript"),
            ("site.css", "text/css"),
            ("blink.ino", "text/x-c++"),
        ];
        for (name, expected) in cases {
            assert_eq!(sniff_content_type(b"print('hi')\n", name), expected, "{name}");
        }
        assert_eq!(sniff_content_type("Mi perro se llama Luna. 🐕".as_bytes(), "story"), "text/plain");
        assert_eq!(sniff_content_type(b"", "empty.bin"), "text/plain");
        // The head may end halfway through a character.
        let cut = "añ".as_bytes();
        assert_eq!(sniff_content_type(&cut[..cut.len() - 1], "a"), "text/plain");
        // Binary stays binary, also when misnamed.
        assert_eq!(sniff_content_type(b"\x00\x01\x02\x03", "a"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"abc\x00def", "notes.txt"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"\xC3\x28 invalid", "a"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"Maze\x00\x01", "Maze.sb3"), "application/octet-stream");
    }

    #[test]
    fn extension_is_taken_from_the_last_component() {
        assert_eq!(extension("dir.v2/file"), "");
        assert_eq!(extension("C:\\work\\Essay.Final.DOCX"), "docx");
        assert_eq!(extension(".bashrc"), "");
        assert_eq!(extension("archive.tar.gz"), "gz");
    }

    #[test]
    fn kinds() {
        assert_eq!(kind_of("image/jpeg"), Kind::Image);
        assert_eq!(kind_of("image/svg+xml"), Kind::Image);
        assert_eq!(kind_of("image/heic"), Kind::Image);
        assert_eq!(kind_of("video/mp4"), Kind::Video);
        assert_eq!(kind_of("video/quicktime"), Kind::Video);
        assert_eq!(kind_of("audio/webm"), Kind::Audio);
        assert_eq!(kind_of("audio/mpeg"), Kind::Audio);
        assert_eq!(kind_of("text/plain"), Kind::Text);
        assert_eq!(kind_of("text/markdown; charset=utf-8"), Kind::Text);
        assert_eq!(kind_of("application/pdf"), Kind::Document);
        assert_eq!(kind_of("application/vnd.openxmlformats-officedocument.wordprocessingml.document"), Kind::Document);
        assert_eq!(kind_of("application/vnd.oasis.opendocument.spreadsheet"), Kind::Document);
        assert_eq!(kind_of("application/epub+zip"), Kind::Document);
        assert_eq!(kind_of("text/csv"), Kind::Document);
        assert_eq!(kind_of("text/x-python"), Kind::Code);
        assert_eq!(kind_of("text/javascript"), Kind::Code);
        assert_eq!(kind_of("text/html"), Kind::Code);
        assert_eq!(kind_of("application/json"), Kind::Code);
        assert_eq!(kind_of("application/x.scratch.sb3"), Kind::Code);
        assert_eq!(kind_of("application/zip"), Kind::Other);
        assert_eq!(kind_of("application/octet-stream"), Kind::Other);
        assert_eq!(kind_of(""), Kind::Other);
    }

    #[test]
    fn kind_names_and_labels() {
        let all = [Kind::Image, Kind::Video, Kind::Audio, Kind::Document, Kind::Code, Kind::Text, Kind::Other];
        for kind in all {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&format!("\"{}\"", kind.as_str())).unwrap(), kind);
            assert!(!kind.label().is_empty());
        }
        assert_eq!(Kind::Image.label(), "Photo or picture");
        assert_eq!(Kind::Audio.label(), "Recording");
        assert_eq!(Kind::Text.label(), "Writing");
        assert_eq!(Kind::Other.label(), "File");
    }

    #[test]
    fn only_inert_types_are_inline() {
        use Presentation::*;
        for t in ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "video/mp4", "audio/ogg"] {
            assert_eq!(presentation(t), InlineMedia, "{t}");
        }
        for t in ["text/plain", "text/markdown", "text/csv", "text/x-python", "text/x-rust", "application/json"] {
            assert_eq!(presentation(t), InlineText, "{t}");
        }
        for t in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "Image/SVG+XML",
            "application/xml",
            "text/xml",
            "application/xhtml+xml",
            "text/javascript",
            "application/javascript",
            "application/pdf",
            "application/zip",
            "application/x.scratch.sb3",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/octet-stream",
            "text/calendar",
            "made/up",
            "",
        ] {
            assert_eq!(presentation(t), Attachment, "{t}");
        }
    }

    #[test]
    fn every_sniffed_markup_type_is_a_download() {
        for head in [&b"<html>"[..], b"<svg>", b"<?xml version=\"1.0\"?><a/>", b"<?xml?><html>"] {
            let t = sniff_content_type(head, "innocent.png");
            assert_eq!(presentation(t), Presentation::Attachment, "{t}");
            assert_eq!(served_content_type(t), "application/octet-stream");
        }
    }

    #[test]
    fn served_types() {
        assert_eq!(served_content_type("image/png"), "image/png");
        assert_eq!(served_content_type("video/webm; codecs=vp9"), "video/webm");
        assert_eq!(served_content_type("text/markdown"), "text/plain; charset=utf-8");
        assert_eq!(served_content_type("text/x-python"), "text/plain; charset=utf-8");
        assert_eq!(served_content_type("text/html"), "application/octet-stream");
        assert_eq!(served_content_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(served_content_type("application/pdf"), "application/octet-stream");
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\ana\\cat.png"), "cat.png");
        assert_eq!(display_name("my\0 story\0.txt"), "my story.txt");
        assert_eq!(display_name("line\r\nbreak\t.txt"), "linebreak.txt");
        assert_eq!(display_name("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(display_name("a\u{2066}b\u{2069}c\u{200E}\u{200F}\u{061C}.png"), "abc.png");
        assert_eq!(display_name("..."), "file");
        assert_eq!(display_name(""), "file");
        assert_eq!(display_name("dir/"), "file");
        assert_eq!(display_name(" \u{202E} "), "file");
        assert_eq!(display_name("  .hidden name.md "), "hidden name.md");
        assert_eq!(display_name("Álbum de fotos 📷.jpg"), "Álbum de fotos 📷.jpg");

        let long = format!("{}.jpg", "a".repeat(300));
        let short = display_name(&long);
        assert!(short.chars().count() <= 120, "{}", short.chars().count());
        assert!(short.ends_with("a.jpg") && short.starts_with("aaaa") && short.contains('…'), "{short}");

        let versions = format!("{} final v2.docx", "x".repeat(200));
        assert!(display_name(&versions).ends_with("final v2.docx"));
        let no_ext = "é".repeat(300);
        let short = display_name(&no_ext);
        assert_eq!(short.chars().count(), 120);
        let long_ext = format!("a.{}", "b".repeat(200));
        assert_eq!(display_name(&long_ext).chars().count(), 120);
    }

    #[test]
    fn content_dispositions() {
        assert_eq!(
            content_disposition(Presentation::Attachment, "page.html"),
            "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"
        );
        assert_eq!(
            content_disposition(Presentation::InlineMedia, "my cat.jpg"),
            "inline; filename=\"my cat.jpg\"; filename*=UTF-8''my%20cat.jpg"
        );
        assert_eq!(
            content_disposition(Presentation::InlineText, "niño \"1\";\\x%.txt"),
            "inline; filename=\"ni_o _1___x_.txt\"; filename*=UTF-8''ni%C3%B1o%20%221%22%3B%5Cx%25.txt"
        );
        assert_eq!(
            content_disposition(Presentation::Attachment, "a\r\nb"),
            "attachment; filename=\"a__b\"; filename*=UTF-8''a%0D%0Ab"
        );
        assert_eq!(
            content_disposition(Presentation::Attachment, "写真.jpg"),
            "attachment; filename=\"__.jpg\"; filename*=UTF-8''%E5%86%99%E7%9C%9F.jpg"
        );
        assert_eq!(
            content_disposition(Presentation::Attachment, ""),
            "attachment; filename=\"file\"; filename*=UTF-8''file"
        );
        assert_eq!(percent_encode_attr("!#$&+-.^_`|~aZ9'()*"), "!#$&+-.^_`|~aZ9%27%28%29%2A");
    }

    fn write_png(path: &Path, width: u32, height: u32) {
        let picture =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        picture.save_with_format(path, ImageFormat::Png).unwrap();
    }

    fn decode(path: &Path) -> DynamicImage {
        image::ImageReader::open(path).unwrap().with_guessed_format().unwrap().decode().unwrap()
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn thumbnails_fit_in_the_box_and_keep_the_aspect() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("blob"), dir.path().join("thumb.jpg"));
        write_png(&source, 1000, 500);
        make_thumbnail(&source, &dest).unwrap();
        let thumb = decode(&dest);
        assert_eq!((thumb.width(), thumb.height()), (320, 160));
        assert_eq!(sniff_content_type(&fs::read(&dest).unwrap(), "thumb"), "image/jpeg");
        assert_eq!(files_in(dir.path()), ["blob", "thumb.jpg"]);
        // Made again over the old one.
        make_thumbnail(&source, &dest).unwrap();
        assert_eq!(files_in(dir.path()), ["blob", "thumb.jpg"]);
    }

    #[test]
    fn small_pictures_are_not_enlarged() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("small"), dir.path().join("thumb"));
        write_png(&source, 40, 30);
        make_thumbnail(&source, &dest).unwrap();
        let thumb = decode(&dest);
        assert_eq!((thumb.width(), thumb.height()), (40, 30));
    }

    #[test]
    fn transparent_drawings_get_a_white_background() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("drawing"), dir.path().join("thumb"));
        image::RgbaImage::from_pixel(64, 64, image::Rgba([0, 0, 0, 0]))
            .save_with_format(&source, ImageFormat::Png)
            .unwrap();
        make_thumbnail(&source, &dest).unwrap();
        let pixel = decode(&dest).to_rgb8().get_pixel(32, 32).0;
        assert!(pixel.iter().all(|&c| c > 245), "{pixel:?}");
    }

    #[test]
    fn camera_orientation_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("photo"), dir.path().join("thumb"));
        // A minimal big-endian EXIF block: one IFD entry, Orientation (0x0112) = 6, "rotate 90".
        let exif = b"MM\0\x2A\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        let picture = image::RgbImage::from_pixel(1000, 500, image::Rgb([200, 30, 30]));
        let mut encoder = image::codecs::jpeg::JpegEncoder::new(File::create(&source).unwrap());
        image::ImageEncoder::set_exif_metadata(&mut encoder, exif).unwrap();
        encoder.encode_image(&picture).unwrap();
        make_thumbnail(&source, &dest).unwrap();
        let thumb = decode(&dest);
        assert_eq!((thumb.width(), thumb.height()), (160, 320));
    }

    #[test]
    fn garbage_and_truncated_pictures_fail_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("thumb");

        let garbage = dir.path().join("garbage");
        fs::write(&garbage, b"this is not a picture at all").unwrap();
        assert!(matches!(make_thumbnail(&garbage, &dest), Err(MediaError::Unsupported)));

        let truncated = dir.path().join("truncated");
        write_png(&truncated, 200, 200);
        let bytes = fs::read(&truncated).unwrap();
        fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
        let err = make_thumbnail(&truncated, &dest).unwrap_err();
        assert!(matches!(err, MediaError::Image(_) | MediaError::Io(_)), "{err:?}");

        let svg = dir.path().join("drawing.svg");
        fs::write(&svg, b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
        assert!(make_thumbnail(&svg, &dest).is_err());

        assert!(make_thumbnail(&dir.path().join("missing"), &dest).is_err());
        assert_eq!(files_in(dir.path()), ["drawing.svg", "garbage", "truncated"]);
    }

    #[test]
    fn oversized_pictures_are_refused_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("wide"), dir.path().join("thumb"));
        write_png(&source, MAX_DIMENSION + 1, 1);
        assert!(matches!(make_thumbnail(&source, &dest), Err(MediaError::TooLarge)));
        assert!(!dest.exists());
    }

    #[test]
    fn thumbnailable_types() {
        for t in ["image/jpeg", "image/png", "image/gif", "image/webp", "IMAGE/PNG"] {
            assert!(thumbnailable(t), "{t}");
        }
        for t in ["image/svg+xml", "image/heic", "video/mp4", "application/pdf", ""] {
            assert!(!thumbnailable(t), "{t}");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=500-", 1000), Ok(Some((500, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Ok(Some((900, 999))));
        assert_eq!(parse_range("bytes=-5000", 1000), Ok(Some((0, 999))));
        assert_eq!(parse_range("bytes=990-2000", 1000), Ok(Some((990, 999))));
        assert_eq!(parse_range("bytes=0-99999999999999999999999", 1000), Ok(Some((0, 999))));
        assert_eq!(parse_range("bytes=999-999", 1000), Ok(Some((999, 999))));
        assert_eq!(parse_range(" Bytes = 1 - 2 ", 1000), Ok(Some((1, 2))));
        assert_eq!(parse_range("bytes=0-1,", 1000), Ok(Some((0, 1))));
    }

    #[test]
    fn ranges_the_caller_ignores() {
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ok(None));
        assert_eq!(parse_range("items=0-5", 1000), Ok(None));
        assert_eq!(parse_range("bytes=0-1,5-6", 0), Ok(None));
    }

    #[test]
    fn unsatisfiable_ranges() {
        use RangeError::Unsatisfiable;
        assert_eq!(parse_range("bytes=1000-", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=1000-1001", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=-0", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=99999999999999999999999-", 1000), Err(Unsatisfiable));
        // An empty file has no bytes to give.
        assert_eq!(parse_range("bytes=0-", 0), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-0", 0), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=-1", 0), Err(Unsatisfiable));
    }

    #[test]
    fn garbage_ranges() {
        use RangeError::Unsatisfiable;
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=abc",
            "bytes=5",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=5-1",
        ] {
            assert_eq!(parse_range(header, 1000), Err(Unsatisfiable), "{header:?}");
        }
        assert_eq!(parse_range("bytes=0x10-", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=1-2-3", 1000), Err(Unsatisfiable));
    }

    /// A PNG header claiming `width` × `height` RGB pixels, then one small IDAT of zeros and
    /// no end: a truncated upload, or a bomb.
    fn truncated_png(width: u32, height: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let crc = crc32(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        fn crc32(bytes: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &b in bytes {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
                }
            }
            !crc
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut zlib, &vec![0u8; 64 * 1024]).unwrap();
        chunk(&mut png, b"IDAT", &zlib.finish().unwrap());
        png
    }

    #[test]
    fn a_truncated_huge_png_is_refused_within_the_memory_of_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("huge"), dir.path().join("thumb"));
        let png = truncated_png(11_800, 11_800);
        assert!(png.len() < 1024);
        fs::write(&source, &png).unwrap();
        let (result, peak) = crate::heavy::meter::peak_during(|| make_thumbnail(&source, &dest));
        assert!(peak < crate::heavy::MEMORY_PER_FILE, "decoding took {} MiB", peak >> 20);
        assert!(result.is_err());
        assert!(!dest.exists());
    }

    #[test]
    fn a_large_photo_is_decoded_scaled_down() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("photo"), dir.path().join("thumb"));
        // 6000 × 4500 (27 megapixels, 81 MB as RGB): over the budget at full size.
        let picture = image::RgbImage::from_fn(6000, 4500, |x, _| image::Rgb([(x % 256) as u8, 120, 40]));
        picture.save_with_format(&source, ImageFormat::Jpeg).unwrap();
        drop(picture);
        // Not measured with the meter: the decoder hands each row's coefficients to worker
        // threads that free them, which a per-thread count takes for a leak. What bounds it is
        // that the scaled size is checked before decoding (750 × 563 here, at 1/8).
        make_thumbnail(&source, &dest).unwrap();
        let thumb = decode(&dest);
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
    }
}
