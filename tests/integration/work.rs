//! Student work end to end: uploads of every size, limits and a full disk, hostile names,
//! serving (Range, attachments, stripped EXIF), versions, feedback and comments, activities,
//! deleting and erasure.

use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

pub fn form(fields: &[(&str, &str)], files: Vec<(&str, Vec<u8>)>) -> Form {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        form = form.part("file", Part::bytes(bytes).file_name(name.to_string()));
    }
    form
}

pub async fn upload(
    server: &TestServer,
    client: &Client,
    fields: &[(&str, &str)],
    files: Vec<(&str, Vec<u8>)>,
) -> reqwest::Response {
    client.post(server.url("/api/v1/artifacts")).multipart(form(fields, files)).send().await.unwrap()
}

pub async fn upload_ok(server: &TestServer, client: &Client, title: &str, files: Vec<(&str, Vec<u8>)>) -> Value {
    let res = upload(server, client, &[("title", title)], files).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn tmp_files(server: &TestServer) -> usize {
    std::fs::read_dir(server.data_dir.join("blobs/tmp")).map(|d| d.count()).unwrap_or(0)
}

/// Files in the content-addressed store (`blobs/<2 hex>/<hash>`), read from disk.
pub fn stored_blobs(server: &TestServer) -> usize {
    let Ok(dirs) = std::fs::read_dir(server.data_dir.join("blobs")) else { return 0 };
    dirs.flatten()
        .filter(|d| d.file_name() != "tmp" && d.path().is_dir())
        .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
        .sum()
}

fn blob_exists(server: &TestServer, hash: &str) -> bool {
    server.data_dir.join("blobs").join(&hash[..2]).join(hash).exists()
}

pub async fn bytes_of(server: &TestServer, client: &Client, url: &str) -> Vec<u8> {
    let res = client.get(server.url(url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn empty_one_byte_and_many_file_uploads_round_trip() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let many: Vec<(&str, Vec<u8>)> =
        (0..12).map(|i| ("part.txt", format!("file number {i}\n").repeat(i + 1).into_bytes())).collect();
    for files in [vec![("empty.txt", Vec::new())], vec![("one.bin", vec![0x42])], many] {
        let expected: Vec<Vec<u8>> = files.iter().map(|f| f.1.clone()).collect();
        let artifact = upload_ok(&server, &room.ana, "My work", files).await;
        let listed = artifact["files"].as_array().unwrap();
        assert_eq!(listed.len(), expected.len());
        for (file, bytes) in listed.iter().zip(expected) {
            assert_eq!(file["size"], bytes.len());
            assert_eq!(file["hash"], blake3::hash(&bytes).to_hex().as_str());
            let url = format!(
                "/api/v1/artifacts/{}/files/{}",
                artifact["id"].as_str().unwrap(),
                file["id"].as_str().unwrap()
            );
            assert_eq!(bytes_of(&server, &room.ana, &url).await, bytes);
        }
    }
    assert_eq!(tmp_files(&server), 0);
}

#[tokio::test]
async fn the_same_content_is_stored_once() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let before = stored_blobs(&server);
    upload_ok(&server, &room.ana, "One", vec![("a.txt", b"same bytes".to_vec())]).await;
    upload_ok(&server, &room.ben, "Two", vec![("b.txt", b"same bytes".to_vec())]).await;
    assert_eq!(stored_blobs(&server), before + 1);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_leaves_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| c.max_file_bytes = 1024 * 1024).await.unwrap();
    let room = classroom(&server).await;
    let ops_before = op_count(&server);
    let res = upload(&server, &room.ana, &[("title", "Too big")], vec![("big.bin", vec![7u8; 3 * 1024 * 1024])]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("too big"), "{body}");
    assert_eq!(tmp_files(&server), 0, "no half-written file");
    assert_eq!(stored_blobs(&server), 0);
    assert_eq!(op_count(&server), ops_before, "the store is untouched");
    upload_ok(&server, &room.ana, "Fits", vec![("ok.bin", vec![1u8; 1000])]).await;
}

#[tokio::test]
async fn a_student_over_quota_is_told_their_portfolio_is_full() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| c.student_quota_bytes = 100_000).await.unwrap();
    let room = classroom(&server).await;
    upload_ok(&server, &room.ana, "First", vec![("a.bin", vec![1u8; 80_000])]).await;
    let res = upload(&server, &room.ana, &[("title", "Second")], vec![("b.bin", vec![2u8; 80_000])]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("portfolio is full"));
    assert_eq!(tmp_files(&server), 0);
}

