//! Files on a real Garage cluster (`--blobs s3://BUCKET`): three nodes on loopback with
//! replication 3 (`support::garage`). Each box gets a bucket of its own, as a district box
//! would, since a box collects what none of its rows names.
//!
//! Uploads, Range, dedupe, collection, backup and sync between boxes run against it; a node is
//! killed mid-upload; a store that cannot be reached answers 503 with Retry-After while pages
//! go on; and `folio blobs migrate` moves a box to the bucket and back.

use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::ObjectStore;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::garage::GarageCluster;
use crate::support::*;
use crate::work::{bytes_of, upload, upload_ok};

/// A folio whose files are on a new bucket of `cluster`.
async fn s3_box(cluster: &GarageCluster) -> (TestServer, String) {
    let bucket = cluster.new_bucket();
    let temp = tempfile::tempdir().unwrap();
    let (at, settings) = (folio::blobs::BlobsAt::S3 { bucket: bucket.clone() }, cluster.settings(0));
    let mut server = TestServer::start_with(temp.path().to_path_buf(), |c| {
        c.blobs = Some(at);
        c.s3 = Some(settings);
    })
    .await
    .unwrap();
    server.keep(temp);
    (server, bucket)
}

/// The objects under `blobs/` in a bucket, read straight from the store.
async fn objects(cluster: &GarageCluster, bucket: &str) -> Vec<String> {
    let store = cluster.client(bucket);
    let listed: Vec<_> = store.list(Some(&"blobs".into())).try_collect().await.unwrap();
    let mut names: Vec<String> = listed.into_iter().map(|m| m.location.filename().unwrap().to_string()).collect();
    names.sort();
    names
}

fn file_url(artifact: &Value, n: usize) -> String {
    format!(
        "/api/v1/artifacts/{}/files/{}",
        artifact["id"].as_str().unwrap(),
        artifact["files"][n]["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn uploads_ranges_dedupe_and_collection_go_to_the_bucket() {
    let cluster = GarageCluster::shared();
    let (server, bucket) = s3_box(cluster).await;
    let room = classroom(&server).await;
    // Larger than one part (8 MiB), so it goes up as a multipart upload.
    let video = noise(9 << 20, 7);
    let small = b"a small note".to_vec();
    let work =
        upload_ok(&server, &room.ana, "Film", vec![("film.mp4", video.clone()), ("note.txt", small.clone())]).await;
    let hash = work["files"][0]["hash"].as_str().unwrap().to_string();
    assert_eq!(objects(cluster, &bucket).await.len(), 2);
    assert_eq!(objects(cluster, &bucket).await.iter().filter(|h| **h == hash).count(), 1);
    // Nothing stays on the box's disk but what is not a file.
    assert_eq!(crate::work::stored_blobs(&server), 0);
    // (The search indexer reads the note through a temporary copy, gone once read.)
    let tmp = server.data_dir.join("blobs/tmp");
    eventually(Duration::from_secs(10), "no staged file is left", || async {
        std::fs::read_dir(&tmp).unwrap().count() == 0
    })
    .await;

    // Whole, and a Range from the middle (video seeking), straight from the bucket.
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&work, 0)).await, video);
    let res =
        room.ana.get(server.url(&file_url(&work, 0))).header("range", "bytes=5000000-5000099").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()["content-range"], format!("bytes 5000000-5000099/{}", video.len()));
    assert_eq!(res.bytes().await.unwrap().as_ref(), &video[5_000_000..5_000_100]);
    // The text preview on the work's page reads the bucket too.
    let page = server.get(&room.ana, &format!("/work/{}", work["id"].as_str().unwrap())).await.text().await.unwrap();
    assert!(page.contains("a small note"), "{page}");

    // The same video again is stored once.
    let again = upload_ok(&server, &room.ben, "Same film", vec![("copy.mp4", video.clone())]).await;
    assert_eq!(again["files"][0]["hash"].as_str().unwrap(), hash);
    assert_eq!(objects(cluster, &bucket).await.len(), 2);

    // Deleting one keeps the object (the other still names it); deleting both removes it.
    for (who, piece) in [(&room.ana, &work), (&room.ben, &again)] {
        let res = who
            .delete(server.url(&format!("/api/v1/artifacts/{}", piece["id"].as_str().unwrap())))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    eventually(Duration::from_secs(10), "the unused object is collected", || async {
        objects(cluster, &bucket).await.is_empty()
    })
    .await;
}

