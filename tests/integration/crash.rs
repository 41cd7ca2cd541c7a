//! Crash safety: folio is killed with SIGKILL at random moments while uploads are in flight,
//! restarted, and checked: every upload that was answered 201 is intact (its bytes hash to
//! what was sent), no temporary files remain, and no row points at a missing file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

pub struct Folio {
    pub child: Child,
    pub url: String,
}

pub fn start(data: &std::path::Path) -> Folio {
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve", "--no-mdns", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("folio printed its address").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_string();
        }
    };
    // Keep reading stdout so folio never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Folio { child, url }
}

impl Folio {
    /// A client signed in as `username` (with cookies, as a browser).
    pub async fn signed_in(&self, username: &str, password: &str) -> reqwest::Client {
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        client
            .post(format!("{}/api/v1/login", self.url))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        client
    }
}

#[tokio::test]
async fn uploads_answered_201_survive_sigkill_and_nothing_half_written_remains() {
    let data = tempfile::tempdir().unwrap();
    let seed: u64 = std::env::var("FOLIO_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("crash test seed {seed} (set FOLIO_CRASH_SEED to repeat)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    // Set up a school and a student once.
    let folio = start(data.path());
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let code = std::fs::read_to_string(data.path().join("setup-code")).unwrap();
    let res = admin
        .post(format!("{}/api/v1/setup", folio.url))
        .json(&json!({"setup_code": code.trim(), "school_name": "S", "username": "admin", "display_name": "A", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin = folio.signed_in("admin", "correct horse battery").await;
    admin
        .post(format!("{}/api/v1/users", folio.url))
        .json(&json!({"username": "ana", "display_name": "Ana", "role": "student", "password": "ana-password"}))
        .send()
        .await
        .unwrap();
    let mut folio = Some(folio);

    let mut confirmed: Vec<(String, String)> = Vec::new(); // (artifact id, blake3 hex)
    for round in 0..8 {
        let server = match folio.take() {
            Some(f) => f,
            None => start(data.path()),
        };
        let student = server.signed_in("ana", "ana-password").await;
        let mut uploads = Vec::new();
        for i in 0..4 {
            let size = rng.random_range(1..6_000_000usize);
            let mut bytes = vec![0u8; size];
            rng.fill(&mut bytes[..]);
            let hash = blake3::hash(&bytes).to_hex().to_string();
            // Sent in 64 KiB pieces with pauses, like a phone on school Wi-Fi, so the kill
            // lands in the middle of uploads as well as between them.
            let pieces: Vec<Vec<u8>> = bytes.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
            let pause = Duration::from_micros(rng.random_range(0..8_000));
            let stream = futures_util::stream::iter(pieces).then(move |piece| async move {
                tokio::time::sleep(pause).await;
                Ok::<_, std::io::Error>(piece)
            });
            let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), size as u64).file_name("data.bin");
            let form = Form::new().text("title", format!("round {round} upload {i}")).part("file", part);
            let req = student.post(format!("{}/api/v1/artifacts", server.url)).multipart(form).send();
            uploads.push(tokio::spawn(async move { (req.await, hash) }));
        }
        let kill_after = Duration::from_millis(rng.random_range(20..900));
        tokio::time::sleep(kill_after).await;
        let mut child = server.child;
        child.kill().unwrap(); // SIGKILL: no chance to clean up.
        child.wait().unwrap();
        for upload in uploads {
            let (res, hash) = upload.await.unwrap();
            if let Ok(res) = res
                && res.status() == StatusCode::CREATED
            {
                let body: Value = res.json().await.unwrap_or_default();
                if let Some(id) = body["id"].as_str() {
                    assert_eq!(body["files"][0]["hash"], hash.as_str(), "the answer names what was sent");
                    confirmed.push((id.to_string(), hash));
                }
            }
        }
    }

    // Restart once more and check everything.
    let server = start(data.path());
    let student = server.signed_in("ana", "ana-password").await;
    for (id, hash) in &confirmed {
        let artifact: Value =
            student.get(format!("{}/api/v1/artifacts/{id}", server.url)).send().await.unwrap().json().await.unwrap();
        let url =
            artifact["files"][0]["url"].as_str().unwrap_or_else(|| panic!("confirmed upload {id} lost: {artifact}"));
        let bytes = student.get(format!("{}{url}", server.url)).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().as_str(), hash, "upload {id} is intact");
    }
    // Every artifact the store holds points at files that exist and match their hash.
    let ana: Value = student.get(format!("{}/api/v1/me", server.url)).send().await.unwrap().json().await.unwrap();
    let all: Value = student
        .get(format!("{}/api/v1/users/{}/artifacts", server.url, ana["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for artifact in all.as_array().unwrap() {
        for file in artifact["files"].as_array().unwrap() {
            let res = student.get(format!("{}{}", server.url, file["url"].as_str().unwrap())).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "a row points at a missing file: {artifact}");
            assert_eq!(blake3::hash(&res.bytes().await.unwrap()).to_hex().as_str(), file["hash"].as_str().unwrap());
        }
    }
    let leftovers = std::fs::read_dir(data.path().join("blobs/tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "temporary files were cleaned up at start");
    let mut child = server.child;
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!("{} of 32 uploads were confirmed before their kill, and all are intact", confirmed.len());
}
