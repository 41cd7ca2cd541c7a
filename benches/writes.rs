//! Durable writes: comments posted by one writer and by 30 at once, against a raw 4 KiB
//! write + `fdatasync` on the same disk, in the same run.
//!
//! Run with `cargo bench --bench writes` (add `-- --quick` for one short round). The release
//! `folio` binary serves on 127.0.0.1 with its data in a temporary directory (under
//! `FOLIO_BENCH_DIR`, default the current one); the baseline's file is in the same directory.
//! Each step runs for a fixed time and counts what completed:
//!
//! - *raw*: one thread writes 4 KiB at the start of a file and `fdatasync`s it, over and over:
//!   the least any durable write costs on this disk;
//! - *one writer*: one signed-in client posts comments (`POST /api/v1/artifacts/{id}/comments`),
//!   each waiting for the answer (201, so durable) before the next;
//! - *30 writers*: 30 clients, each signed in on its own, do the same at once.
//!
//! Three rounds of the three steps, each round starting one step later than the one before
//! (this machine's disk swings in speed from minute to minute; neighbours in time are what is
//! comparable), each step after a short pause. Reported: every round, then the medians, the
//! two ratios the targets are about (30 writers ≥ 5× one writer's rate; one writer's time per
//! comment ≤ 3× the raw write's), each next to the spread its baseline had over the rounds.

mod support;

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How many clients post at once in the burst.
const WRITERS: usize = 30;

#[derive(Clone, Copy, Debug)]
enum Step {
    Raw,
    One,
    Thirty,
}

fn rotated(round: usize) -> impl Iterator<Item = Step> {
    const STEPS: [Step; 3] = [Step::Raw, Step::One, Step::Thirty];
    (0..3).map(move |i| STEPS[(i + round) % 3])
}

/// Writes per second of 4 KiB + `fdatasync`, one at a time, for `window`.
fn raw(dir: &Path, window: Duration) -> f64 {
    let path = dir.join("raw-baseline");
    let file = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    let page = vec![0x5au8; 4096];
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < window {
        file.write_all_at(&page, 0).unwrap();
        file.sync_data().unwrap();
        done += 1;
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    rate
}

/// Comments per second from `clients` posting at once, each one after the other, for `window`.
async fn comments(clients: &[reqwest::Client], url: &str, artifact: &str, window: Duration, tag: &str) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(c, client)| {
            let (client, target) = (client.clone(), format!("{url}/api/v1/artifacts/{artifact}/comments"));
            let tag = tag.to_string();
            tokio::spawn(async move {
                let mut done = 0u64;
                while start.elapsed() < window {
                    let res = client
                        .post(&target)
                        .json(&json!({"body": format!("{tag} writer {c} comment {done}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 201, "comment posted");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for t in tasks {
        done += t.await.unwrap();
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn spread(values: &[f64]) -> (f64, f64) {
    (values.iter().copied().fold(f64::INFINITY, f64::min), values.iter().copied().fold(0.0, f64::max))
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, window) = if quick { (1, Duration::from_secs(1)) } else { (3, Duration::from_secs(4)) };
    let dir = tempfile::tempdir_in(std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let data = dir.path().join("data");
    let (mut child, url) = support::start_folio(&data, &[]);

    // One student, one piece of work, and a client per writer, each signed in on its own.
    let admin = support::setup_school(&url, &data).await;
    support::add_person(&admin, &url, "s0", "student").await;
    let first = support::signed_in(&url, "s0").await;
    let form = reqwest::multipart::Form::new()
        .text("title", "work to comment on")
        .part("file", reqwest::multipart::Part::bytes(b"some notes".to_vec()).file_name("notes.txt"));
    let res = first.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201, "work made");
    let artifact = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let mut clients = vec![first];
    for _ in 1..WRITERS {
        clients.push(support::signed_in(&url, "s0").await);
    }
    // Warm up (connections, caches) before anything is timed.
    comments(&clients, &url, &artifact, Duration::from_millis(500), "warm-up").await;

    let (mut raws, mut ones, mut thirties) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut line = Vec::new();
        for step in rotated(round) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let tag = format!("round {round}");
            match step {
                Step::Raw => {
                    let dir = dir.path().to_path_buf();
                    let rate = tokio::task::spawn_blocking(move || raw(&dir, window)).await.unwrap();
                    line.push(format!("raw {rate:.0}/s"));
                    raws.push(rate);
                }
                Step::One => {
                    let rate = comments(&clients[..1], &url, &artifact, window, &tag).await;
                    line.push(format!("one writer {rate:.0}/s"));
                    ones.push(rate);
                }
                Step::Thirty => {
                    let rate = comments(&clients, &url, &artifact, window, &tag).await;
                    line.push(format!("{WRITERS} writers {rate:.0}/s"));
                    thirties.push(rate);
                }
            }
        }
        println!("round {}: {}", round + 1, line.join(" | "));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (raw_m, one_m, thirty_m) = (median(&raws), median(&ones), median(&thirties));
    let (raw_lo, raw_hi) = spread(&raws);
    let (one_lo, one_hi) = spread(&ones);
    println!("folio writes benchmark ({}, {window:?} a step)", if quick { "quick" } else { "full" });
    println!(
        "raw 4 KiB write + fdatasync: median {raw_m:.0}/s ({:.3} ms each), spread {raw_lo:.0}–{raw_hi:.0}/s over {rounds} rounds",
        1000.0 / raw_m
    );
    println!(
        "one writer: median {one_m:.0} comments/s ({:.3} ms each) = {:.2}× the raw write's time (target ≤ 3; {:.2}–{:.2}× over the raw spread)",
        1000.0 / one_m,
        raw_m / one_m,
        raw_lo / one_m,
        raw_hi / one_m
    );
    println!(
        "{WRITERS} writers: median {thirty_m:.0} comments/s = {:.2}× one writer's rate (target ≥ 5; {:.2}–{:.2}× over one writer's spread {one_lo:.0}–{one_hi:.0}/s)",
        thirty_m / one_m,
        thirty_m / one_hi,
        thirty_m / one_lo
    );
}
