//! Resumable uploads (tus 1.0) end to end: creation, HEAD and PATCH; a PATCH whose connection
//! is cut part-way and resumed; checksums; offsets; termination; other people's uploads;
//! limits; expiry; restarts; using finished uploads in artifacts and versions; EXIF removal.

use std::time::Duration;

use base64::Engine;
use reqwest::multipart::Form;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::support::*;
use crate::work::{bytes_of, jpeg_with_gps, stored_blobs};

/// One seed for every upload here, so a shorter upload's bytes are a prefix of a longer one's.
const TUS_SEED: u64 = 1;

/// `Upload-Metadata` from plain pairs.
fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", base64::engine::general_purpose::STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn sha256_hex(data: &[u8]) -> String {
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

fn tus(client: &Client, method: Method, url: String) -> reqwest::RequestBuilder {
    client.request(method, url).header("tus-resumable", "1.0.0")
}

async fn create(server: &TestServer, client: &Client, length: u64, meta: &str) -> Response {
    let mut req = tus(client, Method::POST, server.url("/api/v1/uploads")).header("upload-length", length);
    if !meta.is_empty() {
        req = req.header("upload-metadata", meta);
    }
    req.send().await.unwrap()
}

/// Creates an upload and returns its Location (a path).
async fn create_ok(server: &TestServer, client: &Client, length: u64, meta: &str) -> String {
    let res = create(server, client, length, meta).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.headers()["location"].to_str().unwrap().to_string()
}

async fn patch(server: &TestServer, client: &Client, location: &str, offset: u64, bytes: Vec<u8>) -> Response {
    tus(client, Method::PATCH, server.url(location))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn patch_ok(server: &TestServer, client: &Client, location: &str, offset: u64, bytes: Vec<u8>) -> u64 {
    let len = bytes.len() as u64;
    let res = patch(server, client, location, offset, bytes).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.text().await.unwrap());
    let new_offset: u64 = res.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
    assert_eq!(new_offset, offset + len);
    new_offset
}

async fn head(server: &TestServer, client: &Client, location: &str) -> Response {
    tus(client, Method::HEAD, server.url(location)).send().await.unwrap()
}

fn offset_of(res: &Response) -> u64 {
    res.headers()["upload-offset"].to_str().unwrap().parse().unwrap()
}

/// Uploads `data` in `chunk`-sized PATCHes; returns the Location.
async fn upload_whole(server: &TestServer, client: &Client, data: &[u8], meta: &str, chunk: usize) -> String {
    let location = create_ok(server, client, data.len() as u64, meta).await;
    let mut offset = 0;
    for piece in data.chunks(chunk.max(1)) {
        offset = patch_ok(server, client, &location, offset, piece.to_vec()).await;
    }
    location
}

/// `POST /api/v1/artifacts` with the given fields and `upload` parts.
async fn artifact_with(server: &TestServer, client: &Client, title: &str, uploads: &[&str]) -> Response {
    let mut form = Form::new().text("title", title.to_string());
    for u in uploads {
        form = form.text("upload", u.to_string());
    }
    client.post(server.url("/api/v1/artifacts")).multipart(form).send().await.unwrap()
}

