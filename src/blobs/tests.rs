use super::*;
use crate::metadata::Filter;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use super::writer::IoState;

const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    (dir, store)
}

async fn put_chunked(store: &BlobStore, data: &[u8], chunk: usize) -> StoredBlob {
    let mut w = store.writer(u64::MAX).unwrap();
    for part in data.chunks(chunk.max(1)) {
        w.write(part).await.unwrap();
    }
    w.finish().await.unwrap()
}

async fn put(store: &BlobStore, data: &[u8]) -> StoredBlob {
    put_chunked(store, data, data.len()).await
}

/// The garbage-collection hold is taken before a duplicate is matched with the stored
/// copy: if the collector removes that copy just before the hold, the new bytes are
/// stored instead, so the hash the upload reports always has a file behind it.
#[tokio::test]
async fn the_hold_comes_before_the_dedupe() {
    let (_dir, store) = store();
    let first = put(&store, b"the same drawing twice").await;
    let mut w = store.writer(u64::MAX).unwrap();
    w.write(b"the same drawing twice").await.unwrap();
    let collector = store.clone();
    let (second, held_at) = w
        .finish_holding(move |hash| {
            // The collector's last removal before the hold lands.
            collector.remove(hash).unwrap();
            hash.to_hex()
        })
        .await
        .unwrap();
    assert_eq!(second.hash, first.hash);
    assert_eq!(held_at, first.hash.to_hex());
    assert_eq!(std::fs::read(store.path(&second.hash)).unwrap(), b"the same drawing twice");
}

fn stored_bytes(store: &BlobStore, blob: &StoredBlob) -> Vec<u8> {
    fs::read(store.path(&blob.hash)).unwrap()
}

/// Stores `original` whole and byte by byte: both give the same blob, its metadata removed,
/// holding `expected` (and nothing that says GPS). The blob and its stored bytes.
async fn put_filtered(store: &BlobStore, original: &[u8], expected: &[u8]) -> (StoredBlob, Vec<u8>) {
    let whole = put(store, original).await;
    let bytewise = put_chunked(store, original, 1).await;
    assert_eq!(whole, bytewise);
    assert!(whole.metadata_removed);
    let stored = stored_bytes(store, &whole);
    assert_eq!(stored, expected);
    assert!(!stored.windows(3).any(|w| w == b"GPS"));
    (whole, stored)
}

/// The filter gives `expected` however `original` is split in two.
fn assert_every_split_gives(original: &[u8], expected: &[u8]) {
    for split in 0..original.len() {
        let mut filter = Filter::default();
        let mut out = Vec::new();
        filter.feed(&original[..split], &mut out);
        filter.feed(&original[split..], &mut out);
        filter.finish(&mut out);
        assert_eq!(out, expected, "split at {split}");
    }
}

/// Deterministic bytes that do not look like an image.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// Runs `data` through the filters alone in pieces of the given sizes (cycled).
fn filter_in_pieces(data: &[u8], sizes: &[usize]) -> (Vec<u8>, bool) {
    let mut filter = Filter::default();
    let mut out = Vec::new();
    let mut rest = data;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at((*size).min(rest.len()));
        filter.feed(now, &mut out);
        rest = later;
    }
    filter.finish(&mut out);
    (out, filter.removed())
}

