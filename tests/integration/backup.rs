//! Backups and restores as an installer makes them: `folio backup` while the box serves and
//! students upload, `folio restore` onto a fresh data folder, the refusals that protect a box
//! already in use, and the admin page writing a backup to a USB stick (here a temp folder).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::support::*;
use crate::work::upload_ok;

/// Runs the folio binary. Off the test's runtime thread: the server under test runs on it
/// and must answer the command's control-socket requests meanwhile.
async fn folio(args: &[&str], paths: &[&Path]) -> Output {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(paths.iter().map(|p| p.display().to_string()));
    folio_with(all, None).await
}

async fn folio_with(args: Vec<String>, data_env: Option<PathBuf>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
        cmd.args(&args).env_remove("FOLIO_DATA");
        if let Some(dir) = data_env {
            cmd.env("FOLIO_DATA", dir);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The one backup folder in `dir`.
fn only_backup(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("folio-backup-"))
        .collect();
    assert_eq!(found.len(), 1, "one backup folder in {}: {found:?}", dir.display());
    found[0].clone()
}

/// Every artifact of a student with the BLAKE3 of each file's bytes as served:
/// (title, [(file name, hash of the bytes)]), sorted.
async fn portfolio(server: &TestServer, client: &Client, student: &str) -> Vec<(String, Vec<(String, String)>)> {
    let list: Vec<Value> = json_of(server.get(client, &format!("/api/v1/users/{student}/artifacts")).await)
        .await
        .as_array()
        .unwrap()
        .clone();
    let mut out = Vec::new();
    for a in list {
        let mut files = Vec::new();
        for f in a["files"].as_array().unwrap() {
            let res = server.get(client, f["url"].as_str().unwrap()).await;
            assert_eq!(res.status(), StatusCode::OK);
            let bytes = res.bytes().await.unwrap();
            let hash = blake3::hash(&bytes).to_hex().to_string();
            assert_eq!(hash, f["hash"].as_str().unwrap(), "the bytes served are the bytes named");
            files.push((f["name"].as_str().unwrap().to_string(), hash));
        }
        out.push((a["title"].as_str().unwrap().to_string(), files));
    }
    out.sort();
    out
}

fn photo(seed: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| (i.wrapping_mul(31).wrapping_add(seed * 7) % 251) as u8).collect()
}

