//! Every format folio strips, through the real [`BlobStore`] writer in pieces of odd sizes:
//! the STORED bytes must not hold the fixture's location (a known string and the known
//! GPS rationals), and the picture must keep its orientation.

use crate::blobs::{BlobStore, StoredBlob};

/// The location every fixture carries, as text (XMP, `©xyz`, a GPS IFD's ASCII tag) ...
const SECRET: &[u8] = b"59.9127";
/// ... and as the GPS IFD's latitude rationals (59/1, 54/1, 4572/100).
const LATITUDE: [u8; 24] = [0, 0, 0, 59, 0, 0, 0, 1, 0, 0, 0, 54, 0, 0, 0, 1, 0, 0, 0x11, 0xDC, 0, 0, 0, 100];

fn leaks(bytes: &[u8]) -> bool {
    bytes.windows(SECRET.len()).any(|w| w == SECRET) || bytes.windows(LATITUDE.len()).any(|w| w == LATITUDE)
}

async fn store_in_pieces(data: &[u8], piece: usize) -> (tempfile::TempDir, StoredBlob, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let mut w = store.writer(u64::MAX).unwrap();
    for part in data.chunks(piece) {
        w.write(part).await.unwrap();
    }
    let blob = w.finish().await.unwrap();
    let stored = std::fs::read(store.path(&blob.hash)).unwrap();
    assert_eq!(blob.hash.0, *blake3::hash(&stored).as_bytes(), "the name is the hash of the stored bytes");
    assert_eq!(blob.size, stored.len() as u64);
    assert_eq!(store.tmp_count(), 0);
    (dir, blob, stored)
}

/// Stores `data` whole and in pieces of 1, 7 and 4096 bytes: the same bytes every time, and
/// none of them the location.
async fn stored(data: &[u8]) -> (StoredBlob, Vec<u8>) {
    assert!(leaks(data), "the fixture carries the location");
    let (_dir, blob, bytes) = store_in_pieces(data, data.len().max(1)).await;
    for piece in [1, 7, 4096] {
        let (_dir, other, other_bytes) = store_in_pieces(data, piece).await;
        assert_eq!(other_bytes, bytes, "pieces of {piece}");
        assert_eq!(other, blob);
    }
    assert!(!leaks(&bytes), "the stored file still holds the location");
    assert!(blob.metadata_removed);
    (blob, bytes)
}

// ------------------------------------------------------------------------------------------
// Fixtures

fn be16(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}
fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A big-endian TIFF structure as cameras write into EXIF: IFD0 with Orientation (if given),
/// Make and a GPS IFD pointer; the GPS IFD with a latitude and a map datum holding
/// [`SECRET`]. `base` is where the structure's byte 0 will be in the file (TIFF offsets are
/// from the TIFF header; a whole TIFF file passes 0).
fn exif_tiff(orientation: Option<u16>) -> Vec<u8> {
    let entry = |tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        let mut e = Vec::new();
        e.extend_from_slice(&be16(tag));
        e.extend_from_slice(&be16(kind));
        e.extend_from_slice(&be32(count));
        e.extend_from_slice(&value);
        e
    };
    let ifd0_count = if orientation.is_some() { 3 } else { 2 };
    let ifd0_len = 2 + 12 * ifd0_count + 4;
    let make_at = 8 + ifd0_len as u32;
    let make = b"PhoneCo\0";
    let gps_at = make_at + make.len() as u32;
    let datum = b"GPSSECRET 59.9127N\0";
    let gps_len = 2 + 12 * 3 + 4;
    let lat_at = gps_at + gps_len as u32;
    let datum_at = lat_at + 24;

    let mut t = b"MM\0\x2A".to_vec();
    t.extend_from_slice(&be32(8));
    t.extend_from_slice(&be16(ifd0_count as u16));
    if let Some(o) = orientation {
        let [a, b] = be16(o);
        t.extend(entry(0x0112, 3, 1, [a, b, 0, 0]));
    }
    t.extend(entry(0x010F, 2, make.len() as u32, be32(make_at)));
    t.extend(entry(0x8825, 4, 1, be32(gps_at)));
    t.extend_from_slice(&be32(0));
    t.extend_from_slice(make);
    t.extend_from_slice(&be16(3));
    t.extend(entry(0x0001, 2, 2, *b"N\0\0\0"));
    t.extend(entry(0x0002, 5, 3, be32(lat_at)));
    t.extend(entry(0x0012, 2, datum.len() as u32, be32(datum_at)));
    t.extend_from_slice(&be32(0));
    t.extend_from_slice(&LATITUDE);
    t.extend_from_slice(datum);
    t
}