fn segment(code: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, code];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A JPEG with every kind of segment, and the same JPEG as it should be stored.
fn sample_jpeg() -> (Vec<u8>, Vec<u8>) {
    let app0 = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut exif_body = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 59.91 N GPSLongitude 10.75 E ".to_vec();
    exif_body.extend(noise(3000));
    let app1 = segment(0xE1, &exif_body);
    let xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta GPS/>");
    let com = segment(0xFE, b"taken at 12 Home Street");
    let app13 = segment(0xED, b"Photoshop 3.0\08BIM GPS");
    let app2 = segment(0xE2, b"ICC_PROFILE\0\x01\x01 profile bytes");
    let dqt = segment(0xDB, &[0u8; 65]);
    let sof = segment(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
    let dht = segment(0xC4, &[0u8; 29]);
    let empty_app1 = segment(0xE1, b"");
    let sos = segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]);
    // Scan data with stuffed zeros and restart markers: they stay. Random bytes would
    // hold FF followed by a marker code, which real entropy-coded data never does.
    let mut scan: Vec<u8> = noise(500).into_iter().map(|b| b & 0x7F).collect();
    scan.extend_from_slice(&[0xFF, 0x00, 0x12, 0xFF, 0xD0, 0x34, 0xFF, 0xFF, 0xD7, 0x56]);
    scan.extend(noise(200).into_iter().map(|b| b & 0x7F));
    // A comment and an APP1 between scans go as well; the next scan stays.
    let between = [segment(0xFE, b"at home"), segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0GPS")].concat();
    let next_scan = [segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]), vec![1, 2, 3, 0xFF, 0xD9]].concat();

    let mut original = vec![0xFF, 0xD8];
    let mut expected = vec![0xFF, 0xD8];
    for (part, kept) in [
        (&app0, true),
        (&app1, false),
        (&xmp, false),
        (&app2, true),
        (&com, false),
        (&dqt, true),
        (&app13, false),
        (&sof, true),
        (&empty_app1, false),
        (&dht, true),
        (&sos, true),
        (&scan, true),
        (&between, false),
        (&next_scan, true),
    ] {
        original.extend_from_slice(part);
        if kept {
            expected.extend_from_slice(part);
        }
    }
    (original, expected)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

/// Inserts chunks into a real PNG right after IHDR (signature 8 + IHDR 25 bytes).
fn with_png_chunks(png: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    for chunk in extra {
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&png[33..]);
    out
}

fn test_image() -> image::RgbImage {
    image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([(x * 8) as u8, (y * 10) as u8, ((x + y) * 3) as u8]))
}

/// How many of a file's pages are in the page cache (`mincore` over a mapping of it).
#[cfg(target_os = "linux")]
fn cached_pages(path: &Path) -> usize {
    use std::os::fd::AsRawFd;
    let file = File::open(path).unwrap();
    let len = file.metadata().unwrap().len() as usize;
    let page = 4096;
    let mut resident = vec![0u8; len.div_ceil(page)];
    // SAFETY: a read-only shared mapping of a whole open file, unmapped before return;
    // `resident` has one byte per page of it, as mincore needs.
    unsafe {
        let map = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0);
        assert_ne!(map, libc::MAP_FAILED);
        assert_eq!(libc::mincore(map, len, resident.as_mut_ptr()), 0);
        libc::munmap(map, len);
    }
    resident.iter().filter(|r| **r & 1 == 1).count()
}

/// A stored file leaves the page cache once it is on the disk (see [`Writeback`]), both
/// a large one written by the loop and a small one written at `finish`; its bytes read
/// back the same.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn stored_files_leave_the_page_cache() {
    let (dir, store) = store();
    // tmpfs keeps its pages (they are the file): nothing to check there.
    // SAFETY: statfs fills the struct it is given for a NUL-terminated path.
    let on_tmpfs = unsafe {
        let mut fs: libc::statfs = std::mem::zeroed();
        let path = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes()).unwrap();
        libc::statfs(path.as_ptr(), &mut fs) == 0 && fs.f_type == libc::TMPFS_MAGIC
    };
    for size in [8 * BUF_SIZE + 5, 1000] {
        let data = noise(size);
        let blob = put_chunked(&store, &data, 65_536).await;
        let path = store.path(&blob.hash);
        if !on_tmpfs {
            assert_eq!(cached_pages(&path), 0, "a {size}-byte file's pages are dropped after its fsync");
        }
        assert_eq!(stored_bytes(&store, &blob), data);
    }
}

#[tokio::test]
async fn round_trip_hash_is_blake3_of_the_data() {
    let (_dir, store) = store();
    // Spans several buffers, in uneven chunks.
    let data = noise(3 * BUF_SIZE + 12_345);
    let blob = put_chunked(&store, &data, 65_537).await;
    assert_eq!(blob.hash.0, *blake3::hash(&data).as_bytes());
    assert_eq!(blob.size, data.len() as u64);
    assert!(!blob.metadata_removed);
    assert_eq!(stored_bytes(&store, &blob), data);
    assert!(store.contains(&blob.hash));
    let hex = blob.hash.to_hex();
    assert_eq!(store.path(&blob.hash), store.inner.root.join(&hex[..2]).join(&hex));
    assert_eq!(store.tmp_count(), 0);
}

