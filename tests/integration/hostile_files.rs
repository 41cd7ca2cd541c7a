//! Files that would take the box down (issue 20, item 2): a picture that cannot be previewed is
//! decoded once, not on every request, and still downloads; a file folio died processing is
//! skipped after the restart instead of killing it again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;
use crate::work::upload_ok;

/// A PNG header claiming 11,800 × 11,800 RGB pixels (418 MB decoded), a little data and no
/// end: what a cut-off upload of a huge scan looks like, or a bomb.
fn truncated_huge_png() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = !0u32;
        for &b in &out[start..] {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        out.extend_from_slice(&(!crc).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 11_800u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&11_800u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut zlib, &vec![0u8; 256 * 1024]).unwrap();
    chunk(&mut png, b"IDAT", &zlib.finish().unwrap());
    png
}

fn small_png() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

async fn total(server: &TestServer, client: &reqwest::Client, q: &str) -> u64 {
    let res = client.get(server.url("/api/v1/search")).query(&[("q", q)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["total"].as_u64().unwrap()
}

async fn wait_for_total(server: &TestServer, client: &reqwest::Client, q: &str, want: u64) {
    let what = format!("search for {q:?} never found {want}");
    eventually(Duration::from_secs(20), &what, || async { total(server, client, q).await == want }).await;
}

#[tokio::test]
async fn a_picture_that_cannot_be_previewed_is_decoded_once_and_still_downloads() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let png = truncated_huge_png();
    let work = upload_ok(&server, &room.ana, "Huge scan", vec![("scan.png", png)]).await;
    let file = &work["files"][0];
    let hash = file["hash"].as_str().unwrap().to_string();
    let base = format!("/api/v1/artifacts/{}/files/{}", work["id"].as_str().unwrap(), file["id"].as_str().unwrap());

    // Four at once, then more: no preview, every time, and an answer quickly.
    let started = Instant::now();
    let requests = (0..4).map(|_| room.ana.get(server.url(&format!("{base}/thumbnail"))).send());
    for res in futures_util::future::join_all(requests).await {
        assert_eq!(res.unwrap().status(), StatusCode::NOT_FOUND);
    }
    for _ in 0..3 {
        let res = room.ana.get(server.url(&format!("{base}/thumbnail"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // The failure is remembered on disk, with its reason, so nothing decodes it again (nor
    // after a restart); the thumbnail worker's attempt counted too.
    let mark = server.data_dir.join("quarantine").join(format!("thumbnail-{hash}.failed"));
    let reason = std::fs::read_to_string(&mark).expect("the failure is remembered");
    assert!(reason.contains("too large"), "{reason}");
    assert!(!server.data_dir.join("thumbs").join(format!("{hash}.jpg")).exists());
    // The file itself is untouched and downloads.
    let res = room.ana.get(server.url(&base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len() as u64, file["size"].as_u64().unwrap());
}

#[tokio::test]
async fn a_file_folio_died_processing_is_skipped_after_the_restart() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().to_path_buf();
    let server = TestServer::start_with(data.clone(), |_| {}).await.unwrap();
    let room = classroom(&server).await;
    let work = upload_ok(
        &server,
        &room.ana,
        "Bridges",
        vec![("report.pdf", folio::samples::pdf(&["xylophone cantilever"])), ("bridge.png", small_png())],
    )
    .await;
    wait_for_total(&server, &room.ana, "xylophone", 1).await;
    let (pdf, png) = (&work["files"][0], &work["files"][1]);
    let (pdf_hash, png_hash) = (pdf["hash"].as_str().unwrap(), png["hash"].as_str().unwrap());
    let id = work["id"].as_str().unwrap();
    server.stop().await;

    // What a folio killed (out of memory) while reading the PDF and decoding the picture leaves
    // behind: the started marks, no derived files, and both still on the to-do lists.
    let quarantine = data.join("quarantine");
    std::fs::create_dir_all(&quarantine).unwrap();
    std::fs::write(quarantine.join(format!("text-{pdf_hash}.started")), "").unwrap();
    std::fs::write(quarantine.join(format!("thumbnail-{png_hash}.started")), "").unwrap();
    let _ = std::fs::remove_file(data.join("search").join("text").join(pdf_hash));
    let _ = std::fs::remove_file(data.join("thumbs").join(format!("{png_hash}.jpg")));
    {
        let store = folio::store::Store::open(&data).unwrap();
        store.queue_all_for_search().unwrap();
        store
            .write(|tx| {
                tx.txn().open_table(folio::store::tables::THUMBNAIL_TODO)?.insert(png_hash, "image/png")?;
                Ok::<_, folio::store::StoreError>(())
            })
            .unwrap();
    }

    let server = TestServer::start_with(data.clone(), |_| {}).await.unwrap();
    let ana = server.client();
    server.login(&ana, "ana", "ana-password").await;
    // The work is indexed again without the PDF's text: folio did not read the file it died
    // on (before the fix it read it again, and with a real bomb died again).
    wait_for_total(&server, &ana, "xylophone", 0).await;
    assert_eq!(total(&server, &ana, "bridges").await, 1);
    // The thumbnail worker skipped the picture too, and the to-do row is gone.
    eventually(Duration::from_secs(20), "a started mark was never handled", || async { started_marks(&data) == 0 })
        .await;
    assert!(quarantine.join(format!("text-{pdf_hash}.failed")).exists());
    assert!(!quarantine.join(format!("text-{pdf_hash}.started")).exists());
    // No preview for the picture (not decoded again), and both files still download.
    let thumb = ana.get(server.url(&format!("/api/v1/artifacts/{id}/files/{}/thumbnail", png["id"].as_str().unwrap())));
    assert_eq!(thumb.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert!(!data.join("thumbs").join(format!("{png_hash}.jpg")).exists());
    assert!(quarantine.join(format!("thumbnail-{png_hash}.failed")).exists());
    for file in [pdf, png] {
        let res = ana.get(server.url(&format!("/api/v1/artifacts/{id}/files/{}", file["id"].as_str().unwrap())));
        assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    }
    server.stop().await;
}

/// Started marks left: each is handled (turned into a failed mark) when its file comes up.
fn started_marks(data: &std::path::Path) -> usize {
    std::fs::read_dir(data.join("quarantine"))
        .map(|dir| dir.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".started")).count())
        .unwrap_or(0)
}