fn segment(code: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, code];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

fn picture(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, ((x + y) * 3) as u8]))
}

fn plain_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&picture(width, height)).unwrap();
    out
}

/// A JPEG with an EXIF APP1 (orientation, make, GPS) right after SOI, as phones write it.
fn jpeg_with_exif(width: u32, height: u32, orientation: Option<u16>) -> Vec<u8> {
    let plain = plain_jpeg(width, height);
    let mut body = b"Exif\0\0".to_vec();
    body.extend(exif_tiff(orientation));
    let mut out = plain[..2].to_vec();
    out.extend(segment(0xE1, &body));
    out.extend_from_slice(&plain[2..]);
    out
}

fn orientation_of(bytes: &[u8]) -> image::metadata::Orientation {
    use image::ImageDecoder;
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().unwrap();
    let mut decoder = reader.into_decoder().unwrap();
    decoder.orientation().unwrap()
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An extended WebP (VP8X) with a lossless picture, an EXIF chunk (orientation 6, GPS) and
/// an XMP chunk with the location.
fn webp_with_gps() -> Vec<u8> {
    let (w, h) = (24u32, 16u32);
    let mut simple = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut simple)
        .encode(picture(w, h).as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(&simple[12..16], b"VP8L");
    let vp8l = &simple[12..];
    let mut vp8x = vec![0x08 | 0x04, 0, 0, 0];
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(vp8l);
    body.extend(riff_chunk(b"EXIF", &exif_tiff(Some(6))));
    body.extend(riff_chunk(b"XMP ", b"<x:xmpmeta><exif:GPSLatitude>59.9127N</exif:GPSLatitude></x:xmpmeta>"));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// An uncompressed 4×2 RGB TIFF whose IFD0 comes after the pixels and the GPS IFD (as
/// libtiff writes them), so the pointer to the GPS IFD points back to bytes already streamed.
fn tiff_with_gps() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..24u8).map(|i| i.wrapping_mul(37)).collect();
    let exif = exif_tiff(None);
    // The GPS IFD and its values from `exif_tiff`, moved to follow the pixels.
    let gps_in_exif = u32::from_be_bytes(exif[8 + 2 + 12 + 8..8 + 2 + 12 + 12].try_into().unwrap()) as usize;
    let gps_at = 8 + pixels.len();
    let mut gps = exif[gps_in_exif..].to_vec();
    let shift = gps_at as i64 - gps_in_exif as i64;
    for i in 0..3 {
        let e = 2 + 12 * i;
        let count = u32::from_be_bytes(gps[e + 4..e + 8].try_into().unwrap());
        let kind = u16::from_be_bytes([gps[e + 2], gps[e + 3]]);
        let size = count * if kind == 5 { 8 } else { 1 };
        if size > 4 {
            let v = u32::from_be_bytes(gps[e + 8..e + 12].try_into().unwrap()) as i64 + shift;
            gps[e + 8..e + 12].copy_from_slice(&be32(v as u32));
        }
    }
    let ifd0_at = gps_at + gps.len();
    let entries: Vec<(u16, u16, u32, [u8; 4])> = vec![
        (256, 3, 1, [0, 4, 0, 0]),
        (257, 3, 1, [0, 2, 0, 0]),
        (258, 3, 1, [0, 8, 0, 0]),
        (259, 3, 1, [0, 1, 0, 0]),
        (262, 3, 1, [0, 2, 0, 0]),
        (273, 4, 1, be32(8)),
        (274, 3, 1, [0, 6, 0, 0]),
        (277, 3, 1, [0, 3, 0, 0]),
        (278, 3, 1, [0, 2, 0, 0]),
        (279, 4, 1, be32(pixels.len() as u32)),
        (0x8825, 4, 1, be32(gps_at as u32)),
    ];
    let mut out = b"MM\0\x2A".to_vec();
    out.extend_from_slice(&be32(ifd0_at as u32));
    out.extend_from_slice(&pixels);
    out.extend(gps);
    out.extend_from_slice(&be16(entries.len() as u16));
    for (tag, kind, count, value) in entries {
        out.extend_from_slice(&be16(tag));
        out.extend_from_slice(&be16(kind));
        out.extend_from_slice(&be32(count));
        out.extend_from_slice(&value);
    }
    out.extend_from_slice(&be32(0));
    (out, pixels)
}