#[tokio::test]
async fn empty_and_tiny_files_are_stored() {
    let (_dir, store) = store();
    for data in [&b""[..], b"x", b"\xFF", b"\xFF\xD8", b"\x89PNG\r\n"] {
        let blob = put(&store, data).await;
        assert_eq!(stored_bytes(&store, &blob), data);
        assert_eq!(blob.hash.0, *blake3::hash(data).as_bytes());
    }
    assert_eq!(store.tmp_count(), 0);
}

#[tokio::test]
async fn same_content_twice_is_stored_once() {
    let (_dir, store) = store();
    let data = noise(10_000);
    let a = put(&store, &data).await;
    let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    File::options().write(true).open(store.path(&a.hash)).unwrap().set_modified(old).unwrap();
    assert_eq!(store.modified(&a.hash).unwrap(), old);
    let b = put_chunked(&store, &data, 777).await;
    assert_eq!(a, b);
    // A garbage collection sees the content as newly stored.
    assert!(store.modified(&a.hash).unwrap() > old);
    assert_eq!(store.all().unwrap(), vec![a.hash]);
    let dir = store.path(&a.hash).parent().unwrap().to_path_buf();
    assert_eq!(fs::read_dir(dir).unwrap().count(), 1);
    assert_eq!(store.tmp_count(), 0);
}

#[tokio::test]
async fn too_big_fails_at_once_and_leaves_no_temp_file() {
    let (_dir, store) = store();
    let mut w = store.writer(2500).unwrap();
    assert_eq!(store.tmp_count(), 1);
    w.write(&[1; 1000]).await.unwrap();
    w.write(&[2; 1000]).await.unwrap();
    let err = w.write(&[3; 1000]).await.unwrap_err();
    assert!(matches!(err, BlobError::TooBig { limit: 2500 }), "{err:?}");
    assert_eq!(store.tmp_count(), 0);
    // The writer keeps refusing.
    assert!(matches!(w.write(b"x").await, Err(BlobError::TooBig { .. })));
    assert!(matches!(w.finish().await, Err(BlobError::TooBig { .. })));
    assert_eq!(store.tmp_count(), 0);
    assert!(store.all().unwrap().is_empty());

    // Exactly the limit is fine.
    let mut w = store.writer(2000).unwrap();
    w.write(&[1; 2000]).await.unwrap();
    assert_eq!(w.finish().await.unwrap().size, 2000);

    // A limit crossed in the middle of a large stream, with buffers in flight.
    let mut w = store.writer(3 * BUF_SIZE as u64).unwrap();
    let chunk = noise(100_000);
    let mut result = Ok(());
    for _ in 0..40 {
        result = w.write(&chunk).await;
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(result, Err(BlobError::TooBig { .. })));
    drop(w);
    assert_eq!(store.tmp_count(), 0);
}

#[test]
fn too_big_message_names_the_limit() {
    assert_eq!(BlobError::TooBig { limit: 25_000_000 }.to_string(), "The file is larger than the limit of 25 MB.");
    assert_eq!(human_size(1_500_000_000), "1.5 GB");
    assert_eq!(human_size(500), "500 bytes");
    assert!(BlobError::DiskFull.to_string().contains("disk is full"));
}

#[tokio::test]
async fn a_writer_dropped_without_finish_deletes_its_temp_file() {
    let (_dir, store) = store();
    let mut w = store.writer(u64::MAX).unwrap();
    w.write(&noise(BUF_SIZE + 10)).await.unwrap();
    w.write(b"more").await.unwrap();
    assert_eq!(store.tmp_count(), 1);
    drop(w);
    assert_eq!(store.tmp_count(), 0);

    // Dropped inside a task that is aborted, as when a client goes away.
    let s = store.clone();
    let task = tokio::spawn(async move {
        let mut w = s.writer(u64::MAX).unwrap();
        w.write(b"partial").await.unwrap();
        std::future::pending::<()>().await;
    });
    tokio::task::yield_now().await;
    task.abort();
    let _ = task.await;
    assert_eq!(store.tmp_count(), 0);
    assert!(store.all().unwrap().is_empty());
}

