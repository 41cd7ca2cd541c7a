//! DOCX and ODT: a zip whose directory is checked first, and its document XML walked
//! event by event with quick-xml, within the bounds.

use std::io::Read;
use std::io::Seek;

use std::fs::File;
use std::io::{BufRead, BufReader, SeekFrom};

use quick_xml::events::Event;

use super::{MAX_XML_BYTES, MAX_ZIP_DIRECTORY_BYTES, MAX_ZIP_ENTRIES, ODT_MIME};

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
pub(super) fn office_text(mut file: File, max_bytes: usize) -> Option<String> {
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