fn bmff_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = be32(8 + payload.len() as u32).to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

fn full_box(kind: &[u8; 4], version: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![version, 0, 0, 0];
    p.extend_from_slice(payload);
    bmff_box(kind, &p)
}

fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A QuickTime movie as a phone records it: `ftyp`, `mdat`, then `moov` at the end, with the
/// place in `moov/udta/©xyz`, in a track's `udta`, and in `moov/meta` (Apple's keys).
fn mov_with_xyz(brand: &[u8; 4]) -> Vec<u8> {
    let ftyp = bmff_box(b"ftyp", &[&brand[..], &[0, 0, 0, 0], &brand[..]].concat());
    let mdat = bmff_box(b"mdat", &(0..200u8).collect::<Vec<_>>());
    let xyz = bmff_box(b"\xA9xyz", &[&[0, 19, 0x15, 0xC7][..], b"+59.9127+010.7461/"].concat());
    let mvhd = full_box(b"mvhd", 0, &[0u8; 96]);
    let tkhd = full_box(b"tkhd", 0, &[0u8; 80]);
    let trak = bmff_box(b"trak", &concat(&[tkhd, bmff_box(b"udta", &xyz)]));
    let keys =
        full_box(b"keys", 0, &[&be32(1)[..], &be32(44), b"mdta", b"com.apple.quicktime.location.ISO6709"].concat());
    let ilst = bmff_box(
        b"ilst",
        &bmff_box(&be32(1), &bmff_box(b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0][..], b"+59.9127+010.7461/"].concat())),
    );
    let meta = full_box(
        b"meta",
        0,
        &concat(&[full_box(b"hdlr", 0, &[&[0u8; 4][..], b"mdta", &[0u8; 13]].concat()), keys, ilst]),
    );
    let moov = bmff_box(b"moov", &concat(&[mvhd, trak, bmff_box(b"udta", &xyz), meta]));
    concat(&[ftyp, mdat, moov])
}

/// A HEIF still (`heic` or `avif`) with a picture item and an `Exif` item whose bytes are in
/// `mdat`; `mdat_first` puts `mdat` (and so the Exif bytes) before `meta`.
fn heif_with_exif(brand: &[u8; 4], mdat_first: bool) -> Vec<u8> {
    let ftyp = bmff_box(b"ftyp", &[&brand[..], &[0, 0, 0, 0], b"mif1", &brand[..]].concat());
    let coded = vec![0x5Au8; 64];
    let mut exif_item = be32(6).to_vec();
    exif_item.extend_from_slice(b"Exif\0\0");
    exif_item.extend(exif_tiff(Some(6)));
    let infe = |id: u16, kind: &[u8; 4]| full_box(b"infe", 2, &[&be16(id)[..], &[0, 0], kind, b"\0"].concat());
    let iinf = full_box(
        b"iinf",
        0,
        &concat(&[be16(2).to_vec(), infe(1, if brand == b"avif" { b"av01" } else { b"hvc1" }), infe(2, b"Exif")]),
    );
    let hdlr = full_box(b"hdlr", 0, &[&[0u8; 4][..], b"pict", &[0u8; 13]].concat());
    let pitm = full_box(b"pitm", 0, &be16(1));
    // iloc v0: offset_size 4, length_size 4, base_offset_size 0; offsets filled in below.
    let iloc_for = |image_at: u32, exif_at: u32| {
        let mut p = vec![0x44, 0x00];
        p.extend_from_slice(&be16(2));
        for (id, at, len) in [(1u16, image_at, coded.len() as u32), (2, exif_at, exif_item.len() as u32)] {
            p.extend_from_slice(&be16(id));
            p.extend_from_slice(&be16(0));
            p.extend_from_slice(&be16(1));
            p.extend_from_slice(&be32(at));
            p.extend_from_slice(&be32(len));
        }
        full_box(b"iloc", 0, &p)
    };
    let meta_for = |image_at: u32, exif_at: u32| {
        full_box(b"meta", 0, &concat(&[hdlr.clone(), pitm.clone(), iloc_for(image_at, exif_at), iinf.clone()]))
    };
    let mdat = bmff_box(b"mdat", &concat(&[coded.clone(), exif_item.clone()]));
    let meta_len = meta_for(0, 0).len() as u32;
    let ftyp_len = ftyp.len() as u32;
    if mdat_first {
        let image_at = ftyp_len + 8;
        concat(&[ftyp, mdat, meta_for(image_at, image_at + coded.len() as u32)])
    } else {
        let image_at = ftyp_len + meta_len + 8;
        concat(&[ftyp.clone(), meta_for(image_at, image_at + coded.len() as u32), mdat])
    }
}