#[test]
fn disk_full_errors_are_recognised() {
    assert!(matches!(map_io(io::Error::from_raw_os_error(28)), BlobError::DiskFull));
    assert!(matches!(map_io(io::Error::from_raw_os_error(EDQUOT)), BlobError::DiskFull));
    assert!(matches!(map_io(io::Error::from_raw_os_error(13)), BlobError::Io(_)));
    assert!(matches!(map_io(io::Error::other("x")), BlobError::Io(_)));
}

/// /dev/full answers every write with ENOSPC: put it under a writer in place of its file.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_reported_and_leaves_no_temp_file() {
    let (_dir, store) = store();
    for sizes in [vec![3 * BUF_SIZE], vec![100]] {
        let mut w = store.writer(u64::MAX).unwrap();
        w.io = IoState::Idle {
            file: fs::OpenOptions::new().write(true).open("/dev/full").unwrap(),
            hasher: Box::default(),
        };
        let mut result = Ok(());
        for size in sizes {
            result = w.write(&noise(size)).await;
        }
        let err = match result {
            Err(e) => e,
            Ok(()) => w.finish().await.unwrap_err(),
        };
        assert!(matches!(err, BlobError::DiskFull), "{err:?}");
        assert_eq!(store.tmp_count(), 0);
    }
    assert!(store.all().unwrap().is_empty());
}

#[tokio::test]
async fn leftover_temp_files_are_deleted_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let kept = put(&store, b"kept").await;
    let w = store.writer(100).unwrap();
    std::mem::forget(w); // as a crash would leave it
    fs::write(dir.path().join("blobs/tmp/old-upload"), b"half").unwrap();
    fs::create_dir(dir.path().join("blobs/tmp/odd-dir")).unwrap();
    assert_eq!(store.tmp_count(), 3);
    drop(store);

    let store = BlobStore::open(dir.path()).unwrap();
    assert_eq!(store.tmp_count(), 0);
    assert_eq!(store.all().unwrap(), vec![kept.hash]);
}

#[tokio::test]
async fn all_lists_only_stored_blobs_and_remove_is_idempotent() {
    let (dir, store) = store();
    let mut hashes = vec![put(&store, b"one").await.hash, put(&store, b"two").await.hash];
    hashes.sort();
    let blobs = dir.path().join("blobs");
    // Things that are not blobs.
    let upper = hashes[0].to_hex().to_uppercase();
    fs::write(store.path(&hashes[0]).parent().unwrap().join(&upper), b"").unwrap();
    fs::create_dir_all(blobs.join("zz")).unwrap();
    fs::write(blobs.join("zz").join(hashes[0].to_hex()), b"").unwrap();
    fs::create_dir_all(blobs.join("ab")).unwrap();
    fs::write(blobs.join("ab").join("not-a-hash"), b"").unwrap();
    let misplaced = BlobHash([0x11; 32]);
    fs::create_dir_all(blobs.join("22")).unwrap();
    fs::write(blobs.join("22").join(misplaced.to_hex()), b"").unwrap();
    fs::write(blobs.join("stray.txt"), b"").unwrap();
    let _in_progress = store.writer(10).unwrap();

    assert_eq!(store.all().unwrap(), hashes);

    store.remove(&hashes[0]).unwrap();
    assert!(!store.contains(&hashes[0]));
    store.remove(&hashes[0]).unwrap();
    assert_eq!(store.all().unwrap(), vec![hashes[1]]);
}