pub fn op_count(server: &TestServer) -> u64 {
    use folio::store::Queries;
    // The server holds the database open; count through a read-only copy of the file.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(db_path(&server.data_dir), db_path(copy.path())).unwrap();
    let store = folio::store::Store::open(copy.path()).unwrap();
    store.read(|r| r.op_count()).unwrap()
}

#[tokio::test]
async fn a_full_disk_answers_507_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(std::env::var_os("CI").is_none(), "CI must be able to mount a tmpfs (root)");
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(dir.path().to_path_buf());
    let data = dir.path().join("data");
    let server = TestServer::start_with(data, |_| {}).await.unwrap();
    let room = classroom(&server).await;
    let res = upload(&server, &room.ana, &[("title", "Huge")], vec![("video.mp4", vec![9u8; 12 * 1024 * 1024])]).await;
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(res.text().await.unwrap().contains("disk is full"));
    assert_eq!(tmp_files(&server), 0, "the partial file was removed");
    // The store still works: small work fits, and everything reads back.
    let small = upload_ok(&server, &room.ana, "Small", vec![("note.txt", b"hello".to_vec())]).await;
    let got = server.get(&room.ana, &format!("/api/v1/artifacts/{}", small["id"].as_str().unwrap())).await;
    assert_eq!(got.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn hostile_file_names_are_kept_for_display_only() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let long = format!("{}.jpg", "a".repeat(300));
    let names = [
        "../../etc/passwd",
        long.as_str(),
        "photo\u{202E}gpj.exe",
        "..\\..\\windows\\win.ini",
        "\u{200F}\u{2066}.hidden",
    ];
    for name in names {
        let artifact = upload_ok(&server, &room.ana, "Names", vec![(name, b"content".to_vec())]).await;
        let shown = artifact["files"][0]["name"].as_str().unwrap().to_string();
        assert!(!shown.contains('/') && !shown.contains('\\') && !shown.contains('\0'), "{shown:?}");
        assert!(!shown.contains('\u{202E}') && shown.chars().count() <= 120, "{shown:?}");
        assert!(!shown.starts_with('.'), "{shown:?}");
    }
    // A raw NUL inside the part's header is not valid multipart: refused with a clear message,
    // and nothing is kept.
    let res = upload(&server, &room.ana, &[("title", "Nul")], vec![("nul\0byte.txt", b"x".to_vec())]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("could not be read"));
    assert_eq!(tmp_files(&server), 0);
    // Nothing was written outside the data directory's blob store.
    assert!(!server.data_dir.join("etc").exists() && !server.data_dir.parent().unwrap().join("etc/passwd").exists());
}

#[tokio::test]
async fn active_content_is_served_as_a_sandboxed_attachment() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#.to_vec();
    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let artifact = upload_ok(&server, &room.ana, "Drawing", vec![("drawing.svg", svg), ("page.txt", html)]).await;
    for file in artifact["files"].as_array().unwrap() {
        let url =
            format!("/api/v1/artifacts/{}/files/{}", artifact["id"].as_str().unwrap(), file["id"].as_str().unwrap());
        let res = room.ana.get(server.url(&url)).send().await.unwrap();
        let h = res.headers();
        assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment"), "{:?}", h);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"].to_str().unwrap().contains("sandbox"));
        assert!(
            !h["content-type"].to_str().unwrap().contains("html")
                && !h["content-type"].to_str().unwrap().contains("svg")
        );
    }
    // Plain text shows inline, but never as HTML.
    let text = upload_ok(&server, &room.ana, "Story", vec![("story.md", b"# Once upon a time".to_vec())]).await;
    let url = format!(
        "/api/v1/artifacts/{}/files/{}",
        text["id"].as_str().unwrap(),
        text["files"][0]["id"].as_str().unwrap()
    );
    let res = room.ana.get(server.url(&url)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
}