// ------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn webp_loses_its_exif_gps_and_xmp_but_keeps_its_orientation() {
    let original = webp_with_gps();
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    let (blob, bytes) = stored(&original).await;
    assert_eq!(blob.size, original.len() as u64, "chunks are neutralised in place");
    let after = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(before, after, "the picture is the same");
    assert_eq!(orientation_of(&bytes), image::metadata::Orientation::Rotate90);
}

#[tokio::test]
async fn tiff_loses_its_gps_ifd_even_when_the_ifd_comes_last() {
    let (original, pixels) = tiff_with_gps();
    let (blob, bytes) = stored(&original).await;
    assert_eq!(blob.size, original.len() as u64, "offsets never move");
    assert_eq!(&bytes[8..8 + pixels.len()], &pixels[..], "the pixels are untouched");
    let orientation_entry = [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0];
    assert!(bytes.windows(12).any(|w| w == orientation_entry), "the orientation tag stays");
}

#[tokio::test]
async fn a_second_jpeg_appended_after_the_first_loses_its_gps_too() {
    // Multi-picture phone photos (MPF): a second complete JPEG after the first one's EOI.
    let mut original = plain_jpeg(32, 24);
    original.extend(jpeg_with_exif(16, 12, None));
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    let (_blob, bytes) = stored(&original).await;
    let after = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_stray_ff00_before_the_exif_does_not_stop_the_stripping() {
    let with_exif = jpeg_with_exif(32, 24, None);
    let mut original = with_exif[..2].to_vec();
    original.extend_from_slice(&[0xFF, 0x00]);
    original.extend_from_slice(&with_exif[2..]);
    let (_blob, bytes) = stored(&original).await;
    let before = image::load_from_memory(&plain_jpeg(32, 24)).unwrap().to_rgb8();
    assert_eq!(image::load_from_memory(&bytes).unwrap().to_rgb8(), before);
}

#[tokio::test]
async fn mov_and_mp4_lose_their_xyz_location_atoms_in_place() {
    for brand in [b"qt  ", b"isom", b"3gp4"] {
        let original = mov_with_xyz(brand);
        let (blob, bytes) = stored(&original).await;
        assert_eq!(blob.size, original.len() as u64, "no offset moves");
        // ftyp and mdat are untouched; the location boxes became `free`.
        let mdat_end = original.windows(4).position(|w| w == b"moov").unwrap() - 4;
        assert_eq!(&bytes[..mdat_end], &original[..mdat_end]);
        assert!(!bytes.windows(4).any(|w| w == b"\xA9xyz"));
        assert!(bytes.windows(4).any(|w| w == b"mvhd") && bytes.windows(4).any(|w| w == b"tkhd"));
    }
}

#[tokio::test]
async fn heic_and_avif_lose_their_exif_item() {
    for (brand, mdat_first) in [(b"heic", false), (b"avif", false), (b"heic", true)] {
        let original = heif_with_exif(brand, mdat_first);
        let (blob, bytes) = stored(&original).await;
        assert_eq!(blob.size, original.len() as u64, "item offsets never move");
        let coded = [0x5Au8; 64];
        assert!(bytes.windows(64).any(|w| w == coded), "the coded picture is untouched");
    }
}

#[tokio::test]
async fn a_portrait_jpeg_stays_upright_and_its_thumbnail_too() {
    // Phones store the sensor's landscape pixels and say "rotate 90°" in EXIF.
    let original = jpeg_with_exif(400, 200, Some(6));
    let (_blob, bytes) = stored(&original).await;
    assert_eq!(orientation_of(&bytes), image::metadata::Orientation::Rotate90);
    let dir = tempfile::tempdir().unwrap();
    let (source, thumb) = (dir.path().join("photo"), dir.path().join("thumb"));
    std::fs::write(&source, &bytes).unwrap();
    crate::media::make_thumbnail(&source, &thumb).unwrap();
    let thumb = image::ImageReader::open(&thumb).unwrap().with_guessed_format().unwrap().decode().unwrap();
    assert!(thumb.height() > thumb.width(), "the thumbnail is portrait: {}x{}", thumb.width(), thumb.height());
}

#[tokio::test]
async fn a_png_keeps_its_orientation_and_loses_its_exif_gps() {
    let mut encoded = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut encoded),
        picture(20, 10).as_raw(),
        20,
        10,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    let data = exif_tiff(Some(6));
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"eXIf");
    chunk.extend_from_slice(&data);
    let mut crc = flate2::Crc::new();
    crc.update(&chunk[4..]);
    chunk.extend_from_slice(&crc.sum().to_be_bytes());
    let mut original = encoded[..33].to_vec();
    original.extend(chunk);
    original.extend_from_slice(&encoded[33..]);
    let (_blob, bytes) = stored(&original).await;
    assert_eq!(orientation_of(&bytes), image::metadata::Orientation::Rotate90);
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    assert_eq!(image::load_from_memory(&bytes).unwrap().to_rgb8(), before);
}

