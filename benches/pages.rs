//! Pages under load: the pages a class opens at 8:40, each against `GET /healthz` (the bare
//! handler: same process, same router, same connection handling, no store) in the same run.
//!
//! Run with `cargo bench --bench pages` (add `-- --quick` for one short round). The release
//! `folio` binary serves on 127.0.0.1 with its data in a temporary directory (under
//! `FOLIO_BENCH_DIR`, default the current one). The school: a teacher, a class of 30 students,
//! and one student with 40 pieces of work shared with the class and 120 comments on them (3 a
//! piece) besides 2 pieces by each classmate: the shape issue #22's first measurements had.
//!
//! Each step sends `CONNECTIONS` clients (each signed in on its own, one connection each)
//! requesting one page over and over for a fixed time; it counts the answers (every one must
//! be 200) and keeps every latency. Pages:
//!
//! - *portfolio*: the student's home, which is her portfolio (40 pieces, their comment counts);
//! - *artifact*: one of her pieces, opened by her (the owner: marks it seen);
//! - *class*: the class page, opened by its teacher;
//! - *review*: the teacher's review queue;
//! - *teacher home*.
//!
//! Three rounds; in each, `/healthz` runs right before each page, so a page is compared with
//! the bare handler's rate a few seconds earlier (this machine's speed swings). Reported per
//! page: the ratio of its rate to `/healthz`'s (target ≥ 0.5) and its p99 (target < 10 ms),
//! min / median / max over the rounds, next to `/healthz`'s own spread.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CONNECTIONS: usize = 64;
const CLASS_SIZE: usize = 30;
const PIECES: usize = 40;
const COMMENTS_PER_PIECE: usize = 3;

/// Requests per second and p99 (ms) of `clients` asking for `path` at once for `window`.
async fn load(clients: &[reqwest::Client], url: &str, path: &str, window: Duration) -> (f64, f64) {
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let (client, target) = (client.clone(), format!("{url}{path}"));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while start.elapsed() < window {
                    let sent = Instant::now();
                    let res = client.get(&target).send().await.unwrap();
                    assert_eq!(res.status(), 200, "{target}");
                    res.bytes().await.unwrap();
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    (rate, p99)
}

/// `n` clients, each signed in as `username` on its own.
async fn clients(url: &str, username: &str, n: usize) -> Vec<reqwest::Client> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(support::signed_in(url, username).await);
    }
    v
}

async fn post_piece(client: &reqwest::Client, url: &str, class: &str, title: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("reflection", format!("What I learnt making {title}: to measure twice and cut once."))
        .text("visibility", "class")
        .text("class_id", class.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(format!("notes for {title}").into_bytes()).file_name("notes.txt"),
        );
    let res = client.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201, "work made");
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, window) = if quick { (1, Duration::from_secs(1)) } else { (3, Duration::from_secs(5)) };
    let dir = tempfile::tempdir_in(std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let data = dir.path().join("data");
    let (mut child, url) = support::start_folio(&data, &[]);

    // The school.
    let admin = support::setup_school(&url, &data).await;
    let teacher_id = support::add_person(&admin, &url, "teacher", "teacher").await;
    let res = admin.post(format!("{url}/api/v1/classes")).json(&json!({"name": "Year 4"})).send().await.unwrap();
    assert_eq!(res.status(), 201, "class made");
    let class = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let mut students = Vec::new();
    for i in 0..CLASS_SIZE {
        students.push(support::add_person(&admin, &url, &format!("s{i}"), "student").await);
    }
    for (user, role) in std::iter::once((&teacher_id, "teacher")).chain(students.iter().map(|s| (s, "student"))) {
        let res = admin
            .post(format!("{url}/api/v1/classes/{class}/members"))
            .json(&json!({"user_id": user, "role": role}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "member added");
    }
    let teacher = support::signed_in(&url, "teacher").await;
    let s0 = support::signed_in(&url, "s0").await;
    let mut pieces = Vec::new();
    for p in 0..PIECES {
        let id = post_piece(&s0, &url, &class, &format!("piece {p}")).await;
        for c in 0..COMMENTS_PER_PIECE {
            let res = teacher
                .post(format!("{url}/api/v1/artifacts/{id}/comments"))
                .json(&json!({"body": format!("Comment {c}: the colours work well; what would you change next time?")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201, "comment posted");
        }
        pieces.push(id);
    }
    for i in 1..CLASS_SIZE {
        let student = support::signed_in(&url, &format!("s{i}")).await;
        for p in 0..2 {
            post_piece(&student, &url, &class, &format!("s{i} piece {p}")).await;
        }
    }

    let as_student = clients(&url, "s0", CONNECTIONS).await;
    let as_teacher = clients(&url, "teacher", CONNECTIONS).await;
    let artifact = format!("/work/{}", pieces[PIECES / 2]);
    let class_page = format!("/classes/{class}");
    let pages: [(&str, &str, &[reqwest::Client]); 5] = [
        ("portfolio (student's home)", "/home", &as_student),
        ("artifact, owner viewing", &artifact, &as_student),
        ("class page, teacher", &class_page, &as_teacher),
        ("review queue, teacher", "/review", &as_teacher),
        ("teacher's home", "/home", &as_teacher),
    ];
    // Warm up (connections, caches) before anything is timed.
    load(&as_student, &url, "/healthz", Duration::from_millis(500)).await;
    for (_, path, who) in &pages {
        load(who, &url, path, Duration::from_millis(300)).await;
    }

    let mut bare = Vec::new();
    let mut results: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); pages.len()];
    for round in 0..rounds {
        for (i, (name, path, who)) in pages.iter().enumerate() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (h_rate, h_p99) = load(who, &url, "/healthz", window).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (rate, p99) = load(who, &url, path, window).await;
            println!(
                "round {}: {name}: {rate:.0}/s p99 {p99:.1} ms | /healthz {h_rate:.0}/s p99 {h_p99:.1} ms | ratio {:.3}",
                round + 1,
                rate / h_rate
            );
            bare.push(h_rate);
            results[i].0.push(rate / h_rate);
            results[i].1.push(p99);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (b_lo, b_med, b_hi) = stats(&bare);
    println!(
        "folio pages benchmark ({}, {CONNECTIONS} connections, {window:?} a step, {rounds} rounds)",
        if quick { "quick" } else { "full" }
    );
    println!("/healthz: {b_lo:.0} / {b_med:.0} / {b_hi:.0} req/s (min / median / max)");
    for (i, (name, ..)) in pages.iter().enumerate() {
        let (r_lo, r_med, r_hi) = stats(&results[i].0);
        let (p_lo, p_med, p_hi) = stats(&results[i].1);
        println!(
            "{name}: rate vs /healthz {r_lo:.3} / {r_med:.3} / {r_hi:.3} (target ≥ 0.5); p99 {p_lo:.1} / {p_med:.1} / {p_hi:.1} ms (target < 10)"
        );
    }
}