#[tokio::test]
async fn range_requests_seek_within_a_file() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let artifact = upload_ok(&server, &room.ana, "Video", vec![("clip.mp4", data.clone())]).await;
    let url = server.url(&format!(
        "/api/v1/artifacts/{}/files/{}",
        artifact["id"].as_str().unwrap(),
        artifact["files"][0]["id"].as_str().unwrap()
    ));
    let get = |range: &'static str| room.ana.get(&url).header("range", range).send();

    let res = get("bytes=10-19").await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()["content-range"], "bytes 10-19/100000");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[10..20]);
    let res = get("bytes=99990-").await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[99_990..]);
    let res = get("bytes=-5").await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[99_995..]);
    let res = get("bytes=200000-").await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(res.headers()["content-range"], "bytes */100000");
    let res = room.ana.get(&url).send().await.unwrap();
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(res.bytes().await.unwrap().len(), 100_000);
}

/// A real JPEG with an EXIF segment carrying a GPS position after its SOI marker.
pub fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 128]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&img).unwrap();
    let mut exif = b"Exif\0\0MM\0*GPSLatitude=51.5;GPSLongitude=-0.12".to_vec();
    exif.resize(200, 0);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn photos_are_stored_without_their_gps_position_and_get_thumbnails() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let photo = jpeg_with_gps();
    let artifact = upload_ok(&server, &room.ana, "Garden", vec![("IMG_0001.JPG", photo)]).await;
    assert_eq!(artifact["kind"], "image");
    let file = &artifact["files"][0];
    assert_eq!(file["content_type"], "image/jpeg");
    let base = format!("/api/v1/artifacts/{}/files/{}", artifact["id"].as_str().unwrap(), file["id"].as_str().unwrap());
    let served = bytes_of(&server, &room.ana, &base).await;
    assert!(!served.windows(3).any(|w| w == b"GPS") && !served.windows(4).any(|w| w == b"Exif"));
    assert!(image::load_from_memory(&served).is_ok(), "still a valid picture");
    let thumb = room.ana.get(server.url(&format!("{base}/thumbnail"))).send().await.unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert!(thumb.width() <= 320 && thumb.height() <= 320);
}