#[test]
fn hashes_parse_only_from_exactly_64_hex_digits() {
    let hash = BlobHash(*blake3::hash(b"x").as_bytes());
    let hex = hash.to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(BlobHash::from_hex(&hex), Some(hash));
    assert_eq!(BlobHash::from_hex(&hex.to_uppercase()), Some(hash));
    assert_eq!(hash.to_string(), hex);
    assert_eq!(format!("{hash:?}"), format!("BlobHash({hex})"));
    for bad in [
        "",
        "../x",
        "../../etc/passwd",
        &hex[..63],
        &hex[..62],
        &format!("{hex}0"),
        &format!(" {}", &hex[1..]),
        &format!("{}g", &hex[..63]),
        &format!("{}/", &hex[..63]),
        &format!("+{}", &hex[1..]),
        &format!("../{}", &hex[3..]),
    ] {
        assert_eq!(BlobHash::from_hex(bad), None, "{bad:?}");
    }
    // A multi-byte character making the byte length 64 is still refused.
    assert_eq!(BlobHash::from_hex(&format!("é{}", &hex[2..])), None);
}

#[test]
fn hashes_serialize_as_hex_strings() {
    let hash = BlobHash(*blake3::hash(b"y").as_bytes());
    let json = serde_json::to_string(&hash).unwrap();
    assert_eq!(json, format!("\"{}\"", hash.to_hex()));
    assert_eq!(serde_json::from_str::<BlobHash>(&json).unwrap(), hash);
    assert!(serde_json::from_str::<BlobHash>("\"../x\"").is_err());
    assert!(serde_json::from_str::<BlobHash>("42").is_err());
}

#[tokio::test]
async fn jpeg_metadata_is_removed_whatever_the_chunk_size() {
    let (_dir, store) = store();
    let (original, expected) = sample_jpeg();
    assert!(original.windows(3).any(|w| w == b"GPS"));

    let (whole, stored) = put_filtered(&store, &original, &expected).await;
    assert!(!stored.windows(6).any(|w| w == b"Photos"));
    assert_eq!(whole.size, expected.len() as u64);
    assert_eq!(whole.hash.0, *blake3::hash(&expected).as_bytes());

    // Every split point and a few odd piece sizes give the same bytes.
    for sizes in [&[2][..], &[3], &[5, 1, 7], &[4096], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] {
        assert_eq!(filter_in_pieces(&original, sizes), (expected.clone(), true), "{sizes:?}");
    }
    assert_every_split_gives(&original, &expected);
    assert_eq!(store.tmp_count(), 0);
}

#[tokio::test]
async fn a_real_jpeg_still_decodes_the_same_without_its_exif() {
    let (_dir, store) = store();
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 90).encode_image(&test_image()).unwrap();
    // EXIF with a GPS IFD, right after SOI, as cameras write it, and a large XMP packet.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0GPSInfo".to_vec();
    exif.extend(noise(60_000));
    let mut with_exif = encoded[..2].to_vec();
    with_exif.extend(segment(0xE1, &exif));
    with_exif.extend(segment(0xE1, &noise(65_000)));
    with_exif.extend_from_slice(&encoded[2..]);

    let blob = put_chunked(&store, &with_exif, 1000).await;
    assert!(blob.metadata_removed);
    let stored = stored_bytes(&store, &blob);
    assert_eq!(stored, encoded);
    let before = image::load_from_memory(&with_exif).unwrap().to_rgb8();
    let after = image::load_from_memory(&stored).unwrap().to_rgb8();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_jpeg_without_metadata_is_unchanged() {
    let (_dir, store) = store();
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 80).encode_image(&test_image()).unwrap();
    let blob = put_chunked(&store, &encoded, 7).await;
    assert!(!blob.metadata_removed);
    assert_eq!(stored_bytes(&store, &blob), encoded);
}

