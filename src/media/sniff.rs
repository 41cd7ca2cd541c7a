//! Sniffing: the MIME type of an upload from its first bytes, and only then its name.

use std::borrow::Cow;

use super::{HTML, OCTET_STREAM, SCRATCH_SB3, SVG, XHTML, XML};

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
pub(super) fn extension(file_name: &str) -> String {
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
pub(super) fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}
