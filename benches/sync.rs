//! Box-to-box sync between two real hosts, against rsync over the same link in the same run.
//!
//! Run with `cargo bench --bench sync` (as root: it makes network namespaces). Two boxes, A
//! and B, each the release `folio` in its own network namespace, joined by veth pairs through
//! a bridge (the integration tests' `netlab`). Box A holds, at scale 1:
//!
//! - 2,000 files of 3 MB and 20 of 200 MB, each its own artifact, uploaded through the API
//!   (four at a time);
//! - 100,000 records: comments on those artifacts, recorded with the library while A is
//!   stopped (`Store::write` and `Tx::record`, 5,000 to a transaction). They are real
//!   operations in the op log, made by the same code the API uses, only without an HTTP
//!   request and an fsync each (100,000 API calls would take longer than everything else);
//!
//! Then, timed:
//!
//! 1. *rsync*: the same files (A's blob store) from an rsync daemon in A's namespace to a
//!    directory in B's, `rsync -a` over the same link, then `sync` (folio fsyncs every file
//!    it stores, so rsync's time is also given with its data flushed to disk). It runs once
//!    before the full sync and once after (into a second directory), and folio is compared
//!    with the faster run: the disk's speed here can change several times over within
//!    minutes. Each timed step starts once both boxes are idle, after the same pause
//!    (`support::settle`: the disk takes a burst of writes fast, then slows).
//! 2. *full sync*: B pairs with A and syncs everything (`POST /api/v1/peers/{a}/sync`, which
//!    answers once files are in too); timed from the join, so a sync the pairing itself
//!    starts is counted. Throughput is the files' bytes over that time.
//! 3. *nothing new*: the same sync again, with nothing to send either way.
//! 4. *10 new artifacts*: made on A after 8 quiet seconds, then the time until all are
//!    readable on B without asking (the boxes' schedulers); then 10 more, synced on demand.
//!
//! `FOLIO_BENCH_SCALE` (default 1) scales the numbers of files and records (at least one of
//! each kind; the sizes stay 3 MB and 200 MB): `FOLIO_BENCH_SCALE=0.01` is a quick run of 20
//! photos, one video and 1,000 records. Data goes in `$TMPDIR` (about 4 × the files' size
//! at peak: A's store, B's store and rsync's two copies, which are deleted only after both
//! rsync runs, so that no timed step follows a large delete).

#[path = "../tests/integration/netlab.rs"]
mod netlab;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use folio::domain::{Change, Comment, CommentId, CommentKind};
use folio::store::{Queries, Store};
use netlab::{Lab, Node};
use support::Api;

const MB: usize = 1000 * 1000;
const MIB: f64 = 1024.0 * 1024.0;
const RSYNC_PORT: u16 = 8730;

/// Incompressible bytes: one 8 MiB block, each file a different window of it with its own
/// number in front, so every file has its own hash.
fn block() -> Vec<u8> {
    support::noise(8 << 20, 0xF0110)
}

fn file_bytes(block: &[u8], n: u64, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&n.to_le_bytes());
    let mut at = (n as usize * 4099) % block.len();
    while out.len() < size {
        let take = (size - out.len()).min(block.len() - at);
        out.extend_from_slice(&block[at..at + take]);
        at = (at + take) % block.len();
    }
    out
}

fn scaled(n: usize, scale: f64) -> usize {
    ((n as f64 * scale).round() as usize).max(1)
}

fn mib_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB / took.as_secs_f64()
}