#[tokio::test]
async fn versions_keep_every_file_and_note() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let artifact = upload_ok(&server, &room.ana, "Bridge", vec![("v1.txt", b"first".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap();
    let res = room
        .ana
        .post(server.url(&format!("/api/v1/artifacts/{id}/versions")))
        .multipart(form(&[("note", "Made it stronger")], vec![("v2.txt", b"second".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let ben_try = room
        .ben
        .post(server.url(&format!("/api/v1/artifacts/{id}/versions")))
        .multipart(form(&[("note", "mine now")], vec![("x.txt", b"x".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(ben_try.status(), StatusCode::NOT_FOUND, "another student cannot see it at all");
    let got = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{id}")).await).await;
    let versions = got["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["note"], "Made it stronger");
    assert_eq!(versions[0]["files"][0]["name"], "v1.txt");
    assert_eq!(got["files"][0]["name"], "v2.txt", "files are the latest version's");
    // Both versions' bytes are still served.
    for v in versions {
        let url = v["files"][0]["url"].as_str().unwrap();
        assert_eq!(room.ana.get(server.url(url)).send().await.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn feedback_and_held_comments() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let artifact = upload_ok(&server, &room.ana, "Poem", vec![("poem.txt", b"roses".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();

    // Ben cannot see Ana's private work.
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    // Ana shares it with the class; it waits for the teacher's approval (the class default).
    let res = room
        .ana
        .patch(server.url(&format!("/api/v1/artifacts/{id}")))
        .json(&json!({"visibility": "class"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    let queue = json_of(server.get(&room.teacher, "/api/v1/review-queue").await).await;
    assert_eq!(queue[0]["id"], id.as_str());

    let fb = server
        .post(&room.teacher, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "Lovely rhythm!"}))
        .await;
    assert_eq!(fb.status(), StatusCode::CREATED);
    assert_eq!(json_of(fb).await["kind"], "feedback");
    let approve =
        server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    assert_eq!(approve.status(), StatusCode::OK);
    assert!(json_of(server.get(&room.teacher, "/api/v1/review-queue").await).await.as_array().unwrap().is_empty());

    // Now Ben sees it, comments, and his comment waits for approval.
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::OK);
    let comment =
        server.post(&room.ben, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "I like it"})).await;
    assert_eq!(comment.status(), StatusCode::CREATED);
    let comment = json_of(comment).await;
    assert_eq!(comment["approved"], false);
    let ana_sees = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{id}/comments")).await).await;
    let bodies: Vec<&str> = ana_sees.as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["Lovely rhythm!"], "the held comment is not shown to Ana yet");
    let ben_sees = json_of(server.get(&room.ben, &format!("/api/v1/artifacts/{id}/comments")).await).await;
    let bodies: Vec<&str> = ben_sees.as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["I like it"], "Ben sees his own comment, not the feedback meant for Ana");
    let ok = room
        .teacher
        .post(server.url(&format!("/api/v1/artifacts/{id}/comments/{}/approve", comment["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let ana_sees = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{id}/comments")).await).await;
    assert_eq!(ana_sees.as_array().unwrap().len(), 2);

    // Ana's home page counts the feedback she has not opened.
    let home = room.ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("1 new feedback"), "{home}");
    room.ana.get(server.url(&format!("/work/{id}"))).send().await.unwrap();
    let home = room.ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("new feedback"));
}

#[tokio::test]
async fn activities_show_who_has_answered() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let res = room
        .teacher
        .post(server.url(&format!("/api/v1/classes/{}/activities", room.class_id)))
        .multipart(form(
            &[("title", "Build a bridge"), ("prompt", "Use only paper."), ("due", "2026-12-01")],
            vec![("example.txt", b"a bridge holds 3 < 4 books & more".to_vec()), ("bridge.png", super::access::png())],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let activity: Value = res.json().await.unwrap();
    let aid = activity["id"].as_str().unwrap();
    assert_eq!(activity["due"], "2026-12-01");
    // Students see it in their class.
    let list = json_of(server.get(&room.ana, &format!("/api/v1/classes/{}/activities", room.class_id)).await).await;
    assert_eq!(list[0]["title"], "Build a bridge");
    let example = activity["files"][0]["url"].as_str().unwrap();
    assert_eq!(room.ana.get(server.url(example)).send().await.unwrap().status(), StatusCode::OK);
    // The activity page shows the examples as work is shown: the picture itself, the text
    // in the page (escaped), each with its name linking to the file.
    let picture = activity["files"][1]["url"].as_str().unwrap();
    let page = room.ana.get(server.url(&format!("/activities/{aid}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!(r#"<img src="{picture}" alt="bridge.png""#)), "{page}");
    assert!(page.contains(r#"<pre class="text-preview">a bridge holds 3 &#60; 4 books &#38; more</pre>"#), "{page}");
    assert!(page.contains(&format!(r#"<a href="{example}">example.txt</a>"#)), "{page}");
    // The due date as people say it, in their language, on the activity page and on the
    // student's home.
    assert!(page.contains("Due Tuesday, December 1, 2026"), "{page}");
    let home = room.ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("due Tuesday, December 1, 2026"), "{home}");
    let spanish = room.ana.get(server.url("/home")).header("accept-language", "es").send().await.unwrap();
    let spanish = spanish.text().await.unwrap();
    assert!(spanish.contains("para el martes, 1 de diciembre de 2026"), "{spanish}");

    let res = upload(
        &server,
        &room.ana,
        &[("title", "Paper bridge"), ("activity_id", aid)],
        vec![("bridge.txt", b"it holds".to_vec())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let detail = json_of(server.get(&room.teacher, &format!("/api/v1/activities/{aid}")).await).await;
    assert_eq!(detail["answered"][0]["display_name"], "ANA");
    assert_eq!(detail["waiting"][0]["display_name"], "BEN");
    // Students do not get the class's answers.
    let for_ben = json_of(server.get(&room.ben, &format!("/api/v1/activities/{aid}")).await).await;
    assert!(for_ben.get("answered").is_none());
}

#[tokio::test]
async fn deleting_removes_the_work_and_its_files() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let artifact = upload_ok(&server, &room.ana, "Oops", vec![("a.txt", b"unique content 1".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap();
    assert_eq!(stored_blobs(&server), 1);
    assert!(blob_exists(&server, artifact["files"][0]["hash"].as_str().unwrap()));
    assert_eq!(
        room.ben.delete(server.url(&format!("/api/v1/artifacts/{id}"))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        room.ana.delete(server.url(&format!("/api/v1/artifacts/{id}"))).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(server.get(&room.ana, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(stored_blobs(&server), 0, "the file went with it");
    // Teachers delete within their classes.
    let other = upload_ok(&server, &room.ben, "Rude", vec![("b.txt", b"unique content 2".to_vec())]).await;
    let res = room
        .teacher
        .delete(server.url(&format!("/api/v1/artifacts/{}", other["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn erasure_removes_rows_and_files_and_refuses_later_changes() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let artifact = upload_ok(&server, &room.ana, "Mine", vec![("photo.jpg", jpeg_with_gps())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();
    let file = artifact["files"][0]["id"].as_str().unwrap().to_string();
    // Make the thumbnail exist, so we can see it go.
    let thumb =
        room.ana.get(server.url(&format!("/api/v1/artifacts/{id}/files/{file}/thumbnail"))).send().await.unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    let hash = artifact["files"][0]["hash"].as_str().unwrap().to_string();
    let thumb_path = server.data_dir.join("thumbs").join(format!("{hash}.jpg"));
    assert!(thumb_path.exists());
    // Ana also commented on Ben's shared work.
    let bens = upload_ok(&server, &room.ben, "Ben's", vec![("b.txt", b"ben".to_vec())]).await;
    let bid = bens["id"].as_str().unwrap();
    room.ben
        .patch(server.url(&format!("/api/v1/artifacts/{bid}")))
        .json(&json!({"visibility": "class"}))
        .send()
        .await
        .unwrap();
    server.post(&room.teacher, &format!("/api/v1/artifacts/{bid}/review"), json!({"approved": true})).await;
    let c = server.post(&room.ana, &format!("/api/v1/artifacts/{bid}/comments"), json!({"body": "from ana"})).await;
    assert_eq!(c.status(), StatusCode::CREATED);

    // She opened her work twice before: the first "seen" mark is written by the next write
    // of any kind (Ben's comment), the second waits in memory (`store::lazy`). Neither may
    // outlive her erasure, whichever the flush timer reaches first.
    assert_eq!(room.ana.get(server.url(&format!("/work/{id}"))).send().await.unwrap().status(), StatusCode::OK);
    let c = server.post(&room.ben, &format!("/api/v1/artifacts/{bid}/comments"), json!({"body": "ben again"})).await;
    assert_eq!(c.status(), StatusCode::CREATED);
    assert_eq!(room.ana.get(server.url(&format!("/work/{id}"))).send().await.unwrap().status(), StatusCode::OK);

    let teacher_erase =
        room.teacher.post(server.url(&format!("/api/v1/users/{}/erase", room.ana_id))).send().await.unwrap();
    assert_eq!(teacher_erase.status(), StatusCode::FORBIDDEN);
    let res = room.admin.post(server.url(&format!("/api/v1/users/{}/erase", room.ana_id))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(json_of(res).await["files_removed"].as_u64().unwrap() >= 1);

    assert_eq!(server.get(&room.ana, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED, "signed out");
    let again =
        server.post(&server.client(), "/api/v1/login", json!({"username": "ana", "password": "ana-password"})).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.get(&room.teacher, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert!(!thumb_path.exists(), "thumbnail removed");
    assert!(!blob_exists(&server, &hash), "file removed");
    let comments = json_of(server.get(&room.ben, &format!("/api/v1/artifacts/{bid}/comments")).await).await;
    assert!(comments.as_array().unwrap().iter().all(|c| c["body"] != "from ana"), "her comments are gone");
    let class = json_of(server.get(&room.teacher, &format!("/api/v1/classes/{}", room.class_id)).await).await;
    assert!(class["members"].as_array().unwrap().iter().all(|m| m["user_id"] != room.ana_id.as_str()));
    // The op log keeps no trace of her either: her entries are emptied.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(db_path(&server.data_dir), db_path(copy.path())).unwrap();
    {
        use redb::ReadableDatabase;
        let db = redb::Database::open(db_path(copy.path())).unwrap();
        let txn = db.begin_read().unwrap();
        let log = txn.open_table(folio::store::tables::OPLOG).unwrap();
        let mut redacted = 0;
        for row in log.range::<([u8; 16], u64)>(..).unwrap() {
            let (_, v) = row.unwrap();
            let text = String::from_utf8_lossy(v.value()).to_string();
            // Her random id stays in the erasure marker (and as the partition of emptied
            // entries), so later operations about her are refused; nothing she was or made stays.
            assert!(!text.contains("\"ana\"") && !text.contains("\"ANA\"") && !text.contains("ana-password"), "{text}");
            assert!(!text.contains("from ana") && !text.contains("\"Mine\"") && !text.contains("photo.jpg"), "{text}");
            redacted += usize::from(text.contains("\"redacted\""));
        }
        assert!(redacted >= 4, "her account, password, class place, work and comment were emptied");
        let seen = txn.open_table(folio::store::tables::USER_ARTIFACT_SEEN_MS).unwrap();
        let ana = uuid::Uuid::parse_str(&room.ana_id).unwrap().into_bytes();
        for row in seen.range::<([u8; 16], [u8; 16])>(..).unwrap() {
            assert_ne!(row.unwrap().0.value().0, ana, "a 'seen' mark of hers was written after her erasure");
        }
    }
    // Nothing more can be recorded about her.
    let readd = server
        .post(
            &room.teacher,
            &format!("/api/v1/classes/{}/members", room.class_id),
            json!({"user_id": room.ana_id, "role": "student"}),
        )
        .await;
    assert!(readd.status().is_client_error());
    let class = json_of(server.get(&room.teacher, &format!("/api/v1/classes/{}", room.class_id)).await).await;
    assert!(class["members"].as_array().unwrap().iter().all(|m| m["user_id"] != room.ana_id.as_str()));
}

#[tokio::test]
async fn skills_come_from_the_school_s_list() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let res =
        upload(&server, &room.ana, &[("title", "Team"), ("skills", "Collaboration")], vec![("a.txt", b"a".to_vec())])
            .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "no skills listed yet");
    let set = room
        .admin
        .put(server.url("/api/v1/skills"))
        .json(&json!({"skills": ["Collaboration", "Creativity"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let teacher_set =
        room.teacher.put(server.url("/api/v1/skills")).json(&json!({"skills": ["Mine"]})).send().await.unwrap();
    assert_eq!(teacher_set.status(), StatusCode::FORBIDDEN);
    let ok =
        upload(&server, &room.ana, &[("title", "Team"), ("skills", "Collaboration")], vec![("a.txt", b"a".to_vec())])
            .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(json_of(ok).await["skills"], json!(["Collaboration"]));
    let bad =
        upload(&server, &room.ana, &[("title", "Team"), ("skills", "Juggling")], vec![("a.txt", b"a".to_vec())]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("Collaboration, Creativity"));
}

#[tokio::test]
async fn changed_work_goes_back_to_the_teacher_before_classmates_see_it() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let artifact = upload_ok(&server, &room.ana, "Harmless", vec![("a.txt", b"a nice drawing".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap();
    room.ana
        .patch(server.url(&format!("/api/v1/artifacts/{id}")))
        .json(&json!({"visibility": "class"}))
        .send()
        .await
        .unwrap();
    server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::OK);

    // A new version: hidden from classmates again until a teacher looks.
    let res = room
        .ana
        .post(server.url(&format!("/api/v1/artifacts/{id}/versions")))
        .multipart(form(&[("note", "changed")], vec![("b.txt", b"something else".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    let queue = json_of(server.get(&room.teacher, "/api/v1/review-queue").await).await;
    assert_eq!(queue[0]["id"], id, "back in the review queue");
    server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::OK);

    // Rewriting the reflection does the same; saving it unchanged does not.
    let edit = |body: Value| room.ana.patch(server.url(&format!("/api/v1/artifacts/{id}"))).json(&body).send();
    edit(json!({"title": "Harmless"})).await.unwrap();
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::OK);
    edit(json!({"reflection": "new words"})).await.unwrap();
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
}

/// The limit on a form's text fields counts parts, not names: ten thousand parts under one
/// name are refused as surely as ten thousand names, and a name sent twice is refused rather
/// than one value silently dropped.
#[tokio::test]
async fn many_parts_with_one_name_count_against_the_limit() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let before = op_count(&server);
    let mut many = Form::new();
    for i in 0..10_000 {
        many = many.text("title", format!("t{i}"));
    }
    let res = room.ana.post(server.url("/api/v1/artifacts")).multipart(many).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("\"title\" was sent twice"));
    // Names that differ count one a part too, up to the limit.
    let mut wide = Form::new();
    for i in 0..65 {
        wide = wide.text(format!("field{i}"), "x");
    }
    let res = room.ana.post(server.url("/api/v1/artifacts")).multipart(wide).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("Too many"));

    let twice = form(&[("title", "First"), ("title", "Second")], vec![("a.txt", b"a".to_vec())]);
    let res = room.ana.post(server.url("/api/v1/artifacts")).multipart(twice).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("\"title\" was sent twice"));
    assert_eq!(op_count(&server), before, "nothing was recorded");
    assert_eq!(tmp_files(&server), 0);
    upload_ok(&server, &room.ana, "Still fine", vec![("a.txt", b"a".to_vec())]).await;
}

/// Opening pages, files and search makes no durable write (#22): the owner's "seen" mark is
/// kept in memory (`store::lazy`), shown at once, and written with a later write or at
/// shutdown, so it is still there after a restart.
#[tokio::test]
async fn page_views_make_no_durable_write_and_seen_marks_survive_a_restart() {
    let temp = tempfile::tempdir().unwrap();
    // The periodic flush of that bookkeeping waits an hour here, so only the views are counted.
    let hour = std::time::Duration::from_secs(3600);
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| c.flush_bookkeeping_every = hour).await.unwrap();
    let room = classroom(&server).await;
    let artifact = upload_ok(&server, &room.ana, "Poem", vec![("poem.txt", b"roses in the rain".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();
    let fb = server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "Lovely!"})).await;
    assert_eq!(fb.status(), StatusCode::CREATED);
    let file = artifact["files"][0]["url"].as_str().unwrap().to_string();
    let ana_id = room.ana_id.clone();
    let class = room.class_id.clone();

    let home = room.ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("1 new feedback"), "{home}");
    // The upload's and the comment's background work (search indexing, twice: the work, then
    // the comment) is done first. A quiet spell of 300 ms was not enough on a loaded machine:
    // the indexer's second round could still be committing its index then, and its store
    // commit fell among the page views. Two quiet seconds in a row now.
    eventually(std::time::Duration::from_secs(30), "the search indexer to settle", || async {
        let found = json_of(server.get(&room.ana, "/api/v1/search?q=roses").await).await;
        let before = server.durable_commits();
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        found["hits"].as_array().is_some_and(|h| !h.is_empty()) && server.durable_commits() == before
    })
    .await;
    let before = server.durable_commits();
    let ana_pages = [
        format!("/work/{id}"),
        "/home".to_string(),
        format!("/students/{ana_id}"),
        format!("/api/v1/artifacts/{id}"),
        format!("/api/v1/artifacts/{id}/comments"),
        file.clone(),
        "/api/v1/search?q=roses".to_string(),
        "/search?q=roses".to_string(),
    ];
    for path in &ana_pages {
        let res = room.ana.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    for path in [format!("/classes/{class}"), "/review".to_string(), format!("/work/{id}")] {
        let res = room.teacher.get(server.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(server.durable_commits(), before, "a page view committed a write (an fsync)");
    let home = room.ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("new feedback"), "Ana opened her work: nothing is new");

    // Stopped and started again, the mark is on disk (written at shutdown).
    let temp_dir = temp.path().to_path_buf();
    server.stop().await;
    let server = TestServer::start_with(temp_dir, |_| {}).await.unwrap();
    let ana = server.client();
    server.login(&ana, "ana", "ana-password").await;
    let home = ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Poem") && !home.contains("new feedback"), "{home}");
}

/// Thumbnails and the text taken from files are caches kept under `--cache-mb`
/// (`disk_cache`): housekeeping removes the least recently used once they pass it, and what
/// it removed comes back when next wanted: the thumbnail is made again, and the work is still
/// found by the words in its file (the index holds them).
#[tokio::test]
async fn thumbnails_and_file_text_stay_under_the_cache_bound_and_come_back_when_wanted() {
    use std::time::Duration;
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| {
        c.cache_bytes = 1;
        c.trim_caches_every = std::time::Duration::ZERO;
        c.upload_expiry = std::time::Duration::from_secs(1);
    })
    .await
    .unwrap();
    let room = classroom(&server).await;
    let files = vec![("photo.jpg", jpeg_with_gps()), ("notes.txt", b"the periwinkle lighthouse".to_vec())];
    let work = upload_ok(&server, &room.ana, "Coast", files).await;
    let (id, file) = (work["id"].as_str().unwrap(), work["files"][0]["id"].as_str().unwrap());
    let thumbnail = server.url(&format!("/api/v1/artifacts/{id}/files/{file}/thumbnail"));
    let bytes_in = |dir: std::path::PathBuf| {
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.metadata().unwrap().len()).sum::<u64>()).unwrap_or(0)
    };
    let (thumbs, text) = (server.data_dir.join("thumbs"), server.data_dir.join("search").join("text"));

    // Both caches are filled (the thumbnail when asked for, the text by the indexer)...
    let found = || async {
        let res = room.ana.get(server.url("/api/v1/search?q=periwinkle")).send().await.unwrap();
        let hits: Value = res.json().await.unwrap();
        hits["hits"].as_array().unwrap().iter().any(|h| h["artifact_id"] == id)
    };
    eventually(Duration::from_secs(10), "the file's words are found", found).await;
    assert_eq!(room.ana.get(&thumbnail).send().await.unwrap().status(), StatusCode::OK);
    // ... and trimmed back under the bound of 1 byte: nothing is kept.
    eventually(Duration::from_secs(10), "the caches are trimmed", || async {
        bytes_in(thumbs.clone()) == 0 && bytes_in(text.clone()) == 0
    })
    .await;

    let res = room.ana.get(&thumbnail).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the thumbnail is made again");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(found().await, "the work is still found by its file's words");
}