#[tokio::test]
async fn with_one_node_down_uploads_and_downloads_go_on() {
    let cluster = GarageCluster::start();
    let (server, _) = s3_box(&cluster).await;
    let room = classroom(&server).await;
    let before = upload_ok(&server, &room.ana, "Before", vec![("a.bin", noise(3 << 20, 1))]).await;

    // A node dies while a 20 MiB upload is on its way (folio talks to node 0).
    let big = noise(20 << 20, 2);
    let sending = {
        let (client, url) = (room.ana.clone(), server.url("/api/v1/artifacts"));
        let body = crate::work::form(&[("title", "During")], vec![("b.bin", big.clone())]);
        tokio::spawn(async move { client.post(url).multipart(body).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    cluster.kill(2);
    let res = sending.await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let during: Value = res.json().await.unwrap();
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&during, 0)).await, big);
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&before, 0)).await, noise(3 << 20, 1));
    let after = upload_ok(&server, &room.ana, "After", vec![("c.bin", noise(1 << 20, 3))]).await;
    assert_eq!(bytes_of(&server, &room.ana, &file_url(&after, 0)).await, noise(1 << 20, 3));
}

#[tokio::test]
async fn an_unreachable_store_answers_503_and_everything_else_goes_on() {
    let cluster = GarageCluster::start();
    let (server, bucket) = s3_box(&cluster).await;
    let room = classroom(&server).await;
    let files = vec![("kept.bin", noise(100_000, 4)), ("notes.txt", b"the periwinkle lighthouse".to_vec())];
    let work = upload_ok(&server, &room.ana, "Kept", files).await;
    let kept = objects(&cluster, &bucket).await;
    let id = work["id"].as_str().unwrap().to_string();
    let found = |word: &'static str| {
        let (client, url, id) = (room.ana.clone(), server.url(&format!("/api/v1/search?q={word}")), id.clone());
        async move {
            let hits: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            hits["hits"].as_array().unwrap().iter().any(|h| h["artifact_id"] == id.as_str())
        }
    };
    eventually(Duration::from_secs(10), "the file's words are found", || found("periwinkle")).await;

    // The node folio talks to goes down: to folio, the store is unreachable. The text taken
    // from the file is no longer cached on the box (trimmed, say), so indexing the work again
    // needs the file.
    cluster.kill(0);
    for cached in std::fs::read_dir(server.data_dir.join("search/text")).unwrap() {
        std::fs::remove_file(cached.unwrap().path()).unwrap();
    }
    let res = upload(&server, &room.ana, &[("title", "Lost?")], vec![("new.bin", noise(50_000, 5))]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "30");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "files_unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("Try again"), "{body}");
    let res = room.ana.get(server.url(&file_url(&work, 0))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    // A person who tapped the file's link on the work's page gets a page in their language.
    let res = room
        .ana
        .get(server.url(&file_url(&work, 0)))
        .header("sec-fetch-mode", "navigate")
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "30");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains("Espera un momento") && page.contains("almacén de archivos"), "{page}");
    // What needs no file goes on: the portfolio, the work's page, a comment.
    let res = server.get(&room.ana, &format!("/work/{}", work["id"].as_str().unwrap())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .post(
            &room.teacher,
            &format!("/api/v1/artifacts/{}/comments", work["id"].as_str().unwrap()),
            serde_json::json!({"body": "Lovely work"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    // Nothing was recorded for the refused upload, and nothing is left on the disk.
    assert_eq!(std::fs::read_dir(server.data_dir.join("blobs/tmp")).unwrap().count(), 0);
    // The comment is searchable meanwhile (the work indexed as it is now, without the file's
    // words, which cannot be read).
    eventually(Duration::from_secs(40), "the comment is found", || found("lovely")).await;

    cluster.restart(0);
    eventually(Duration::from_secs(30), "the file is served again", || async {
        room.ana.get(server.url(&file_url(&work, 0))).send().await.is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;
    assert_eq!(objects(&cluster, &bucket).await, kept, "what was acknowledged is all there");
    // The work is tried again once the store is back, and found by its file's words again.
    eventually(Duration::from_secs(40), "the file's words are found again", || found("periwinkle")).await;
}

#[tokio::test]
async fn a_box_moves_to_the_bucket_and_back_and_a_wrong_choice_is_refused() {
    let cluster = GarageCluster::shared();
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().to_path_buf();
    let server = TestServer::start_with(data.clone(), |_| {}).await.unwrap();
    let room = classroom(&server).await;
    let files: Vec<Vec<u8>> = (0..5).map(|i| noise(200_000 + i * 1000, i as u64)).collect();
    let mut works = Vec::new();
    for (i, f) in files.iter().enumerate() {
        works.push(upload_ok(&server, &room.ana, &format!("W{i}"), vec![("f.bin", f.clone())]).await);
    }
    server.stop().await;

    let bucket = cluster.new_bucket();
    let to = folio::blobs::BlobsAt::S3 { bucket: bucket.clone() };
    // A box with files is not switched by --blobs alone.
    let settings = cluster.settings(0);
    let refused = {
        let (data, to, settings) = (data.clone(), to.clone(), settings.clone());
        tokio::task::spawn_blocking(move || folio::blobs::BlobStore::open_at(&data, Some(&to), Some(&settings)).err())
            .await
            .unwrap()
            .expect("refused")
            .to_string()
    };
    assert!(refused.contains("folio blobs migrate --to s3://"), "{refused}");

    // The migration copies and checks every file, then switches the box.
    let output = cluster.folio_command(&data, &["blobs", "migrate", "--to", &to.to_string(), "--data"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("5 copied"), "{output:?}");
    assert_eq!(objects(cluster, &bucket).await.len(), 5);
    assert_eq!(std::fs::read_to_string(data.join("blobs-at")).unwrap().trim(), to.to_string());

    let server = TestServer::start_with(data.clone(), |c| c.s3 = Some(settings.clone())).await.unwrap();
    // The old copies stay where they were, for the IT person to remove: they are not taken
    // for a restored backup's files.
    assert_eq!(crate::work::stored_blobs(&server), 5);
    let ana = server.client();
    server.login(&ana, "ana", "ana-password").await;
    for (work, f) in works.iter().zip(&files) {
        assert_eq!(&bytes_of(&server, &ana, &file_url(work, 0)).await, f);
    }
    server.stop().await;

    // And back to the box's own folder.
    let output = cluster.folio_command(&data, &["blobs", "migrate", "--to", "folder", "--data"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let server = TestServer::start_with(data.clone(), |_| {}).await.unwrap();
    let ana = server.client();
    server.login(&ana, "ana", "ana-password").await;
    for (work, f) in works.iter().zip(&files) {
        assert_eq!(&bytes_of(&server, &ana, &file_url(work, 0)).await, f);
    }
    server.stop().await;
    drop(temp);
}

#[tokio::test]
async fn a_backup_of_a_box_on_a_bucket_restores_onto_another_bucket() {
    let cluster = GarageCluster::shared();
    let (server, _) = s3_box(cluster).await;
    let room = classroom(&server).await;
    let files = [noise(300_000, 21), noise(9 << 20, 22)];
    let work =
        upload_ok(&server, &room.ana, "Kept", vec![("a.bin", files[0].clone()), ("b.bin", files[1].clone())]).await;

    // `folio backup` beside the running server reads the files from the bucket.
    let stick = tempfile::tempdir().unwrap();
    let to = stick.path().to_str().unwrap().to_string();
    // On the blocking pool: the command talks to this server, which runs on the test's runtime.
    let data = server.data_dir.clone();
    let output = tokio::task::spawn_blocking(move || cluster.folio_command(&data, &["backup", "--to", &to, "--data"]))
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let backup = std::fs::read_dir(stick.path()).unwrap().next().unwrap().unwrap().path();
    let in_backup = |hash: &str| backup.join("blobs").join(&hash[..2]).join(hash);
    for (n, f) in files.iter().enumerate() {
        assert_eq!(&std::fs::read(in_backup(work["files"][n]["hash"].as_str().unwrap())).unwrap(), f);
    }
    server.stop().await;

    // A new box on its own bucket takes the backup in; its files go up to that bucket.
    let bucket = cluster.new_bucket();
    let fresh = tempfile::tempdir().unwrap();
    folio::blobs::migrate::remember(fresh.path(), &folio::blobs::BlobsAt::S3 { bucket: bucket.clone() }).unwrap();
    let output = cluster.folio_command(fresh.path(), &["restore", backup.to_str().unwrap(), "--data"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let settings = cluster.settings(0);
    let restored = TestServer::start_with(fresh.path().to_path_buf(), |c| c.s3 = Some(settings)).await.unwrap();
    assert_eq!(objects(cluster, &bucket).await.len(), 2);
    assert_eq!(crate::work::stored_blobs(&restored), 0, "the restored files left the box's disk");
    let ana = restored.client();
    restored.login(&ana, "ana", "ana-password").await;
    for (n, f) in files.iter().enumerate() {
        assert_eq!(&bytes_of(&restored, &ana, &file_url(&work, n)).await, f);
    }
    restored.stop().await;
}