// ------------------------------------------------------------------------------------------
// Any bytes

mod any_bytes {
    use super::super::Filter;
    use proptest::prelude::*;

    fn run(data: &[u8], pieces: &[usize]) -> (Vec<u8>, Filter) {
        let mut filter = Filter::default();
        let mut out = Vec::new();
        let mut rest = data;
        for &size in pieces.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(size.clamp(1, rest.len()));
            filter.feed(now, &mut out);
            rest = later;
        }
        filter.finish(&mut out);
        (out, filter)
    }

    /// Every format's first bytes, and a few more: files cut off anywhere in their header.
    const HEADS: [&[u8]; 7] = [
        b"\xFF\xD8\xFF\xE1\x00\x10Exif\0\0MM",
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
        b"RIFF\0\0\0\0WEBPEXIF\x10\0\0\0",
        b"MM\0\x2A\0\0\0\x08\0\x01",
        b"II\x2A\0\x08\0\0\0\x01\0",
        b"\0\0\0\x18ftypheic\0\0\0\0",
        b"\0\0\0\x01ftyp\0\0\0\0\0\0\0\x20",
    ];

    #[test]
    fn files_cut_off_in_their_header_are_stored() {
        for head in HEADS {
            for len in 0..=head.len() {
                let (out, mut filter) = run(&head[..len], &[1]);
                assert!(out.len() <= len, "{head:?} cut at {len}");
                let mut file = tempfile::tempfile().unwrap();
                std::io::Write::write_all(&mut file, &out).unwrap();
                filter.fixup(&mut file).unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever follows a picture's or a movie's first bytes, the filters do not panic,
        /// give the same bytes however the input is cut, never grow a file by more than a
        /// rewritten orientation could, and the in-place formats (and their fix-up in the
        /// written file) never change its size.
        #[test]
        fn filters_hold_on_any_bytes(
            magic in 0usize..7,
            tail in proptest::collection::vec(any::<u8>(), 0..3000),
            pieces in proptest::collection::vec(1usize..300, 1..5),
        ) {
            let heads: [&[u8]; 7] = [
                b"\xFF\xD8\xFF",
                b"\x89PNG\r\n\x1a\n",
                b"RIFF\0\0\0\0WEBP",
                b"MM\0\x2A",
                b"II\x2A\0",
                b"\0\0\0\x18ftyp",
                b"\0\0\0\x01ftyp",
            ];
            let mut data = if tail.len() % 2 == 0 { heads[magic].to_vec() } else { HEADS[magic].to_vec() };
            data.extend(tail);
            let (whole, _) = run(&data, &[data.len()]);
            let (out, mut filter) = run(&data, &pieces);
            prop_assert_eq!(&out, &whole);
            prop_assert!(out.len() <= data.len() + data.len() / 8 + 64);
            let in_place = matches!(filter, Filter::Webp(_) | Filter::Bmff(_) | Filter::Tiff(_));
            if in_place {
                prop_assert_eq!(out.len(), data.len());
            }
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &out).unwrap();
            filter.fixup(&mut file).unwrap();
            prop_assert_eq!(file.metadata().unwrap().len(), out.len() as u64);
        }
    }
}
