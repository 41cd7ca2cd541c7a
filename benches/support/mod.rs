//! What the benchmarks need: the release `folio` binary serving on loopback with its data in
//! a temporary directory, a school set up through the API, and signed-in clients.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;

pub const PASSWORD: &str = "bench-password";

pub mod seed;

// The integration tests' `netlab` (which `sync.rs` includes) builds on these fixtures of
// theirs, and finds them here under the same names as in the test binary.
#[path = "../../tests/integration/support/api.rs"]
mod api;
#[path = "../../tests/integration/support/noise.rs"]
mod noise;
#[path = "../../tests/integration/support/wait.rs"]
pub mod wait;
// Only `sync.rs` uses them (and `block` below); the other benchmarks share this module.
#[allow(unused_imports)]
pub use {
    api::{ADMIN_PASSWORD, Api},
    noise::noise,
    wait::eventually,
};

/// Deterministic incompressible data for uploads: one 8 MiB block, reused (hashing still
/// covers all of what is sent).
pub fn block() -> bytes::Bytes {
    bytes::Bytes::from(noise(8 << 20, 0x5EED))
}

/// `size` bytes of `block` from `offset` on (wrapping around), as 1 MiB pieces: a large
/// upload's body made of one block without holding it all.
pub fn pieces(block: &bytes::Bytes, size: usize, offset: usize) -> Vec<bytes::Bytes> {
    const MIB: usize = 1 << 20;
    let mut out = Vec::new();
    let mut at = offset % block.len();
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB).min(block.len() - at);
        out.push(block.slice(at..at + n));
        at = (at + n) % block.len();
        left -= n;
    }
    out
}

/// Starts `folio serve` on 127.0.0.1 (port 0) with `extra` flags; returns it and its URL.
///
/// `FOLIO_BENCH_BIN` runs another build of folio instead of the one cargo built for the
/// benchmark: on a machine whose disk swings from minute to minute, two builds are only
/// comparable in runs that alternate between them.
pub fn start_folio(data: &Path, extra: &[&str]) -> (Child, String) {
    start_folio_with_env(data, extra, &[])
}

/// [`start_folio`] with environment variables added (the S3 store's address and key).
pub fn start_folio_with_env(data: &Path, extra: &[&str], env: &[(&str, String)]) -> (Child, String) {
    let binary = std::env::var_os("FOLIO_BENCH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_folio").into());
    let mut child = Command::new(binary)
        .args(["serve", "--no-mdns", "--listen", "127.0.0.1:0"])
        .args(extra)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// Completes setup (school "Bench", user "admin") and returns the admin's client.
pub async fn setup_school(url: &str, data: &Path) -> reqwest::Client {
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let code = std::fs::read_to_string(data.join("setup-code")).unwrap();
    let res = admin
        .post(format!("{url}/api/v1/setup"))
        .json(&json!({"setup_code": code.trim(), "school_name": "Bench", "username": "admin", "display_name": "A", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "setup");
    signed_in(url, "admin").await
}

/// Creates a person; returns their id.
pub async fn add_person(admin: &reqwest::Client, url: &str, username: &str, role: &str) -> String {
    let res = admin
        .post(format!("{url}/api/v1/users"))
        .json(&json!({"username": username, "display_name": username, "role": role, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "add {username}");
    res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

pub async fn signed_in(url: &str, username: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = c
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "login {username}");
    c
}

/// GET `path` (with `query`) as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str, path: &str, query: &[(&str, &str)]) -> serde_json::Value {
    client.get(format!("{url}{path}")).query(query).send().await.unwrap().json().await.unwrap()
}

/// Starts counting a process's peak memory (VmHWM) again from its current size.
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// A field of /proc/PID/status in KiB (`VmRSS:`, `VmHWM:`).
pub fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A multipart file part streamed from `file`'s pieces, with its length.
pub fn file_part(file: Vec<bytes::Bytes>, name: &str) -> reqwest::multipart::Part {
    let len: usize = file.iter().map(bytes::Bytes::len).sum();
    let stream = futures_util::stream::iter(file.into_iter().map(Ok::<_, std::io::Error>));
    reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len as u64)
        .file_name(name.to_string())
}

/// CPU seconds a process has used (user + system), from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

/// Pauses before a timed step so that every step, folio's and its baselines', starts with the
/// machine in the same state. Writes on this virtual machine swing in speed: at times its disk
/// took about a gigabyte at once and then slowed to its host's rate (1 GiB with fsync in
/// 1.1 s, the next in 13.5 s, and 1.2 s again after 30 s idle), and at others a plain write
/// through the page cache was several times slower than the same with `O_DIRECT` (1 GiB in
/// 4.9 s against 1.1 s). Without a pause, whichever step runs first gets the fast part and the
/// next pays for it.
/// `FOLIO_BENCH_SETTLE_SECS` (default 30) sets the pause; 0 turns it off.
pub async fn settle() {
    let secs: u64 = std::env::var("FOLIO_BENCH_SETTLE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
}
