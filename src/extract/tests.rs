use super::*;
use std::io::Write;
use std::path::PathBuf;

use zip::write::SimpleFileOptions;

use super::html::html_to_text;
use super::pdf::{Undecoded, inflate_capped};

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

use crate::samples::{pdf as minimal_pdf, pdf_from_objects};

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