#[tokio::test]
async fn a_backup_made_while_serving_and_uploading_is_consistent_and_restores() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    for i in 0..4 {
        upload_ok(&server, &room.ana, &format!("Before {i}"), vec![("p.bin", photo(i, 200_000 + i))]).await;
    }
    let before = portfolio(&server, &room.ana, &room.ana_id).await;

    // Students keep uploading while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let uploaded = Arc::new(AtomicUsize::new(0));
    let uploader = {
        let (stop, uploaded, client, url) = (stop.clone(), uploaded.clone(), room.ana.clone(), server.url.clone());
        tokio::spawn(async move {
            let mut i = 100;
            while !stop.load(Ordering::Relaxed) {
                let form = crate::work::form(&[("title", &format!("During {i}"))], vec![("d.bin", photo(i, 300_000))]);
                let res = client.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                uploaded.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    while uploaded.load(Ordering::Relaxed) < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stick = tempfile::tempdir().unwrap();
    let out = folio(&["backup", "--data"], &[&server.data_dir, Path::new("--to"), stick.path()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("while it keeps serving"), "went through the running server: {}", text(&out));
    while uploaded.load(Ordering::Relaxed) < 6 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    uploader.await.unwrap();
    let backup = only_backup(stick.path());
    assert!(text(&out).contains(&backup.display().to_string()), "{}", text(&out));
    assert!(
        !server
            .data_dir
            .read_dir()
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".snapshot")),
        "the server removed its snapshot once the backup had copied it"
    );

    // Restore into a fresh folder and serve it: the work from before the backup is all
    // there, byte for byte, and the work uploaded during it is there whole or not at all.
    let fresh = tempfile::tempdir().unwrap();
    let out = folio(&["restore", "--data"], &[fresh.path(), &backup]).await;
    assert!(out.status.success(), "{}", text(&out));
    let restored = TestServer::start_with(fresh.path().to_path_buf(), |_| {}).await.unwrap();
    let ana = restored.client();
    restored.login(&ana, "ana", "ana-password").await;
    let after = portfolio(&restored, &ana, &room.ana_id).await;
    for work in &before {
        assert!(after.contains(work), "{work:?} is in the restored box");
    }
    assert!(after.len() >= before.len() + 2, "uploads committed before the snapshot are in it: {}", after.len());
    for (title, files) in &after {
        assert!(title.starts_with("Before") || title.starts_with("During"), "{title}");
        assert_eq!(files.len(), 1, "{title} came back whole");
    }
    restored.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn restoring_into_a_fresh_folder_gives_the_same_work_and_files_and_a_new_replica() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    upload_ok(
        &server,
        &room.ana,
        "Volcano",
        vec![("volcano.bin", photo(1, 1_500_000)), ("notes.txt", b"hot".to_vec())],
    )
    .await;
    upload_ok(&server, &room.ana, "Empty file", vec![("empty.txt", Vec::new())]).await;
    upload_ok(&server, &room.ben, "Same bytes as Ana", vec![("copy.txt", b"hot".to_vec())]).await;
    let original = portfolio(&server, &room.ana, &room.ana_id).await;
    let dir = server.data_dir.clone();
    let temp = server.stop().await;

    // No server runs: the command opens the store itself.
    let stick = tempfile::tempdir().unwrap();
    let out = folio(&["backup", "--data"], &[&dir]).await;
    assert!(!out.status.success(), "--to is required");
    let out =
        folio_with(vec!["backup".into(), "--to".into(), stick.path().display().to_string()], Some(dir.clone())).await;
    assert!(out.status.success(), "{}", text(&out));
    let backup = only_backup(stick.path());
    let manifest: Value = serde_json::from_slice(&std::fs::read(backup.join("folio-backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["schools"], serde_json::json!(["Escuela Uno"]));
    assert_eq!(manifest["files"], 3, "three distinct files (the shared one once)");

    // The stick's folder is enough: restore finds the one backup in it.
    let fresh = tempfile::tempdir().unwrap();
    let out = folio(&["restore", "--data"], &[fresh.path(), stick.path()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("new replica") || text(&out).contains("writes as replica"), "{}", text(&out));

    let original_replica = folio::store::Store::open(&dir).unwrap().replica();
    let restored = TestServer::start_with(fresh.path().to_path_buf(), |_| {}).await.unwrap();
    assert!(!restored.data_dir.join("setup-code").exists(), "a restored box is set up");
    let ana = restored.client();
    restored.login(&ana, "ana", "ana-password").await;
    assert_eq!(portfolio(&restored, &ana, &room.ana_id).await, original);
    // New work on the restored box lands fine (its sequence numbers start afresh).
    upload_ok(&restored, &ana, "After the restore", vec![("new.txt", b"new".to_vec())]).await;
    restored.stop().await;
    // `stop` returns when `run` does; a connection task may drop its handle to the store a
    // moment later (seen: about a millisecond), so allow the reopen a little time.
    let reopened = eventually(Duration::from_secs(5), "the restored store reopens", || async {
        folio::store::Store::open(fresh.path())
    })
    .await;
    let restored_replica = reopened.replica();
    assert_ne!(restored_replica, original_replica, "a restored box never writes as the original");
    drop(temp);
}

#[tokio::test]
async fn restore_refuses_a_box_that_is_set_up_unless_forced_and_while_folio_runs() {
    let source = TestServer::start().await;
    let room = classroom(&source).await;
    upload_ok(&source, &room.ana, "Kept", vec![("k.txt", b"kept".to_vec())]).await;
    let stick = tempfile::tempdir().unwrap();
    let out = folio(&["backup", "--data"], &[&source.data_dir, Path::new("--to"), stick.path()]).await;
    assert!(out.status.success(), "{}", text(&out));
    let backup = only_backup(stick.path());

    // Another box, already in use.
    let target = TestServer::start().await;
    target.setup_admin().await;
    let out = folio(&["restore", "--data"], &[&target.data_dir, &backup]).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("folio is running") && text(&out).contains("systemctl stop folio"), "{}", text(&out));
    let dir = target.data_dir.clone();
    let temp = target.stop().await;

    let out = folio(&["restore", "--data"], &[&dir, &backup]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("already holds a school (Escuela Uno)") && text(&out).contains("--force"),
        "{}",
        text(&out)
    );
    // Nothing changed: the box still has its own admin and no student.
    let target = TestServer::start_with(dir.clone(), |_| {}).await.unwrap();
    target.login(&target.client(), "admin", ADMIN_PASSWORD).await;
    let res = target
        .post(&target.client(), "/api/v1/login", serde_json::json!({"username": "ana", "password": "ana-password"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    target.stop().await;

    let out = folio(&["restore", "--force", "--data"], &[&dir, &backup]).await;
    assert!(out.status.success(), "{}", text(&out));
    let target = TestServer::start_with(dir.clone(), |_| {}).await.unwrap();
    let ana = target.client();
    target.login(&ana, "ana", "ana-password").await;
    assert_eq!(portfolio(&target, &ana, &room.ana_id).await.len(), 1);
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".restore") || n.starts_with(".replaced"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    target.stop().await;
    source.stop().await;
    drop(temp);
}

#[tokio::test]
async fn files_a_snapshot_names_are_kept_until_the_backup_has_copied_them() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let work = upload_ok(&server, &room.ana, "Soon deleted", vec![("gone.bin", photo(9, 50_000))]).await;
    let hash = work["files"][0]["hash"].as_str().unwrap().to_string();
    let blob = server.data_dir.join("blobs").join(&hash[..2]).join(&hash);

    // What `folio backup` does: ask the running server for a snapshot…
    let data_dir = server.data_dir.clone();
    let lease = tokio::task::spawn_blocking(move || folio::control::connect(&data_dir).unwrap().unwrap().snapshot())
        .await
        .unwrap()
        .unwrap();
    // …and meanwhile the student deletes the work. Its file must survive until released.
    let res = room
        .ana
        .delete(server.url(&format!("/api/v1/artifacts/{}", work["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(blob.exists(), "the file the snapshot names is still there");
    let stick = tempfile::tempdir().unwrap();
    let (place, blobs) = (stick.path().to_path_buf(), folio::blobs::BlobStore::attach(&server.data_dir).unwrap());
    let written = tokio::task::spawn_blocking(move || {
        let from = lease.path.clone();
        let written = folio::backup::write(
            &place,
            &blobs,
            |dest| {
                std::fs::copy(&from, dest).unwrap();
                Ok(())
            },
            &mut |_| {},
        );
        lease.release();
        written
    })
    .await
    .unwrap()
    .unwrap();
    assert!(folio::backup::blob_path(&written.path.join("blobs"), &hash).exists(), "the deleted work is in the backup");

    // Released (the server answers the release after dropping its hold): deleted work's
    // files are collected at once again.
    let other = upload_ok(&server, &room.ana, "Another", vec![("x.bin", photo(10, 1000))]).await;
    let other_hash = other["files"][0]["hash"].as_str().unwrap();
    let res = room
        .ana
        .delete(server.url(&format!("/api/v1/artifacts/{}", other["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(!server.data_dir.join("blobs").join(&other_hash[..2]).join(other_hash).exists());
    server.stop().await;
}

#[tokio::test]
async fn the_admin_page_writes_a_backup_to_a_stick_and_lists_it() {
    let stick = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let place = stick.path().to_path_buf();
    let server = TestServer::start_with(data.path().to_path_buf(), |c| c.backup_dir = Some(place)).await.unwrap();
    let room = classroom(&server).await;
    upload_ok(&server, &room.ana, "Drawing", vec![("d.bin", photo(3, 10_000))]).await;

    // Only the admin sees the page.
    assert_eq!(server.get(&room.teacher, "/backup").await.status(), StatusCode::NOT_FOUND);
    let page = server.get(&room.admin, "/backup").await.text().await.unwrap();
    let stick_path = stick.path().display().to_string();
    assert!(page.contains(&stick_path), "the stick is offered: {page}");
    let csrf = csrf_of(&page);

    // A path the page did not offer is refused.
    let res = room
        .admin
        .post(server.url("/backup"))
        .form(&[("csrf", csrf.as_str()), ("place", "/etc")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(std::fs::read_dir(stick.path()).unwrap().next().is_none());

    let res = room
        .admin
        .post(server.url("/backup"))
        .form(&[("csrf", csrf.as_str()), ("place", &stick_path)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = eventually(Duration::from_secs(20), "the backup finishes", || async {
        let res = server.get(&room.admin, "/backup").await;
        let refresh = res.headers().get("refresh").is_some();
        let page = res.text().await.unwrap();
        if page.contains("Backup finished") {
            assert!(!refresh, "a finished backup stops reloading the page");
            return Ok(page);
        }
        // (The page's scripts carry "did not work" among their words: the backup's own
        // failure says where it went.)
        assert!(!page.contains("The backup to"), "{page}");
        Err(page)
    })
    .await;
    let backup = only_backup(stick.path());
    let name = backup.file_name().unwrap().to_string_lossy().into_owned();
    assert!(page.contains(&name), "the new backup is listed: {page}");
    assert!(page.contains("Escuela Uno"));
    let manifest = folio::backup::inspect(&backup).unwrap();
    assert_eq!(manifest.files, 1);
    server.stop().await;
}

#[tokio::test]
async fn the_setup_page_restores_a_backup_and_folio_starts_again_with_it() {
    // A school with work, backed up onto a stick.
    let source = TestServer::start().await;
    let room = classroom(&source).await;
    upload_ok(&source, &room.ana, "Kept", vec![("k.bin", photo(4, 40_000))]).await;
    let original = portfolio(&source, &room.ana, &room.ana_id).await;
    let stick = tempfile::tempdir().unwrap();
    let out = folio(&["backup", "--data"], &[&source.data_dir, Path::new("--to"), stick.path()]).await;
    assert!(out.status.success(), "{}", text(&out));
    let backup = only_backup(stick.path()).display().to_string();
    source.stop().await;

    // A freshly flashed box: the binary, as systemd runs it, with the stick plugged in.
    let data = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-mdns", "--data"])
        .arg(data.path())
        .arg("--backup-dir")
        .arg(stick.path())
        .stdout(std::process::Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if let Some(rest) = line.unwrap().split("listening on ").nth(1) {
                return rest.trim().to_string();
            }
        }
        panic!("folio did not say where it listens");
    })
    .await
    .unwrap();
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let setup = client.get(format!("{url}/setup")).send().await.unwrap().text().await.unwrap();
    assert!(setup.contains("/setup/restore"), "the setup page offers a restore");
    let page = client.get(format!("{url}/setup/restore")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&backup) && page.contains("Escuela Uno"), "the backup on the stick is offered: {page}");

    let post = |code: String, path: String| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .post(format!("{url}/setup/restore"))
                .form(&[("setup_code", code), ("backup", path)])
                .send()
                .await
                .unwrap()
        }
    };
    let res = post("AAAA-AAAA".into(), backup.clone()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a wrong setup code restores nothing");
    let code = std::fs::read_to_string(data.path().join("setup-code")).unwrap().trim().to_string();
    let res = post(code.clone(), "/etc".into()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "only an offered backup");
    let res = post(code, backup.clone()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // folio copies and checks the backup, then stops with the code systemd restarts on.
    let status = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("folio did not stop to finish the restore");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    let printed = std::fs::read_to_string(log.path()).unwrap();
    assert_eq!(status.code(), Some(75), "{printed}");
    assert!(printed.contains("stopped to finish restoring"), "{printed}");

    // Started again, it has the restored school: no setup code, the same work.
    let restored = TestServer::start_with(data.path().to_path_buf(), |_| {}).await.unwrap();
    assert!(!data.path().join("setup-code").exists());
    assert!(!data.path().join(".restore-pending").exists());
    let ana = restored.client();
    restored.login(&ana, "ana", "ana-password").await;
    assert_eq!(portfolio(&restored, &ana, &room.ana_id).await, original);
    let res = client.get(format!("{}/setup/restore", restored.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a set-up box offers no restore");
    restored.stop().await;
}