#[test]
fn a_malformed_jpeg_is_filtered_past_the_bad_bytes() {
    // Garbage where a marker should be, after a dropped segment: skipped, as decoders
    // skip it, and the APP1 after it still goes (here cut off by the end of the file).
    let mut bad = vec![0xFF, 0xD8];
    bad.extend(segment(0xE1, b"Exif GPS"));
    bad.extend_from_slice(b"\x12\x34 not a marker \xFF\xE1\x00\x08GPS!!");
    for sizes in [&[1][..], &[1000]] {
        assert_eq!(filter_in_pieces(&bad, sizes), (vec![0xFF, 0xD8], true));
    }

    // A length below 2, then a comment.
    let bad = b"\xFF\xD8\xFF\xE0\x00\x01rest\xFF\xFE\x00\x04ab".to_vec();
    assert_eq!(filter_in_pieces(&bad, &[1]), (vec![0xFF, 0xD8], true));

    // FF 00 before an APP1 that follows.
    let bad = b"\xFF\xD8\xFF\x00\xFF\xE1\x00\x04ab\xFF\xDA\x00\x02scan".to_vec();
    assert_eq!(filter_in_pieces(&bad, &[3]), (b"\xFF\xD8\xFF\xDA\x00\x02scan".to_vec(), true));

    // Fill bytes before a marker are kept; the dropped segment still goes.
    let mut filled = b"\xFF\xD8\xFF\xFF\xFF".to_vec();
    filled.extend(segment(0xFE, b"comment"));
    filled.extend(segment(0xDA, b"\x00"));
    filled.extend_from_slice(b"scan");
    let mut expected = b"\xFF\xD8\xFF\xFF\xFF".to_vec();
    expected.extend(segment(0xDA, b"\x00"));
    expected.extend_from_slice(b"scan");
    assert_eq!(filter_in_pieces(&filled, &[1]), (expected.clone(), true));
    assert_eq!(filter_in_pieces(&filled, &[100]), (expected, true));

    // Cut off in the middle of an application segment's header: dropped.
    let cut = b"\xFF\xD8\xFF\xE0\x00".to_vec();
    assert_eq!(filter_in_pieces(&cut, &[1]), (vec![0xFF, 0xD8], true));
    // ... and of another segment's: kept.
    let cut = b"\xFF\xD8\xFF\xDB\x00".to_vec();
    assert_eq!(filter_in_pieces(&cut, &[1]), (cut.clone(), false));

    // Bytes after the end of the image that do not begin another JPEG are dropped.
    let mut trailer = b"\xFF\xD8\xFF\xDA\x00\x02scan\xFF\xD9".to_vec();
    let expected = trailer.clone();
    trailer.extend_from_slice(b"Exif GPS 59.91 N");
    assert_eq!(filter_in_pieces(&trailer, &[1]), (expected, true));
}

#[tokio::test]
async fn png_text_and_exif_chunks_are_removed_whatever_the_chunk_size() {
    let (_dir, store) = store();
    let mut encoded = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut encoded),
        test_image().as_raw(),
        32,
        24,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    assert_eq!(&encoded[12..16], b"IHDR");
    let gama = png_chunk(b"gAMA", &45455u32.to_be_bytes());
    let metadata = [
        png_chunk(b"eXIf", b"MM\0*\0\0\0\x08GPS 59.91 N"),
        gama.clone(),
        png_chunk(b"tEXt", b"Comment\0at home, GPS 59.91"),
        png_chunk(b"zTXt", b"Author\0\0x\x9c"),
        png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta GPS/>"),
        png_chunk(b"tIME", &[7, 0xE8, 5, 1, 12, 0, 0]),
    ];
    let original = with_png_chunks(&encoded, &metadata);
    let expected = with_png_chunks(&encoded, std::slice::from_ref(&gama));

    let (_, stored) = put_filtered(&store, &original, &expected).await;
    for kind in [b"IHDR", b"IDAT", b"IEND", b"gAMA"] {
        assert!(stored.windows(4).any(|w| w == kind));
    }
    assert_every_split_gives(&original, &expected);
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    let after = image::load_from_memory(&stored).unwrap().to_rgb8();
    assert_eq!(before, after);
    assert_eq!(store.tmp_count(), 0);
}

