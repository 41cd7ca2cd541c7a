//! Upload throughput and memory, against a baseline measured in the same run.
//!
//! Run with `cargo bench --bench upload` (add `-- --quick` for a smaller, faster run). The
//! release `folio` binary serves on 127.0.0.1 with its data in a temporary directory on the
//! same disk as the baselines' files. Reported: throughput of one 1 GiB upload and of a burst
//! of 30 clients (3 × 3 MB photos and 1 × 200 MB video each), folio's peak memory growth over
//! its idle size (VmHWM − idle VmRSS from /proc), and two baselines in the same run. The
//! single upload alternates with its baselines three times (medians compared); the burst
//! runs in three rounds of the three, each round's ratio from neighbours in time, and the
//! median round is reported. Each round starts one step later than the one before, and
//! every timed step starts after the same pause (`support::settle`: this machine's disk
//! takes a burst of writes fast and then slows, so without the pause the first step of a
//! round would get the fast part). The baselines:
//!
//! - *disk*: the same bytes written straight to a plain file (1 MiB buffer, fsync);
//! - *stream*: the same bytes streamed over loopback by the same HTTP client to the fastest
//!   plain server we could write ([`stream_sink`]: blocking sockets, the body read straight
//!   into 1 MiB buffers on one thread and written to a plain file on another, fsync): only
//!   what any upload must do (client, TCP, disk), without folio's work (HTTP framework,
//!   multipart, hashing, EXIF, rename, the op log). The client and the server share this
//!   box's 2 cores, as they do for folio, so this is the fair yardstick for folio's own
//!   cost; the disk baseline is the disk's. (A sink that received and wrote on one thread,
//!   leaving the write-out to the final fsync, was slower than folio in quick runs:
//!   1,199–1,309 MiB/s where folio did 1,309–1,396.)

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::multipart::Form;
use serde_json::Value;

const MIB: usize = 1024 * 1024;

fn hash_of(pieces: &[Bytes]) -> String {
    let mut h = blake3::Hasher::new();
    for p in pieces {
        h.update(p);
    }
    h.finalize().to_hex().to_string()
}

/// The baseline: write each file's bytes with a 1 MiB buffer and fsync, `files` in parallel.
fn baseline(dir: &std::path::Path, files: &[Vec<Bytes>]) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for (i, file) in files.iter().enumerate() {
            let path = dir.join(format!("baseline-{i}"));
            s.spawn(move || {
                let f = std::fs::File::create(&path).unwrap();
                let mut w = std::io::BufWriter::with_capacity(MIB, f);
                for p in file {
                    w.write_all(p).unwrap();
                }
                w.into_inner().unwrap().sync_all().unwrap();
            });
        }
    });
    let took = start.elapsed();
    for i in 0..files.len() {
        let _ = std::fs::remove_file(dir.join(format!("baseline-{i}")));
    }
    took
}

/// The stream baseline's server: the fastest plain way we found to take an HTTP upload onto
/// the disk. Plain threads and blocking sockets, one per connection; each request's head is
/// read up to its blank line (only `Content-Length` is looked at), and its body is
/// received on one thread and written on another ([`write_body`]).
fn stream_sink(dir: std::path::PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sink", listener.local_addr().unwrap());
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let (dir, counter) = (dir.clone(), counter.clone());
            let conn = conn.unwrap();
            std::thread::spawn(move || sink_requests(conn, &dir, &counter));
        }
    });
    url
}

