//! Photos and videos lose their location on the real upload path (multipart upload, then
//! download): the stored bytes no longer hold the GPS position, and a portrait phone photo
//! is still upright, its thumbnail too. Every format is covered in `folio::metadata`'s unit
//! tests; this checks the path a browser takes.

use reqwest::StatusCode;

use crate::support::{TestServer, classroom};
use crate::work::{bytes_of, upload_ok};

const SECRET: &[u8] = b"59.9127";

fn leaks(bytes: &[u8]) -> bool {
    bytes.windows(SECRET.len()).any(|w| w == SECRET)
}

/// EXIF as phones write it: IFD0 with Orientation and a GPS IFD pointer; the GPS IFD with
/// a map datum naming the place.
fn exif(orientation: u16) -> Vec<u8> {
    let mut t = b"Exif\0\0MM\0\x2A\0\0\0\x08\0\x02".to_vec();
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    // GPS IFD right after IFD0 (8 + 2 + 24 + 4 = 38).
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    let datum = b"GPS 59.9127N 10.7461E\0";
    t.extend_from_slice(&[0, 1, 0, 0x12, 0, 2]);
    t.extend_from_slice(&(datum.len() as u32).to_be_bytes());
    t.extend_from_slice(&(38u32 + 2 + 12 + 4).to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(datum);
    t
}

fn jpeg(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&img).unwrap();
    let exif = exif(orientation);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

fn bmff_box(kind: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut b = (8 + payload.len() as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

#[tokio::test]
async fn uploaded_photos_and_videos_lose_their_location_and_stay_upright() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    // A portrait phone photo (landscape pixels, "rotate 90°") with a second picture
    // appended, as multi-picture phone photos are.
    let mut photo = jpeg(400, 200, 6);
    photo.extend(jpeg(40, 20, 1));
    // A phone video with `moov` at the end and the place in `moov/udta/©xyz`.
    let mut movie = bmff_box(b"ftyp", b"qt  \0\0\0\0qt  ");
    movie.extend(bmff_box(b"mdat", &[7u8; 500]));
    let xyz = bmff_box(b"\xA9xyz", b"\0\x13\x15\xC7+59.9127+010.7461/");
    movie.extend(bmff_box(b"moov", &[bmff_box(b"mvhd", &[0u8; 100]), bmff_box(b"udta", &xyz)].concat()));
    assert!(leaks(&photo) && leaks(&movie));

    let artifact =
        upload_ok(&server, &room.ana, "Trip", vec![("IMG_0001.JPG", photo.clone()), ("IMG_0002.MOV", movie.clone())])
            .await;
    let id = artifact["id"].as_str().unwrap();
    let files = artifact["files"].as_array().unwrap();
    let url = |i: usize| format!("/api/v1/artifacts/{id}/files/{}", files[i]["id"].as_str().unwrap());
    assert_eq!(files[0]["content_type"], "image/jpeg");
    assert_eq!(files[1]["content_type"], "video/quicktime");

    let served_photo = bytes_of(&server, &room.ana, &url(0)).await;
    assert!(!leaks(&served_photo), "the photo still holds its place");
    use image::ImageDecoder;
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&served_photo)).unwrap();
    assert_eq!(decoder.orientation().unwrap(), image::metadata::Orientation::Rotate90, "the photo stays upright");

    let served_movie = bytes_of(&server, &room.ana, &url(1)).await;
    assert!(!leaks(&served_movie), "the movie still holds its place");
    assert_eq!(served_movie.len(), movie.len(), "nothing in the movie moved");
    assert_eq!(served_movie[..8 + 20 + 508], movie[..8 + 20 + 508], "ftyp and mdat are untouched");

    let thumb = room.ana.get(server.url(&format!("{}/thumbnail", url(0)))).send().await.unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert!(thumb.height() > thumb.width(), "the thumbnail is portrait: {}x{}", thumb.width(), thumb.height());
}