#[test]
fn png_oddities_are_dropped() {
    // Bytes after IEND are dropped, even ones that look like a text chunk.
    let mut png = PNG_MAGIC.to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    png.extend(png_chunk(b"IEND", b""));
    let mut with_trailer = png.clone();
    with_trailer.extend_from_slice(&png_chunk(b"tEXt", b"k\0v"));
    assert_eq!(filter_in_pieces(&with_trailer, &[1]), (png.clone(), true));
    assert_eq!(filter_in_pieces(&png, &[1]), (png.clone(), false));

    // A chunk type that is not letters ends what a decoder reads: the rest is dropped.
    let mut bad = PNG_MAGIC.to_vec();
    bad.extend(png_chunk(b"tEXt", b"k\0v"));
    bad.extend_from_slice(b"\0\0\0\x04\x01\x02\x03\x04datacrc!");
    bad.extend(png_chunk(b"tEXt", b"k\0v"));
    assert_eq!(filter_in_pieces(&bad, &[1]), (PNG_MAGIC.to_vec(), true));
    assert_eq!(filter_in_pieces(&bad, &[64]), (PNG_MAGIC.to_vec(), true));

    // Ancillary chunks nobody listed go; critical ones stay.
    let mut odd = png[..33].to_vec();
    odd.extend(png_chunk(b"prVt", b"a tool's own data"));
    odd.extend(png_chunk(b"IDAT", b"x"));
    odd.extend(png_chunk(b"IEND", b""));
    let mut expected = png[..33].to_vec();
    expected.extend(png_chunk(b"IDAT", b"x"));
    expected.extend(png_chunk(b"IEND", b""));
    assert_eq!(filter_in_pieces(&odd, &[5]), (expected, true));
}

#[tokio::test]
async fn other_data_is_stored_unchanged() {
    let (_dir, store) = store();
    let mut looks_like = vec![0xFF, 0xD8, 0x00]; // not quite a JPEG
    looks_like.extend(segment(0xE1, b"GPS"));
    let mut almost_png = PNG_MAGIC[..7].to_vec();
    almost_png.extend(png_chunk(b"tEXt", b"GPS"));
    for data in [b"%PDF-1.7 GPS text".to_vec(), looks_like, almost_png, noise(100_000)] {
        for chunk in [1, 3, data.len()] {
            let blob = put_chunked(&store, &data, chunk).await;
            assert!(!blob.metadata_removed);
            assert_eq!(stored_bytes(&store, &blob), data);
            assert_eq!(blob.hash.0, *blake3::hash(&data).as_bytes());
        }
    }
}

#[tokio::test]
async fn stripped_reports_removal_as_it_happens() {
    let (_dir, store) = store();
    let (original, _) = sample_jpeg();
    let mut w = store.writer(u64::MAX).unwrap();
    w.write(&original[..10]).await.unwrap();
    assert!(!w.stripped());
    w.write(&original[10..]).await.unwrap();
    assert!(w.stripped());
    assert_eq!(w.received(), original.len() as u64);
    assert!(w.finish().await.unwrap().metadata_removed);
}

/// `cargo test --release --lib blobs::tests::throughput -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run by hand"]
async fn throughput_against_a_plain_buffered_write() {
    let (dir, store) = store();
    let chunk = noise(64 * 1024);
    let total = 1usize << 29;
    let rounds = total / chunk.len();

    let mut best_plain = f64::MAX;
    let mut best_blob = f64::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let path = dir.path().join("plain");
        {
            let mut out = io::BufWriter::with_capacity(BUF_SIZE, File::create(&path).unwrap());
            for _ in 0..rounds {
                out.write_all(&chunk).unwrap();
            }
            out.into_inner().unwrap().sync_all().unwrap();
        }
        best_plain = best_plain.min(start.elapsed().as_secs_f64());
        fs::remove_file(&path).unwrap();

        let start = std::time::Instant::now();
        let mut w = store.writer(u64::MAX).unwrap();
        for _ in 0..rounds {
            w.write(&chunk).await.unwrap();
        }
        let blob = w.finish().await.unwrap();
        best_blob = best_blob.min(start.elapsed().as_secs_f64());
        store.remove(&blob.hash).unwrap();
    }
    let mb = total as f64 / 1e6;
    println!(
        "plain {:.0} MB/s, blobs {:.0} MB/s, ratio {:.2}",
        mb / best_plain,
        mb / best_blob,
        best_plain / best_blob
    );
}