/// Serves one connection's requests until the client closes it.
fn sink_requests(mut conn: std::net::TcpStream, dir: &std::path::Path, counter: &std::sync::atomic::AtomicUsize) {
    use std::io::Read;
    use std::sync::mpsc;
    let mut head = vec![0u8; 64 * 1024];
    loop {
        // The head, which is small: read until the blank line.
        let mut have = 0;
        let head_end = loop {
            if let Some(i) = head[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(have < head.len(), "a request head over 64 KiB");
            let n = conn.read(&mut head[have..]).unwrap();
            if n == 0 {
                return; // the client closed the connection
            }
            have += n;
        };
        let length: usize = String::from_utf8_lossy(&head[..head_end])
            .to_ascii_lowercase()
            .lines()
            .find_map(|line| line.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
            .expect("the bench sends every body with its length");
        let path = dir.join(format!("stream-{}", counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
        // The body: straight from the socket into 1 MiB buffers (the first starts with the
        // body bytes that came in with the head), each full one handed to the writer.
        let (full, to_write) = mpsc::sync_channel::<(Vec<u8>, usize)>(1);
        let (spare, written) = mpsc::channel::<Vec<u8>>();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || write_body(&path, to_write, spare))
        };
        let mut buf = vec![0u8; MIB];
        let mut filled = have - head_end;
        // The client waits for each answer before it sends the next request (no pipelining),
        // so nothing after this body can have come in yet.
        assert!(filled <= length, "bytes after the body");
        buf[..filled].copy_from_slice(&head[head_end..have]);
        let mut left = length - filled;
        loop {
            if filled == MIB || (left == 0 && filled > 0) {
                let next = written.try_recv().unwrap_or_else(|_| vec![0u8; MIB]);
                full.send((std::mem::replace(&mut buf, next), filled)).unwrap();
                filled = 0;
            }
            if left == 0 {
                break;
            }
            let n = conn.read(&mut buf[filled..filled + left.min(MIB - filled)]).unwrap();
            assert!(n > 0, "the client sends the whole body");
            (filled, left) = (filled + n, left - n);
        }
        drop(full);
        writer.join().unwrap();
        let _ = std::fs::remove_file(&path);
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").unwrap();
    }
}

/// The stream baseline's writer: writes each buffer to a plain file and hands it back, and
/// fsyncs at the end. Like folio (and for the same reasons: see `blobs::Writeback`), it asks
/// the disk to start on each written megabyte and drops from the page cache what it asked
/// for two megabytes before (by then on the disk; pages still being written are kept).
fn write_body(
    path: &std::path::Path,
    buffers: std::sync::mpsc::Receiver<(Vec<u8>, usize)>,
    spare: std::sync::mpsc::Sender<Vec<u8>>,
) {
    use std::os::fd::AsRawFd;
    let mut file = std::fs::File::create(path).unwrap();
    let fd = file.as_raw_fd();
    // Where write-out was started last time and the time before, and how far pages were dropped.
    let (mut written, mut started, mut previous, mut dropped) = (0i64, 0i64, 0i64, 0i64);
    for (buf, len) in buffers {
        file.write_all(&buf[..len]).unwrap();
        written += len as i64;
        // SAFETY: a valid descriptor and non-empty byte ranges (a length of 0 would mean "to
        // the end of the file"); both calls only advise the kernel.
        unsafe {
            libc::sync_file_range(fd, started, written - started, libc::SYNC_FILE_RANGE_WRITE);
            if previous > dropped {
                libc::posix_fadvise(fd, dropped, previous - dropped, libc::POSIX_FADV_DONTNEED);
            }
        }
        (dropped, previous, started) = (previous, started, written);
        let _ = spare.send(buf);
    }
    file.sync_all().unwrap();
}

/// Streams each file's bytes to the sink, all at once, and times it. The bodies go with
/// their length, as folio's uploads do.
async fn stream_baseline(sink: &str, files: &[Vec<Bytes>]) -> Duration {
    let http = reqwest::Client::new();
    let start = Instant::now();
    let sends: Vec<_> = files
        .iter()
        .map(|file| {
            let len: usize = file.iter().map(Bytes::len).sum();
            let stream = futures_util::stream::iter(file.clone().into_iter().map(Ok::<_, std::io::Error>));
            let req = http
                .post(sink)
                .header(reqwest::header::CONTENT_LENGTH, len)
                .body(reqwest::Body::wrap_stream(stream))
                .send();
            tokio::spawn(req)
        })
        .collect();
    for s in sends {
        let res = s.await.unwrap().unwrap();
        assert!(res.status().is_success());
        assert_eq!(res.text().await.unwrap(), "ok");
    }
    start.elapsed()
}

/// Starts a new peak-memory measurement: Linux resets VmHWM to the current RSS.
/// The three things timed, in the order of a round's first step. Each round starts one step
/// later, so no step always follows the same one (whatever one step leaves behind, such as
/// dirty pages or a big delete, is shared out).
#[derive(Clone, Copy, Debug)]
enum Step {
    Disk,
    Stream,
    Folio,
}

fn rotated(round: usize) -> impl Iterator<Item = Step> {
    const STEPS: [Step; 3] = [Step::Disk, Step::Stream, Step::Folio];
    (0..3).map(move |i| STEPS[(i + round) % 3])
}

/// A round's steps in the order they ran, for the report: "Disk, Stream, Folio".
fn order(round: usize) -> String {
    rotated(round).map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

fn mb_s(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (single_size, mut clients, mut video_size) =
        if quick { (256 * MIB, 8, 50 * MIB) } else { (1024 * MIB, 30, 200 * MIB) };
    // For exploring: FOLIO_BENCH_CLIENTS and FOLIO_BENCH_VIDEO_MB change the burst's shape
    // (FOLIO_BENCH_CLIENTS=0 measures the single upload alone).
    if let Some(n) = std::env::var("FOLIO_BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()) {
        clients = n;
    }
    if let Some(mb) = std::env::var("FOLIO_BENCH_VIDEO_MB").ok().and_then(|v| v.parse::<usize>().ok()) {
        video_size = mb * MIB;
    }
    let photo_size = 3 * 1000 * 1000;
    let dir = tempfile::tempdir_in(std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let data = dir.path().join("data");

    let max_file = (2u64 << 30).to_string();
    let (mut child, url) = support::start_folio(&data, &["--max-file-bytes", &max_file]);
    let pid = child.id();

    // A school and one student per client.
    let admin = support::setup_school(&url, &data).await;
    for i in 0..clients.max(1) {
        support::add_person(&admin, &url, &format!("s{i}"), "student").await;
    }
    let block = support::block();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss = support::proc_kib(pid, "VmRSS:");

    // 1. One big upload, alternating with the baseline three times: the page cache makes a
    // single baseline run swing widely on a virtual disk, so the medians are compared.
    let file = support::pieces(&block, single_size, 0);
    let expected = hash_of(&file);
    let student = support::signed_in(&url, "s0").await;
    // Sign-ins hash passwords (19 MiB each, returned at once); measure the uploads alone.
    tokio::time::sleep(Duration::from_millis(200)).await;
    support::reset_peak(pid);
    let idle_single = support::proc_kib(pid, "VmRSS:");
    let sink = stream_sink(dir.path().to_path_buf());
    let (mut folio_runs, mut base_runs, mut stream_runs) = (Vec::new(), Vec::new(), Vec::new());
    let cpu_before = (support::cpu_seconds(pid), support::cpu_seconds(std::process::id()));
    for run in 0..3 {
        for step in rotated(run) {
            support::settle().await;
            match step {
                Step::Disk => base_runs.push(baseline(dir.path(), std::slice::from_ref(&file))),
                Step::Stream => stream_runs.push(stream_baseline(&sink, std::slice::from_ref(&file)).await),
                Step::Folio => {
                    let start = Instant::now();
                    let res = student
                        .post(format!("{url}/api/v1/artifacts"))
                        .multipart(
                            Form::new()
                                .text("title", format!("big {run}"))
                                .part("file", support::file_part(file.clone(), "big.mp4")),
                        )
                        .send()
                        .await
                        .unwrap();
                    folio_runs.push(start.elapsed());
                    assert_eq!(res.status(), 201);
                    let body: Value = res.json().await.unwrap();
                    assert_eq!(body["files"][0]["hash"], expected.as_str(), "stored bytes hash to what was sent");
                    // The same bytes again would be stored once (dedupe); delete so each run writes them.
                    let id = body["id"].as_str().unwrap();
                    student.delete(format!("{url}/api/v1/artifacts/{id}")).send().await.unwrap();
                }
            }
        }
    }
    let server_cpu = support::cpu_seconds(pid) - cpu_before.0;
    let client_cpu = support::cpu_seconds(std::process::id()) - cpu_before.1;
    let folio_wall: f64 = folio_runs.iter().map(Duration::as_secs_f64).sum();
    for (run, ((folio, base), stream)) in folio_runs.iter().zip(&base_runs).zip(&stream_runs).enumerate() {
        println!(
            "single run {} ({}): folio {:>7.1} MiB/s | disk baseline {:>7.1} MiB/s | stream baseline {:>7.1} MiB/s",
            run + 1,
            order(run),
            mb_s(single_size, *folio),
            mb_s(single_size, *base),
            mb_s(single_size, *stream)
        );
    }
    folio_runs.sort();
    base_runs.sort();
    stream_runs.sort();
    let peak_single = support::proc_kib(pid, "VmHWM:");
    let single = (mb_s(single_size, folio_runs[1]), mb_s(single_size, base_runs[1]), mb_s(single_size, stream_runs[1]));

    // 2. The burst: every client at once.
    let mut files = Vec::new();
    let mut uploads = Vec::new();
    for c in 0..clients {
        let shapes: Vec<(usize, &str)> =
            vec![(photo_size, "a.jpg"), (photo_size, "b.jpg"), (photo_size, "c.jpg"), (video_size, "clip.mp4")];
        let mut parts = Vec::new();
        for (k, (size, name)) in shapes.into_iter().enumerate() {
            let p = support::pieces(&block, size, (c * 7 + k) * 4096 + 1);
            parts.push((hash_of(&p), p, name));
        }
        // The baselines get each client's four files as one stream, as folio gets one request.
        files.push(parts.iter().flat_map(|(_, p, _)| p.iter().cloned()).collect::<Vec<Bytes>>());
        uploads.push(parts);
    }
    let total: usize = files.iter().flatten().map(Bytes::len).sum();
    let mut clients_ready = Vec::new();
    for c in 0..clients {
        clients_ready.push(support::signed_in(&url, &format!("s{c}")).await);
    }
    // Rounds of (disk baseline, stream baseline, folio), rotated, each after a pause, each
    // folio burst compared with the baselines of its own round: the disk's speed drifts by
    // several times over minutes here, so only neighbours are comparable. The median round
    // is reported.
    let rounds = if clients == 0 {
        0
    } else if quick {
        1
    } else {
        3
    };
    let mut results = Vec::new();
    let mut peak_growth = 0u64;
    let (mut burst_cpu, mut burst_client_cpu, mut burst_wall) = (0.0, 0.0, 0.0);
    let mut verified = 0;
    for round in 0..rounds {
        let (mut base, mut stream, mut folio) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        for step in rotated(round) {
            support::settle().await;
            match step {
                Step::Disk => base = baseline(dir.path(), &files),
                Step::Stream => stream = stream_baseline(&sink, &files).await,
                Step::Folio => {
                    support::reset_peak(pid);
                    let idle_burst = support::proc_kib(pid, "VmRSS:");
                    let cpu_before = (support::cpu_seconds(pid), support::cpu_seconds(std::process::id()));
                    let start = Instant::now();
                    let mut tasks = Vec::new();
                    for (c, parts) in uploads.iter().cloned().enumerate() {
                        let http = clients_ready[c].clone();
                        let url = url.clone();
                        tasks.push(tokio::spawn(async move {
                            let hashes: Vec<String> = parts.iter().map(|(h, _, _)| h.clone()).collect();
                            let mut form = Form::new().text("title", format!("burst {round}.{c}"));
                            for (_, p, name) in parts {
                                form = form.part("file", support::file_part(p, name));
                            }
                            let res =
                                http.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
                            assert_eq!(res.status(), 201);
                            let body: Value = res.json().await.unwrap();
                            let stored: Vec<String> = body["files"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|f| f["hash"].as_str().unwrap().to_string())
                                .collect();
                            assert_eq!(stored, hashes, "every file's hash verified");
                            (body["id"].as_str().unwrap().to_string(), stored.len())
                        }));
                    }
                    let mut made = Vec::new();
                    for t in tasks {
                        let (id, n) = t.await.unwrap();
                        verified += n;
                        made.push(id);
                    }
                    folio = start.elapsed();
                    burst_cpu += support::cpu_seconds(pid) - cpu_before.0;
                    burst_client_cpu += support::cpu_seconds(std::process::id()) - cpu_before.1;
                    burst_wall += folio.as_secs_f64();
                    let peak = support::proc_kib(pid, "VmHWM:");
                    peak_growth = peak_growth.max(peak.saturating_sub(idle_burst));
                    // Deleted, so the next round stores every byte again (identical content is
                    // stored once).
                    for (c, id) in made.iter().enumerate() {
                        let res = clients_ready[c].delete(format!("{url}/api/v1/artifacts/{id}")).send().await.unwrap();
                        assert_eq!(res.status(), 204);
                    }
                }
            }
        }
        let (folio, base, stream) = (mb_s(total, folio), mb_s(total, base), mb_s(total, stream));
        println!(
            "burst round {} ({}): folio {folio:>7.1} MiB/s | disk baseline {base:>7.1} MiB/s, ratio {:.2} | stream baseline {stream:>7.1} MiB/s, ratio {:.2}",
            round + 1,
            order(round),
            folio / base,
            folio / stream
        );
        results.push((folio, base, stream));
    }
    results.sort_by(|x, y| (x.0 / x.1).total_cmp(&(y.0 / y.1)));
    let burst = results.get(results.len() / 2).copied();

    child.kill().unwrap();
    child.wait().unwrap();
    println!("folio upload benchmark ({})", if quick { "quick" } else { "full" });
    println!(
        "single {:>5} MiB (median of 3): folio {:>7.1} MiB/s | disk baseline {:>7.1} MiB/s, ratio {:.2} | stream baseline {:>7.1} MiB/s, ratio {:.2}",
        single_size / MIB,
        single.0,
        single.1,
        single.0 / single.1,
        single.2,
        single.0 / single.2
    );
    match burst {
        None => println!("burst  skipped (FOLIO_BENCH_CLIENTS=0)"),
        Some((folio, base, stream)) => println!(
            "burst  {:>5} MiB ({clients} clients, {verified} files over {rounds} rounds, all hashes verified), median round: folio {folio:>7.1} MiB/s | disk baseline {base:>7.1} MiB/s, ratio {:.2} | stream baseline {stream:>7.1} MiB/s, ratio {:.2}",
            total / MIB,
            folio / base,
            folio / stream
        ),
    }
    println!(
        "single uploads used {:.1} s of folio CPU and {:.1} s of client+baseline CPU over {:.1} s of upload time (2 cores)",
        server_cpu, client_cpu, folio_wall
    );
    println!(
        "the bursts used {burst_cpu:.1} s of folio CPU and {burst_client_cpu:.1} s of client CPU over {burst_wall:.1} s (2 cores)"
    );
    println!(
        "memory (peak RSS over RSS just before, sign-ins excluded): single upload {:.1} -> {:.1} MiB (+{:.1}); burst, largest of the rounds +{:.1} MiB; idle at start {:.1} MiB",
        idle_single as f64 / 1024.0,
        peak_single as f64 / 1024.0,
        peak_single.saturating_sub(idle_single) as f64 / 1024.0,
        peak_growth as f64 / 1024.0,
        idle_rss as f64 / 1024.0
    );
}
