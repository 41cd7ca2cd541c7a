//! Files on a Garage cluster: folio with `--blobs s3://…` against the same client crate
//! talking to the same bucket straight, in the same run.
//!
//! Run with `cargo bench --bench s3` (Garage from `tests/install-deps.sh`). It starts a 3-node
//! Garage cluster on loopback (replication 3, the integration tests' `GarageCluster`) and the
//! release `folio` binary on a bucket of its own, then alternates three times:
//!
//! - **upload**: 1 GiB of incompressible bytes uploaded to folio (multipart form, as a browser
//!   sends a video) against the same bytes sent straight to the bucket as an S3 multipart
//!   upload by `object_store` with folio's part size and parts in flight;
//! - **Range download**: 64 MiB from the middle of the stored file through folio (`Range`)
//!   against a ranged GET of the same bytes straight from the bucket.
//!
//! Each run uploads different bytes (a shifted window of the same data), so neither side is
//! ever deduplicated. Reported: the medians, their ratio (target ≥ 0.8× for both), and
//! folio's peak memory growth during its uploads (VmHWM − idle VmRSS).

mod support;

#[path = "../tests/integration/support/garage.rs"]
#[allow(dead_code)]
mod garage;

use std::time::{Duration, Instant};

use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use reqwest::multipart::Form;
use serde_json::Value;

const MIB: usize = 1024 * 1024;
/// folio's part size and parts in flight (`src/blobs/s3.rs`), for a like-for-like baseline.
const PART_SIZE: usize = 8 << 20;
const PARTS_IN_FLIGHT: usize = 4;

fn median(runs: &[Duration]) -> Duration {
    let mut sorted = runs.to_vec();
    sorted.sort();
    // An even number of runs (the Range is timed twice a run) has two middles: their mean.
    let n = sorted.len();
    if n % 2 == 0 { (sorted[n / 2 - 1] + sorted[n / 2]) / 2 } else { sorted[n / 2] }
}

fn mib_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

/// Min / median / max as rates, the median being the rate of the median time, so that the
/// ratio printed below (of the median times) is the ratio of these medians.
fn spread(runs: &[Duration], bytes: usize) -> String {
    let slowest = runs.iter().max().expect("runs");
    let fastest = runs.iter().min().expect("runs");
    format!("{:.0} / {:.0} / {:.0} MiB/s", mib_s(bytes, *slowest), mib_s(bytes, median(runs)), mib_s(bytes, *fastest))
}

#[tokio::main]
async fn main() {
    let size = std::env::var("FOLIO_BENCH_S3_MB").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(1024) * MIB;
    let range_len = 64 * MIB;
    // Blocking, briefly: Garage's own CLI and a readiness check on a runtime of its own.
    let cluster = garage::GarageCluster::start();
    let bucket = cluster.new_bucket();
    let direct_bucket = cluster.new_bucket();
    let direct = cluster.client(&direct_bucket);

    let dir = tempfile::tempdir_in(std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let data = dir.path().join("data");
    let settings = cluster.settings(0);
    let env = [
        ("FOLIO_S3_ENDPOINT", settings.endpoint.clone()),
        ("FOLIO_S3_ACCESS_KEY_ID", settings.access_key_id.clone()),
        ("FOLIO_S3_SECRET_ACCESS_KEY", settings.secret_access_key.clone()),
    ];
    let place = format!("s3://{bucket}");
    let max_file = (2u64 << 30).to_string();
    let (mut child, url) =
        support::start_folio_with_env(&data, &["--blobs", &place, "--max-file-bytes", &max_file], &env);
    let pid = child.id();
    let admin = support::setup_school(&url, &data).await;
    support::add_person(&admin, &url, "s0", "student").await;
    let student = support::signed_in(&url, "s0").await;
    let block = support::block();
    tokio::time::sleep(Duration::from_millis(300)).await;
    support::reset_peak(pid);
    let idle = support::proc_kib(pid, "VmRSS:");

    let (mut folio_up, mut direct_up, mut folio_range, mut direct_range) = (vec![], vec![], vec![], vec![]);
    let mut peak = 0;
    for run in 0..3 {
        // A window shifted by a few KiB each time: new content, so no dedupe on either side.
        let (mine, theirs) =
            (support::pieces(&block, size, run * 8192 + 1), support::pieces(&block, size, run * 8192 + 4097));
        support::settle().await;
        let start = Instant::now();
        let res = student
            .post(format!("{url}/api/v1/artifacts"))
            .multipart(
                Form::new()
                    .text("title", format!("film {run}"))
                    .part("file", support::file_part(mine.clone(), "film.mp4")),
            )
            .send()
            .await
            .unwrap();
        folio_up.push(start.elapsed());
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        peak = peak.max(support::proc_kib(pid, "VmHWM:"));
        let body: Value = res.json().await.unwrap();
        let file_url = format!(
            "{url}/api/v1/artifacts/{}/files/{}",
            body["id"].as_str().unwrap(),
            body["files"][0]["id"].as_str().unwrap()
        );

        support::settle().await;
        let key = Key::from(format!("direct/{run}"));
        let start = Instant::now();
        let upload = direct.put_multipart(&key).await.unwrap();
        let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for piece in theirs {
            parts.wait_for_capacity(PARTS_IN_FLIGHT).await.unwrap();
            parts.put(piece);
        }
        parts.finish().await.unwrap();
        direct_up.push(start.elapsed());

        // The Range: 64 MiB from the middle, each way, twice per run.
        let from = (size / 2) as u64;
        for _ in 0..2 {
            let start = Instant::now();
            let res = student
                .get(&file_url)
                .header("range", format!("bytes={from}-{}", from + range_len as u64 - 1))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 206);
            let got = res.bytes().await.unwrap();
            folio_range.push(start.elapsed());
            assert_eq!(got.len(), range_len);

            let start = Instant::now();
            let options =
                GetOptions { range: Some(GetRange::Bounded(from..from + range_len as u64)), ..Default::default() };
            let got = direct.get_opts(&key, options).await.unwrap().bytes().await.unwrap();
            direct_range.push(start.elapsed());
            assert_eq!(got.len(), range_len);
        }
    }
    let _ = child.kill();

    let (fu, du) = (median(&folio_up), median(&direct_up));
    let (fr, dr) = (median(&folio_range), median(&direct_range));
    println!("S3 backend on a 3-node Garage cluster (replication 3, loopback), {} MiB per upload", size / MIB);
    println!(
        "  upload   folio: {}   straight to the bucket: {}   (min / median / max)",
        spread(&folio_up, size),
        spread(&direct_up, size)
    );
    println!("           ratio of medians: {:.2}x (target >= 0.8x)", du.as_secs_f64() / fu.as_secs_f64());
    println!(
        "  Range    folio: {}   ranged GET: {}   ({} MiB each)",
        spread(&folio_range, range_len),
        spread(&direct_range, range_len),
        range_len / MIB
    );
    println!("           ratio of medians: {:.2}x (target >= 0.8x)", dr.as_secs_f64() / fr.as_secs_f64());
    println!(
        "  folio's memory: idle {} MiB, peak during uploads {} MiB (+{} MiB)",
        idle / 1024,
        peak / 1024,
        peak.saturating_sub(idle) / 1024
    );
}
