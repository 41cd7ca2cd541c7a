//! Resumable (tus) upload throughput against the plain streaming multipart upload of the same
//! bytes, in the same run.
//!
//! Run with `cargo bench --bench tus` (add `-- --quick` for 256 MiB instead of 1 GiB). The
//! release `folio` binary serves on 127.0.0.1 with its data in a temporary directory (under
//! `FOLIO_BENCH_DIR`, default the current one). A student uploads the file three times each
//! way, alternating: once as one multipart `POST /api/v1/artifacts`, once as a tus upload
//! (`POST /api/v1/uploads`, then `PATCH`es of 8 MiB, as the browser's outbox sends them, each
//! answered only once its bytes are fsynced, then `POST /api/v1/artifacts` naming the upload).
//! Each run's artifact is checked (its BLAKE3 is the file's) and deleted, so every run
//! writes the bytes anew. Reported: the median throughput of each, their ratio, and where a
//! tus upload's time goes.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

const MIB: usize = 1024 * 1024;
/// The size of a PATCH, as the browser's outbox sends them.
const CHUNK: usize = 8 * MIB;

fn expected_hash(block: &Bytes, size: usize) -> String {
    let mut h = blake3::Hasher::new();
    for _ in 0..size / block.len() {
        h.update(block);
    }
    h.finalize().to_hex().to_string()
}

fn multipart_body(block: &Bytes, size: usize) -> Part {
    let pieces: Vec<Bytes> =
        (0..size / MIB).map(|i| block.slice((i * MIB) % block.len()..(i * MIB) % block.len() + MIB)).collect();
    let stream = futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    Part::stream_with_length(reqwest::Body::wrap_stream(stream), size as u64).file_name("big.mp4")
}

async fn delete(student: &reqwest::Client, url: &str, artifact: &Value) {
    let id = artifact["id"].as_str().unwrap();
    let res = student.delete(format!("{url}/api/v1/artifacts/{id}")).send().await.unwrap();
    assert!(res.status().is_success());
}

/// One multipart upload; returns its time and the artifact.
async fn multipart(student: &reqwest::Client, url: &str, block: &Bytes, size: usize, run: usize) -> (Duration, Value) {
    let start = Instant::now();
    let form = Form::new().text("title", format!("multipart {run}")).part("file", multipart_body(block, size));
    let res = student.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let artifact: Value = res.json().await.unwrap();
    (start.elapsed(), artifact)
}

/// Where a tus upload's time went.
#[derive(Default)]
struct TusTimes {
    total: Duration,
    /// All PATCHes but the last.
    patches: Duration,
    /// The last PATCH (its bytes, the digest check and moving the file into the store).
    last: Duration,
    /// Creating the upload and the artifact that uses it.
    other: Duration,
}

async fn tus(student: &reqwest::Client, url: &str, block: &Bytes, size: usize, run: usize) -> (TusTimes, Value) {
    let mut times = TusTimes::default();
    let start = Instant::now();
    let res = student
        .post(format!("{url}/api/v1/uploads"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", size)
        .header("upload-metadata", "filename YmlnLm1wNA==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = format!("{url}{}", res.headers()["location"].to_str().unwrap());
    times.other += start.elapsed();
    let mut offset = 0;
    while offset < size {
        let n = CHUNK.min(size - offset);
        let sent = Instant::now();
        let res = student
            .patch(&location)
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset)
            .body(block.slice(..n))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
        offset += n;
        if offset == size {
            times.last += sent.elapsed();
        } else {
            times.patches += sent.elapsed();
        }
    }
    let made = Instant::now();
    let form = Form::new().text("title", format!("tus {run}")).text("upload", location);
    let res = student.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let artifact: Value = res.json().await.unwrap();
    times.other += made.elapsed();
    times.total = start.elapsed();
    (times, artifact)
}

fn mib_s(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let size = if quick { 256 * MIB } else { 1024 * MIB };
    let runs = 3;
    let dir = tempfile::tempdir_in(std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let data = dir.path().join("data");
    let (mut child, url) = support::start_folio(&data, &[]);
    let admin = support::setup_school(&url, &data).await;
    support::add_person(&admin, &url, "s0", "student").await;
    let student = support::signed_in(&url, "s0").await;
    let block = support::block();
    let expected = expected_hash(&block, size);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (mut plain, mut resumable) = (Vec::new(), Vec::new());
    let mut breakdown = Vec::new();
    for run in 0..runs {
        let (took, artifact) = multipart(&student, &url, &block, size, run).await;
        assert_eq!(artifact["files"][0]["hash"], expected.as_str(), "multipart stored the bytes sent");
        delete(&student, &url, &artifact).await;
        plain.push(took);

        let (times, artifact) = tus(&student, &url, &block, size, run).await;
        assert_eq!(artifact["files"][0]["hash"], expected.as_str(), "tus stored the bytes sent");
        assert_eq!(artifact["files"][0]["name"], "big.mp4");
        delete(&student, &url, &artifact).await;
        resumable.push(times.total);
        breakdown.push(times);
        println!(
            "run {run}: multipart {:>7.1} MiB/s, tus {:>7.1} MiB/s",
            mib_s(size, took),
            mib_s(size, resumable[run])
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (plain, tus) = (mib_s(size, median(plain)), mib_s(size, median(resumable)));
    let chunks = size.div_ceil(CHUNK);
    let mean = |f: fn(&TusTimes) -> Duration| breakdown.iter().map(f).sum::<Duration>() / breakdown.len() as u32;
    println!("folio tus benchmark ({})", if quick { "quick" } else { "full" });
    println!(
        "{} MiB (median of {runs}): multipart stream {plain:>7.1} MiB/s | tus in {chunks} PATCHes of {} MiB {tus:>7.1} MiB/s | ratio tus/multipart {:.2} (target >= 0.80)",
        size / MIB,
        CHUNK / MIB,
        tus / plain
    );
    println!(
        "tus time (mean): {:.1} ms per PATCH, last PATCH (with digest check and move into the store) {:.0} ms, creation + artifact {:.0} ms",
        mean(|t| t.patches).as_secs_f64() * 1000.0 / (chunks - 1).max(1) as f64,
        mean(|t| t.last).as_secs_f64() * 1000.0,
        mean(|t| t.other).as_secs_f64() * 1000.0,
    );
}