async fn artifact_ok(server: &TestServer, client: &Client, title: &str, uploads: &[&str]) -> Value {
    let res = artifact_with(server, client, title, uploads).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn file_url(artifact: &Value, index: usize) -> String {
    format!(
        "/api/v1/artifacts/{}/files/{}",
        artifact["id"].as_str().unwrap(),
        artifact["files"][index]["id"].as_str().unwrap()
    )
}

/// Files in `<data>/uploads/` (unfinished uploads).
fn partial_files(server: &TestServer) -> usize {
    std::fs::read_dir(server.data_dir.join("uploads")).map(|d| d.count()).unwrap_or(0)
}

async fn error_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn creation_head_and_patches_round_trip_into_an_artifact() {
    let server = TestServer::start().await;
    let Classroom { ana, .. } = classroom(&server).await;

    let res = ana.request(Method::OPTIONS, server.url("/api/v1/uploads")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    assert_eq!(res.headers()["tus-version"], "1.0.0");
    assert_eq!(res.headers()["tus-extension"], "creation,termination,expiration");
    assert_eq!(res.headers()["tus-max-size"], (2u64 << 30).to_string().as_str());

    let data = noise(300_000, TUS_SEED);
    let meta = metadata(&[("filename", "../Río trip.mp4"), ("filetype", "video/mp4")]);
    let res = create(&server, &ana, data.len() as u64, &meta).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let id = location.strip_prefix("/api/v1/uploads/").unwrap().to_string();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{location}");
    let expires = httpdate::parse_http_date(res.headers()["upload-expires"].to_str().unwrap()).unwrap();
    let ahead = expires.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(ahead > Duration::from_secs(23 * 3600) && ahead <= Duration::from_secs(24 * 3600), "{ahead:?}");

    let res = head(&server, &ana, &location).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(offset_of(&res), 0);
    assert_eq!(res.headers()["upload-length"], "300000");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["upload-metadata"], meta.as_str());

    let mut offset = 0;
    for piece in data.chunks(128 * 1024) {
        offset = patch_ok(&server, &ana, &location, offset, piece.to_vec()).await;
        assert_eq!(offset_of(&head(&server, &ana, &location).await), offset);
    }
    assert_eq!(partial_files(&server), 0, "a finished upload's file is in the blob store");

    // Used by its full address: the file keeps the metadata's name, made safe.
    let artifact = artifact_ok(&server, &ana, "Trip", &[&server.url(&location)]).await;
    let file = &artifact["files"][0];
    assert_eq!(file["name"], "Río trip.mp4");
    assert_eq!(file["size"], data.len());
    assert_eq!(file["hash"], blake3::hash(&data).to_hex().as_str());
    assert_eq!(bytes_of(&server, &ana, &file_url(&artifact, 0)).await, data);

    // Used up: the id no longer resolves, and cannot be used twice.
    assert_eq!(head(&server, &ana, &location).await.status(), StatusCode::NOT_FOUND);
    let (status, body) = error_of(artifact_with(&server, &ana, "Again", &[&id]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("Upload the file again"), "{body}");
}

#[tokio::test]
async fn malformed_requests_are_refused_in_plain_words() {
    let server = TestServer::start().await;
    let Classroom { ana, .. } = classroom(&server).await;
    let url = server.url("/api/v1/uploads");

    // Another protocol version, or none: 412 with the version spoken.
    for version in [Some("0.2.2"), None] {
        let mut req = ana.post(&url).header("upload-length", 10);
        if let Some(v) = version {
            req = req.header("tus-resumable", v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(res.headers()["tus-version"], "1.0.0");
    }
    for (length, meta) in
        [(Some("-1"), ""), (Some("ten"), ""), (Some("1e3"), ""), (None, ""), (Some("10"), "filename ***")]
    {
        let mut req = tus(&ana, Method::POST, url.clone());
        if let Some(l) = length {
            req = req.header("upload-length", l);
        }
        if !meta.is_empty() {
            req = req.header("upload-metadata", meta);
        }
        let (status, body) = error_of(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{length:?} {meta:?}");
        assert_eq!(body["error"], "bad_request");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }

    let location = create_ok(&server, &ana, 10, "").await;
    let res = tus(&ana, Method::PATCH, server.url(&location))
        .header("content-type", "application/octet-stream")
        .header("upload-offset", 0)
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = tus(&ana, Method::PATCH, server.url(&location))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "zero")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(offset_of(&head(&server, &ana, &location).await), 0);

    // Signed out: 401; from another site: refused.
    let stranger = server.client();
    assert_eq!(create(&server, &stranger, 10, "").await.status(), StatusCode::UNAUTHORIZED);
    let res = tus(&ana, Method::POST, url.clone())
        .header("upload-length", 10)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// The session cookie of a person, for a raw HTTP client.
async fn session_cookie(server: &TestServer, username: &str) -> String {
    let res = Client::new()
        .post(server.url("/api/v1/login"))
        .json(&serde_json::json!({"username": username, "password": format!("{username}-password")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

/// Sends a PATCH that announces all of `body` but delivers only its first `sent` bytes, then
/// closes the connection, as a tablet losing the Wi-Fi does.
async fn cut_patch(server: &TestServer, cookie: &str, location: &str, offset: u64, body: &[u8], sent: usize) {
    let addr = server.url.strip_prefix("http://").unwrap().to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for piece in body[..sent].chunks(64 * 1024) {
        tcp.write_all(piece).await.unwrap();
    }
    tcp.flush().await.unwrap();
    tcp.shutdown().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(tcp);
}

#[tokio::test]
async fn an_upload_cut_at_40_percent_resumes_where_head_says_and_arrives_whole() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let cookie = session_cookie(&server, "ana").await;
    let data = noise(5 * 1024 * 1024 + 123, TUS_SEED);
    let meta = metadata(&[("filename", "clip.mov"), ("sha256", &sha256_hex(&data))]);
    let location = create_ok(&server, &room.ana, data.len() as u64, &meta).await;

    let cut = data.len() * 2 / 5;
    cut_patch(&server, &cookie, &location, 0, &data, cut).await;
    // The bytes that arrived before the connection broke were kept and counted.
    let res = head(&server, &room.ana, &location).await;
    assert_eq!(res.status(), StatusCode::OK);
    let offset = offset_of(&res);
    assert_eq!(offset, cut as u64);
    assert_eq!(std::fs::metadata(server.data_dir.join("uploads").join(&location[16..])).unwrap().len(), offset);

    // Continuing from anywhere else is refused; from the offset it completes.
    assert_eq!(patch(&server, &room.ana, &location, 0, data.clone()).await.status(), StatusCode::CONFLICT);
    patch_ok(&server, &room.ana, &location, offset, data[offset as usize..].to_vec()).await;

    let artifact = artifact_ok(&server, &room.ana, "Clip", &[&location]).await;
    assert_eq!(artifact["files"][0]["hash"], blake3::hash(&data).to_hex().as_str());
    assert_eq!(artifact["files"][0]["name"], "clip.mov");
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&artifact, 0)).await, data, "exactly the original bytes");
}

#[tokio::test]
async fn an_upload_resumes_after_a_restart_without_bytes_the_box_never_confirmed() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |_| {}).await.unwrap();
    let room = classroom(&server).await;
    let data = noise(700_000, TUS_SEED);
    let meta = metadata(&[("filename", "song.ogg"), ("blake3", &blake3::hash(&data).to_hex())]);
    let location = create_ok(&server, &room.ana, data.len() as u64, &meta).await;
    patch_ok(&server, &room.ana, &location, 0, data[..300_000].to_vec()).await;
    server.stop().await;

    // As a crash in the middle of a PATCH leaves it: bytes on disk past the durable offset.
    let file = temp.path().join("uploads").join(&location[16..]);
    let mut raw = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    std::io::Write::write_all(&mut raw, &[0xEE; 5000]).unwrap();
    drop(raw);

    let server = TestServer::start_with(temp.path().to_path_buf(), |_| {}).await.unwrap();
    let ana = server.client();
    server.login(&ana, "ana", "ana-password").await;
    let res = head(&server, &ana, &location).await;
    assert_eq!(res.status(), StatusCode::OK, "a fresh start keeps what can be resumed");
    assert_eq!(offset_of(&res), 300_000);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 300_000, "unconfirmed bytes were cut off");
    patch_ok(&server, &ana, &location, 300_000, data[300_000..].to_vec()).await;
    let artifact = artifact_ok(&server, &ana, "Song", &[&location]).await;
    assert_eq!(bytes_of(&server, &ana, &file_url(&artifact, 0)).await, data);
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_checksum_is_refused_with_460_and_the_upload_cannot_be_used() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let data = noise(200_000, TUS_SEED);
    let blobs_before = stored_blobs(&server);
    for key in ["sha256", "blake3"] {
        let wrong =
            if key == "sha256" { sha256_hex(b"other bytes") } else { blake3::hash(b"other").to_hex().to_string() };
        let location = create_ok(&server, &room.ana, data.len() as u64, &metadata(&[(key, &wrong)])).await;
        patch_ok(&server, &room.ana, &location, 0, data[..100_000].to_vec()).await;
        let (status, body) =
            error_of(patch(&server, &room.ana, &location, 100_000, data[100_000..].to_vec()).await).await;
        assert_eq!(status.as_u16(), 460, "{key}");
        assert_eq!(body["error"], "checksum_mismatch");
        assert!(body["message"].as_str().unwrap().contains(key), "{body}");
        assert_eq!(head(&server, &room.ana, &location).await.status(), StatusCode::NOT_FOUND, "discarded");
        let (status, _) = error_of(artifact_with(&server, &room.ana, "Broken", &[&location]).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(stored_blobs(&server), blobs_before, "nothing of it was stored");
    assert_eq!(partial_files(&server), 0);

    // The right digests pass.
    let meta = metadata(&[("sha256", &sha256_hex(&data).to_uppercase())]);
    let location = upload_whole(&server, &room.ana, &data, &meta, 64 * 1024).await;
    artifact_ok(&server, &room.ana, "Fine", &[&location]).await;
}

#[tokio::test]
async fn offsets_must_match_and_bytes_past_the_length_are_refused() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let location = create_ok(&server, &room.ana, 100, "").await;
    let (status, body) = error_of(patch(&server, &room.ana, &location, 5, vec![1; 10]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().contains("at byte 0"), "{body}");
    patch_ok(&server, &room.ana, &location, 0, vec![1; 40]).await;
    assert_eq!(patch(&server, &room.ana, &location, 0, vec![1; 10]).await.status(), StatusCode::CONFLICT);
    assert_eq!(patch(&server, &room.ana, &location, 50, vec![1; 10]).await.status(), StatusCode::CONFLICT);

    // 61 bytes where 60 are left: refused whole (announced length), and streamed without one.
    assert_eq!(patch(&server, &room.ana, &location, 40, vec![2; 61]).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(vec![2u8; 30]), Ok(vec![2u8; 31])]);
    let res = tus(&room.ana, Method::PATCH, server.url(&location))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", 40)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(offset_of(&head(&server, &room.ana, &location).await), 40, "nothing of those was kept");

    // An unfinished upload cannot make an artifact.
    let (status, body) = error_of(artifact_with(&server, &room.ana, "Soon", &[&location]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().contains("not finished"), "{body}");
    assert_eq!(offset_of(&head(&server, &room.ana, &location).await), 40);

    patch_ok(&server, &room.ana, &location, 40, vec![3; 60]).await;
    // The last PATCH sent again (its answer lost): answered again; more bytes: refused.
    let res = patch(&server, &room.ana, &location, 100, Vec::new()).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&res), 100);
    assert_eq!(patch(&server, &room.ana, &location, 100, vec![1]).await.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn delete_removes_the_upload_and_its_bytes() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let location = create_ok(&server, &room.ana, 1000, "").await;
    patch_ok(&server, &room.ana, &location, 0, vec![9; 400]).await;
    assert_eq!(partial_files(&server), 1);
    let res = tus(&room.ana, Method::DELETE, server.url(&location)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(partial_files(&server), 0, "the partial file is gone");
    assert_eq!(head(&server, &room.ana, &location).await.status(), StatusCode::NOT_FOUND);
    let res = tus(&room.ana, Method::DELETE, server.url(&location)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A finished, unused upload: its blob goes too.
    let blobs_before = stored_blobs(&server);
    let location = upload_whole(&server, &room.ana, &noise(5000, TUS_SEED), "", 5000).await;
    assert_eq!(stored_blobs(&server), blobs_before + 1);
    let res = tus(&room.ana, Method::DELETE, server.url(&location)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(stored_blobs(&server), blobs_before);
}

#[tokio::test]
async fn another_persons_upload_does_not_exist_for_you() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let data = noise(1000, TUS_SEED);
    let unfinished = create_ok(&server, &room.ana, 2000, "").await;
    let finished = upload_whole(&server, &room.ana, &data, "", 1000).await;
    for location in [&unfinished, &finished] {
        assert_eq!(head(&server, &room.ben, location).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(patch(&server, &room.ben, location, 0, vec![1; 10]).await.status(), StatusCode::NOT_FOUND);
        let res = tus(&room.ben, Method::DELETE, server.url(location)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let (status, _) = error_of(artifact_with(&server, &room.ben, "Not mine", &[location]).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Unknown ids and non-ids answer the same.
    for location in ["/api/v1/uploads/0123456789abcdef0123456789abcdef", "/api/v1/uploads/nope"] {
        assert_eq!(head(&server, &room.ben, location).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        error_of(artifact_with(&server, &room.ben, "x", &["../../x"]).await).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Ana's are untouched, even while she is sending: asking about her upload stops her
    // PATCH only when she asks herself.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let sending = tus(&room.ana, Method::PATCH, server.url(&unfinished))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", 0)
        .header("content-length", 2000)
        .body(body)
        .send();
    let sending = tokio::spawn(sending);
    tx.send(Ok(vec![5; 1000])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(head(&server, &room.ben, &unfinished).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(patch(&server, &room.ben, &unfinished, 0, vec![1]).await.status(), StatusCode::NOT_FOUND);
    let res = tus(&room.ben, Method::DELETE, server.url(&unfinished)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        error_of(artifact_with(&server, &room.ben, "x", &[&unfinished]).await).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    tx.send(Ok(vec![6; 1000])).await.unwrap();
    drop(tx);
    let res = sending.await.unwrap().unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.text().await.unwrap());
    assert_eq!(offset_of(&head(&server, &room.ana, &unfinished).await), 2000);
    let artifact = artifact_ok(&server, &room.ana, "Mine", &[&finished]).await;
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&artifact, 0)).await, data);
}

#[tokio::test]
async fn files_over_the_limit_and_portfolios_over_quota_get_413() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| {
        c.max_file_bytes = 100_000;
        c.student_quota_bytes = 250_000;
    })
    .await
    .unwrap();
    let room = classroom(&server).await;
    let res = ana_options(&server, &room.ana).await;
    assert_eq!(res.headers()["tus-max-size"], "100000");
    let (status, body) = error_of(create(&server, &room.ana, 100_001, "").await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["message"].as_str().unwrap().contains("too big"), "{body}");

    // Uploads in progress take their size from the quota at once.
    let first = create_ok(&server, &room.ana, 100_000, "").await;
    let _second = create_ok(&server, &room.ana, 100_000, "").await;
    let (status, body) = error_of(create(&server, &room.ana, 60_000, "").await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["message"].as_str().unwrap().contains("portfolio is full"), "{body}");
    // Multipart uploads see the same room.
    let res =
        crate::work::upload(&server, &room.ana, &[("title", "x")], vec![("x.bin", noise(60_000, TUS_SEED))]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Deleting one gives its room back.
    tus(&room.ana, Method::DELETE, server.url(&first)).send().await.unwrap();
    create_ok(&server, &room.ana, 60_000, "").await;
    assert_eq!(partial_files(&server), 2);
}

async fn ana_options(server: &TestServer, client: &Client) -> Response {
    client.request(Method::OPTIONS, server.url("/api/v1/uploads")).send().await.unwrap()
}

#[tokio::test]
async fn expired_uploads_answer_410_and_housekeeping_removes_them() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| c.upload_expiry = Duration::from_millis(1500))
        .await
        .unwrap();
    let room = classroom(&server).await;
    let blobs_before = stored_blobs(&server);
    let touched = create_ok(&server, &room.ana, 1000, "").await;
    let untouched = create_ok(&server, &room.ana, 1000, "").await;
    patch_ok(&server, &room.ana, &touched, 0, vec![1; 500]).await;
    patch_ok(&server, &room.ana, &untouched, 0, vec![1; 10]).await;
    let finished = upload_whole(&server, &room.ana, &noise(3000, TUS_SEED), "", 3000).await;
    assert_eq!(stored_blobs(&server), blobs_before + 1);
    assert_eq!(partial_files(&server), 2);

    // Activity moves the expiry on.
    tokio::time::sleep(Duration::from_millis(800)).await;
    patch_ok(&server, &room.ana, &touched, 500, vec![1; 100]).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(offset_of(&head(&server, &room.ana, &touched).await), 600, "still alive after its PATCH");

    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body) = error_of(head(&server, &room.ana, &touched).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body, Value::Null, "HEAD has no body");
    assert_eq!(patch(&server, &room.ana, &touched, 600, vec![1]).await.status(), StatusCode::NOT_FOUND);
    let (status, _) = error_of(artifact_with(&server, &room.ana, "Late", &[&finished]).await).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::GONE, "{status}");

    // Housekeeping removes the rest without being asked: files, rows and the unused blob.
    // (Each upload's row goes, then its file, one upload at a time: so wait for all three.)
    let mut waited = Duration::ZERO;
    while (partial_files(&server) > 0
        || stored_blobs(&server) > blobs_before
        || head(&server, &room.ana, &untouched).await.status() != StatusCode::NOT_FOUND)
        && waited < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    assert_eq!(partial_files(&server), 0);
    assert_eq!(stored_blobs(&server), blobs_before);
    assert_eq!(head(&server, &room.ana, &untouched).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn finished_uploads_make_artifacts_and_versions_in_form_order() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (a, b) = (noise(40_000, TUS_SEED), b"second file, as text\n".repeat(100));
    let first = upload_whole(&server, &room.ana, &a, &metadata(&[("filename", "a.bin")]), 16_000).await;
    let second = upload_whole(&server, &room.ana, &b, &metadata(&[("filename", "notes.txt")]), 1000).await;

    // An upload beside a multipart file, in the form's order.
    let form = Form::new()
        .text("title", "Mixed")
        .text("upload", first.clone())
        .part("file", reqwest::multipart::Part::bytes(b"inline".to_vec()).file_name("inline.txt"));
    let res = room.ana.post(server.url("/api/v1/artifacts")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact: Value = res.json().await.unwrap();
    let names: Vec<&str> = artifact["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a.bin", "inline.txt"]);
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&artifact, 0)).await, a);

    // A version from an upload, named by its bare id.
    let id = artifact["id"].as_str().unwrap();
    let bare = second.rsplit('/').next().unwrap();
    let form = Form::new().text("note", "now with notes").text("upload", bare.to_string());
    let res =
        room.ana.post(server.url(&format!("/api/v1/artifacts/{id}/versions"))).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let version: Value = res.json().await.unwrap();
    assert_eq!(version["files"][0]["name"], "notes.txt");
    assert_eq!(version["files"][0]["content_type"], "text/plain");
    let url = version["files"][0]["url"].as_str().unwrap();
    assert_eq!(bytes_of(&server, &room.ana, url).await, b);
    assert_eq!(head(&server, &room.ana, &second).await.status(), StatusCode::NOT_FOUND, "used up");

    // A version from an unfinished upload, or one used already: refused, nothing recorded.
    let unfinished = create_ok(&server, &room.ana, 10, "").await;
    for (upload, expected) in [(&unfinished, StatusCode::CONFLICT), (&second, StatusCode::UNPROCESSABLE_ENTITY)] {
        let form = Form::new().text("upload", upload.clone());
        let res = room
            .ana
            .post(server.url(&format!("/api/v1/artifacts/{id}/versions")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }
    let res = server.get(&room.ana, &format!("/api/v1/artifacts/{id}")).await;
    assert_eq!(json_of(res).await["versions"].as_array().unwrap().len(), 2);

    // A retry of an artifact request with the same id is answered with the artifact it made,
    // although its upload is used up.
    let third = upload_whole(&server, &room.ana, &noise(999, TUS_SEED), "", 999).await;
    let made_on_device = "01900000-0000-7000-8000-0000000000aa";
    let send = || {
        let form = Form::new().text("title", "Once").text("id", made_on_device).text("upload", third.clone());
        room.ana.post(server.url("/api/v1/artifacts")).multipart(form).send()
    };
    let res = send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(json_of(again).await["id"], made_on_device);
}

#[tokio::test]
async fn a_photo_uploaded_with_tus_loses_its_gps_position() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let photo = jpeg_with_gps();
    assert!(photo.windows(3).any(|w| w == b"GPS"));
    // Split inside the EXIF segment.
    let location = upload_whole(&server, &room.ana, &photo, &metadata(&[("filename", "IMG_0001.JPG")]), 100).await;
    let artifact = artifact_ok(&server, &room.ana, "Garden", &[&location]).await;
    assert_eq!(artifact["kind"], "image");
    let file = &artifact["files"][0];
    assert_eq!(file["content_type"], "image/jpeg");
    let served = bytes_of(&server, &room.ana, &file_url(&artifact, 0)).await;
    assert!(!served.windows(3).any(|w| w == b"GPS") && !served.windows(4).any(|w| w == b"Exif"));
    assert!(served.len() < photo.len());
    assert_eq!(file["size"], served.len());
    assert_eq!(file["hash"], blake3::hash(&served).to_hex().as_str());
    assert!(image::load_from_memory(&served).is_ok(), "still a valid picture");
    // No copy with the position is left anywhere in the data folder's files.
    assert_eq!(partial_files(&server), 0);
}

#[tokio::test]
async fn erasing_a_student_removes_their_uploads() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let blobs_before = stored_blobs(&server);
    let unfinished = create_ok(&server, &room.ana, 1000, "").await;
    patch_ok(&server, &room.ana, &unfinished, 0, vec![1; 100]).await;
    upload_whole(&server, &room.ana, &noise(2000, TUS_SEED), "", 2000).await;
    let bens = upload_whole(&server, &room.ben, &noise(3000, TUS_SEED), "", 3000).await;
    assert_eq!((partial_files(&server), stored_blobs(&server)), (1, blobs_before + 2));

    let res = room.admin.post(server.url(&format!("/api/v1/users/{}/erase", room.ana_id))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(partial_files(&server), 0, "her unfinished upload's bytes are gone");
    assert_eq!(stored_blobs(&server), blobs_before + 1, "her finished upload's file is gone, Ben's stays");
    artifact_ok(&server, &room.ben, "Still mine", &[&bens]).await;
}