async fn upload(node: &Node, student: &reqwest::Client, title: String, bytes: Vec<u8>) -> Value {
    let len = bytes.len() as u64;
    let form = Form::new().text("title", title).part("file", Part::stream_with_length(bytes, len).file_name("f.bin"));
    let res = student.post(node.url("/api/v1/artifacts")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201, "upload: {}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// `records` comments, spread over A's artifacts, written with the library (A stopped).
fn add_records(data: &Path, records: usize) -> Duration {
    let start = Instant::now();
    let store = Store::open(data).unwrap();
    let artifacts: Vec<_> = store
        .read(|r| {
            let ids = r.all_artifact_ids()?;
            ids.into_iter().map(|id| r.artifact(id)).collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    let mut made = 0;
    while made < records {
        let batch = (records - made).min(5000);
        store
            .write(|tx| {
                for i in made..made + batch {
                    let a = &artifacts[i % artifacts.len()];
                    let comment = Comment {
                        id: CommentId::new(),
                        artifact: a.id,
                        version: a.latest().map(|v| v.id),
                        author: a.owners[0],
                        kind: CommentKind::Comment,
                        body: format!("note {i}: what I would do differently next time"),
                        audio: None,
                        approved: false,
                        created_ms: folio::domain::hlc::wall_clock_ms(),
                    };
                    tx.record(a.school, a.partition(), Some(a.owners[0]), Change::CommentAdded { comment })?;
                }
                Ok::<_, folio::store::StoreError>(())
            })
            .unwrap();
        made += batch;
    }
    drop(store);
    start.elapsed()
}

/// Every regular file under `dir` except unfinished ones (`tmp/`): (count, bytes).
fn files_under(dir: &Path) -> (u64, u64) {
    let mut found = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            if e.file_name() != "tmp" {
                let (n, b) = files_under(&p);
                found = (found.0 + n, found.1 + b);
            }
        } else if let Ok(m) = e.metadata() {
            found = (found.0 + 1, found.1 + m.len());
        }
    }
    found
}

/// rsync of A's blob store to a new directory `dest` in B, over the lab's link: (time, time
/// with the copy flushed to disk). The copy is left in place (see `main`).
fn rsync(lab_dir: &Path, a: &Node, b: &Node, dest: &Path) -> (Duration, Duration) {
    let conf = lab_dir.join("rsyncd.conf");
    std::fs::write(
        &conf,
        format!(
            "use chroot = no\nuid = root\ngid = root\n[blobs]\n  path = {}\n  read only = yes\n  exclude = tmp/\n",
            a.data_dir.join("blobs").display()
        ),
    )
    .unwrap();
    let mut daemon = Command::new("ip")
        .args(["netns", "exec", &a.ns, "rsync", "--daemon", "--no-detach"])
        .arg(format!("--config={}", conf.display()))
        .args([&format!("--address={}", a.ip), &format!("--port={RSYNC_PORT}")])
        .stdout(Stdio::null())
        .spawn()
        .expect("rsync (tests/install-deps.sh installs it)");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::create_dir_all(dest).unwrap();
    let start = Instant::now();
    let status = Command::new("ip")
        .args(["netns", "exec", &b.ns, "rsync", "-a", &format!("rsync://{}:{RSYNC_PORT}/blobs/", a.ip)])
        .arg(format!("{}/", dest.display()))
        .status()
        .unwrap();
    let took = start.elapsed();
    assert!(status.success(), "rsync failed");
    let status = Command::new("sync").arg("-f").arg(dest).status().unwrap();
    assert!(status.success());
    let flushed = start.elapsed();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let (n, _) = files_under(dest);
    println!(
        "rsync copied {n} files in {:.1} s ({:.1} s with the copy flushed)",
        took.as_secs_f64(),
        flushed.as_secs_f64()
    );
    (took, flushed)
}

/// Waits until neither box uses more than a twentieth of a core over a second (B's search
/// indexer works through a big sync's comments for a while after it), so each timed step
/// starts from quiet boxes and background work is charged to no one.
async fn until_quiet(pids: &[u32]) {
    let total = || pids.iter().map(|p| support::cpu_seconds(*p)).sum::<f64>();
    let give_up = Instant::now() + Duration::from_secs(120);
    let mut before = total();
    while Instant::now() < give_up {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = total();
        if now - before <= 0.05 {
            return;
        }
        before = now;
    }
}

#[tokio::main]
async fn main() {
    let scale: f64 = std::env::var("FOLIO_BENCH_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    let (photos, videos, records) = (scaled(2000, scale), scaled(20, scale), scaled(100_000, scale));
    println!(
        "folio sync benchmark, scale {scale}: {photos} × 3 MB + {videos} × 200 MB files, {records} records (FOLIO_BENCH_SCALE)"
    );
    let Some(mut lab) = Lab::new() else {
        eprintln!("the sync benchmark needs root (network namespaces)");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut a = lab.add_box("a");
    let mut b = lab.add_box("b");
    // No mDNS: a sync started by discovery would race the one being timed (the timing
    // starts at the join anyway).
    let max = (1u64 << 30).to_string();
    let flags = ["--no-mdns", "--max-file-bytes", max.as_str(), "--student-quota-bytes", "100000000000000"];
    tokio::join!(a.start_with(&flags), b.start_with(&flags));
    let (a_admin, _) = a.setup("Bench A").await;
    let (b_admin, _) = b.setup("Bench B").await;
    let (_, student) = a.person(&a_admin, "sam", "student").await;

    // Box A's files, through the API.
    let start = Instant::now();
    let block = std::sync::Arc::new(block());
    let sizes: Vec<usize> = std::iter::repeat_n(3 * MB, photos).chain(std::iter::repeat_n(200 * MB, videos)).collect();
    // (One more 3 MB file, the first artifact, carries a known share of the records.)
    let total_bytes: u64 = sizes.iter().map(|s| *s as u64).sum::<u64>() + 3 * MB as u64;
    let a = std::sync::Arc::new(a);
    let mut next = 0;
    let first = upload(&a, &student, "work first".into(), file_bytes(&block, u64::MAX, 3 * MB)).await;
    while next < sizes.len() {
        let mut batch = Vec::new();
        for (i, size) in sizes.iter().enumerate().skip(next).take(4) {
            let (a, student, block, size) = (a.clone(), student.clone(), block.clone(), *size);
            batch.push(tokio::spawn(async move {
                let bytes = tokio::task::spawn_blocking(move || file_bytes(&block, i as u64, size)).await.unwrap();
                upload(&a, &student, format!("work {i}"), bytes).await;
            }));
        }
        next += batch.len();
        for t in batch {
            t.await.unwrap();
        }
    }
    let mut a = std::sync::Arc::try_unwrap(a).ok().unwrap();
    println!(
        "made on A: {} files, {:.0} MiB through the API in {:.1} s",
        sizes.len() + 1,
        total_bytes as f64 / MIB,
        start.elapsed().as_secs_f64()
    );
    a.stop();
    let data = a.data_dir.clone();
    let took = tokio::task::spawn_blocking(move || add_records(&data, records)).await.unwrap();
    println!("made on A: {records} records (comments) with the library in {:.1} s", took.as_secs_f64());
    a.start_with(&flags).await;
    let a_admin = a.client();
    a.login(&a_admin, "admin-a", support::ADMIN_PASSWORD).await;

    // 1. rsync of the same files over the same link, before (and again after) folio's sync.
    // Its copies stay until the end: deleting gigabytes just before a timed step slows that
    // step's writes (ext4 discards, freshly freed inodes to skip), and only folio would pay.
    let pids = [a.pid().unwrap_or(0), b.pid().unwrap_or(0)];
    until_quiet(&pids).await;
    support::settle().await;
    let rsync_before = rsync(work.path(), &a, &b, &work.path().join("rsync-before"));
    until_quiet(&pids).await;
    support::settle().await;

    // 2. Full sync, from the join.
    let res = a.post(&a_admin, "/api/v1/peers/invite", json!({})).await;
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let cpu_before = (support::cpu_seconds(a.pid().unwrap_or(0)), support::cpu_seconds(b.pid().unwrap_or(0)));
    let start = Instant::now();
    let res = b.post(&b_admin, "/api/v1/peers/join", json!({"token": token})).await;
    assert_eq!(res.status(), 201, "join");
    let a_id = res.json::<Value>().await.unwrap()["peer_id"].as_str().unwrap().to_string();
    let counts = b.sync_ok(&b_admin, &a_id).await;
    let full = start.elapsed();
    let cpu = (
        support::cpu_seconds(a.pid().unwrap_or(0)) - cpu_before.0,
        support::cpu_seconds(b.pid().unwrap_or(0)) - cpu_before.1,
    );
    let (n, bytes) = files_under(&b.data_dir.join("blobs"));
    assert!(n > sizes.len() as u64 && bytes >= total_bytes, "B holds {n} files, {bytes} bytes: {counts}");
    until_quiet(&pids).await;
    support::settle().await;
    let rsync_after = rsync(work.path(), &a, &b, &work.path().join("rsync-after"));
    for copy in ["rsync-before", "rsync-after"] {
        std::fs::remove_dir_all(work.path().join(copy)).unwrap();
    }
    // The machine's disk drifts by several times over within minutes: folio is compared with
    // the faster of rsync's two runs, the stricter yardstick.
    let rsync_runs = [rsync_before, rsync_after];
    let (rsync_took, rsync_flushed) = rsync_runs.iter().copied().min().unwrap();

    // The records came too: the first artifact's comments, as its owner reads them on each box.
    let sam_on_a = a.try_login("sam", "sam-password").await.expect("sam signs in on A");
    let comments = |node: &Node, client: &reqwest::Client| {
        let url = node.url(&format!("/api/v1/artifacts/{}/comments", first["id"].as_str().unwrap()));
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().json::<Value>().await.unwrap().as_array().map_or(0, Vec::len) }
    };
    let sam_on_b = b.try_login("sam", "sam-password").await.expect("sam signs in on B");
    let (on_a, on_b) = (comments(&a, &sam_on_a).await, comments(&b, &sam_on_b).await);
    assert!(on_a > 0 && on_a == on_b, "the first artifact has {on_a} comments on A, {on_b} on B");

    // 3. Nothing new.
    let start = Instant::now();
    let nothing = b.sync_ok(&b_admin, &a_id).await;
    let nothing_took = start.elapsed();
    assert_eq!(nothing["ops_received"].as_u64(), Some(0), "{nothing}");

    // 4. Ten new artifacts: by themselves, then on demand.
    // From a quiet box: no round already due from the sign-ins and syncs just before.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut fresh = Vec::new();
    let first_made = Instant::now();
    for i in 0..10 {
        fresh.push(upload(&a, &student, format!("new {i}"), file_bytes(&block, 1_000_000 + i, 100_000)).await);
    }
    let made = Instant::now();
    let making = made - first_made;
    let mut arrived_alone = None;
    while made.elapsed() < Duration::from_secs(60) {
        let mut all = true;
        for w in &fresh {
            if b.file_of(&sam_on_b, w).await.is_err() {
                all = false;
                break;
            }
        }
        if all {
            arrived_alone = Some(made.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fresh = Vec::new();
    let start = Instant::now();
    for i in 0..10 {
        fresh.push(upload(&a, &student, format!("newer {i}"), file_bytes(&block, 2_000_000 + i, 100_000)).await);
    }
    let made_took = start.elapsed();
    let start = Instant::now();
    b.sync_ok(&b_admin, &a_id).await;
    let on_demand = start.elapsed();
    for w in &fresh {
        assert!(b.file_of(&sam_on_b, w).await.is_ok(), "arrived with the sync");
    }

    for line in b.log().lines().chain(a.log().lines()).filter(|l| l.contains("sync round:")) {
        println!("box log: {line}");
    }
    println!(
        "---- results (scale {scale}; {} files, {:.0} MiB, {records} records) ----",
        sizes.len() + 1,
        total_bytes as f64 / MIB
    );
    let folio_rate = mib_s(total_bytes, full);
    let (r1, r2) = (mib_s(total_bytes, rsync_took), mib_s(total_bytes, rsync_flushed));
    println!(
        "rsync -a over the link, the faster of its runs before and after ({:.1} s and {:.1} s): {:.1} s, {r1:.1} MiB/s; with its copy flushed to disk (sync): {:.1} s, {r2:.1} MiB/s",
        rsync_runs[0].0.as_secs_f64(),
        rsync_runs[1].0.as_secs_f64(),
        rsync_took.as_secs_f64(),
        rsync_flushed.as_secs_f64()
    );
    println!(
        "folio full sync (pair + sync, files fsynced, TLS): {:.1} s, {folio_rate:.1} MiB/s; ratio to rsync {:.2}, to rsync+flush {:.2} (target ≥ 0.9); counts {counts}",
        full.as_secs_f64(),
        folio_rate / r1,
        folio_rate / r2
    );
    println!(
        "CPU used during the full sync: box A {:.1} s, box B {:.1} s, over {:.1} s (2 cores)",
        cpu.0,
        cpu.1,
        full.as_secs_f64()
    );
    println!("nothing-new sync over {records} records: {:.3} s (target < 1 s)", nothing_took.as_secs_f64());
    match arrived_alone {
        Some(t) => println!(
            "10 new artifacts (made in {:.2} s) readable on B without asking: {:.2} s after the last was made, {:.2} s after the first (target < 2 s)",
            making.as_secs_f64(),
            t.as_secs_f64(),
            (t + making).as_secs_f64()
        ),
        None => println!("10 new artifacts did not reach B by themselves within 60 s"),
    }
    println!(
        "10 more artifacts (made in {:.2} s): on-demand sync took {:.2} s (target < 2 s)",
        made_took.as_secs_f64(),
        on_demand.as_secs_f64()
    );
}
