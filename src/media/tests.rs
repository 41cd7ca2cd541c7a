use super::*;
use image::{DynamicImage, ImageFormat};
use std::fs::{self, File};
use std::path::Path;

use super::names::{content_disposition, display_name, percent_encode_attr};
use super::range::{RangeError, parse_range};
use super::sniff::{extension, sniff_content_type};
use super::thumbnails::{MAX_DIMENSION, MediaError, make_thumbnail};

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
            assert_eq!(sniff_content_type(head, name), "text/html", "{:?} as {name}", String::from_utf8_lossy(head));
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
    let inkscape = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Created with Inkscape -->\n<svg\n width=\"10\">";
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
    let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
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
    for header in
        ["", "bytes", "bytes=", "bytes=,", "bytes=-", "bytes=abc", "bytes=5", "bytes=+1-2", "bytes=1-+2", "bytes=5-1"]
    {
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
