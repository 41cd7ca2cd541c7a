//! Search speed and freshness, against a bare tantivy query in the same run.
//!
//! Run with `cargo bench --bench search` (add `-- --quick` for a smaller school). The release
//! `folio` binary serves on 127.0.0.1; a teacher's class of students posts work with
//! reflections drawn from a word list. Reported:
//!
//! - *query*: mean and p95 time of `GET /api/v1/search` (HTTP, session, the caller's
//!   principals from redb, the permission-filtered query, facets, snippets) for single words
//!   and two-word queries, against the *baseline*: the same words as a plain term query with
//!   a count on the same index files, opened read-only in this process (no HTTP, no
//!   permissions, no facets, no snippets). The ratio is folio's time over the baseline's.
//!   A signed-in `GET /api/v1/me` is timed too, to show how much of that is HTTP and session.
//! - *freshness*: time from an edit's 200 answer until a search finds the new title, over
//!   many edits (p50, p95, max); the target is p95 under 1.5 s.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

const WORDS: &[&str] = &[
    "bridge", "volcano", "river", "forest", "robot", "garden", "music", "poem", "story", "castle", "planet", "energy",
    "water", "paper", "circuit", "animal", "kite", "tower", "map", "recipe", "dance", "clay", "light", "shadow",
    "magnet", "seed", "cloud", "rocket", "puzzle", "mosaic", "weather", "insect", "ocean", "desert", "engine",
    "portrait", "pattern", "fraction", "triangle", "history",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (students, per_student, edits) = if quick { (10, 10, 20) } else { (30, 40, 60) };
    let dir = tempfile::tempdir_in(std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let data = dir.path().join("data");
    let (mut child, url) = support::start_folio(&data, &[]);
    let admin = support::setup_school(&url, &data).await;
    support::add_person(&admin, &url, "teacher", "teacher").await;
    let teacher = support::signed_in(&url, "teacher").await;
    let class: Value = teacher
        .post(format!("{url}/api/v1/classes"))
        .json(&json!({"name": "Bench class"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let class_id = class["id"].as_str().unwrap().to_string();

    // The school's work: reflections of 40 words from the list, deterministic.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut ids = Vec::new();
    let started = Instant::now();
    for s in 0..students {
        let name = format!("s{s}");
        let id = support::add_person(&admin, &url, &name, "student").await;
        let res = teacher
            .post(format!("{url}/api/v1/classes/{class_id}/members"))
            .json(&json!({"user_id": id, "role": "student"}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let student = support::signed_in(&url, &name).await;
        for a in 0..per_student {
            let reflection: Vec<&str> = (0..40).map(|_| WORDS[next() as usize % WORDS.len()]).collect();
            let form = reqwest::multipart::Form::new()
                .text("title", format!("{} {} {a}", WORDS[next() as usize % WORDS.len()], name))
                .text("reflection", reflection.join(" "))
                .text("class_id", class_id.clone())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(reflection.join("\n").into_bytes()).file_name("notes.txt"),
                );
            let res = student.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
            assert!(res.status().is_success());
            ids.push((name.clone(), res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()));
        }
    }
    let total = students * per_student;
    // Wait for the indexer to catch up with the whole school.
    loop {
        let r = support::get_json(&teacher, &url, "/api/v1/search", &[("q", ""), ("sort", "date")]).await;
        if r["total"].as_u64() == Some(total as u64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("folio search benchmark ({})", if quick { "quick" } else { "full" });
    println!(
        "{total} pieces of work by {students} students posted and indexed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Queries: each word, then pairs, as the teacher (who may open everything).
    let queries: Vec<String> =
        WORDS.iter().map(|w| format!("{w} ")).chain(WORDS.windows(2).map(|p| format!("{} {} ", p[0], p[1]))).collect();
    let index = tantivy::Index::open_in_dir(data.join("search").join("index")).unwrap();
    let reader = index.reader().unwrap();
    let body = index.schema().get_field("body").unwrap();
    let mut folio_times = Vec::new();
    let mut bare_times = Vec::new();
    let mut http_times = Vec::new();
    for round in 0..3 {
        for q in &queries {
            let t = Instant::now();
            let r: Value = teacher
                .get(format!("{url}/api/v1/search"))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let took = t.elapsed();
            assert!(r["total"].as_u64().unwrap() > 0, "{q}");
            let t = Instant::now();
            let searcher = reader.searcher();
            let clauses: Vec<(Occur, Box<dyn Query>)> = q
                .split_whitespace()
                .map(|w| {
                    let term = tantivy::Term::from_field_text(body, w);
                    (Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
                })
                .collect();
            let (count, top) = searcher.search(&BooleanQuery::new(clauses), &(Count, TopDocs::with_limit(20))).unwrap();
            let bare = t.elapsed();
            assert!(count > 0 && !top.is_empty());
            // The HTTP and session part alone: a signed-in request that reads one row.
            let t = Instant::now();
            assert!(teacher.get(format!("{url}/api/v1/me")).send().await.unwrap().status().is_success());
            let http = t.elapsed();
            if round > 0 {
                folio_times.push(took);
                bare_times.push(bare);
                http_times.push(http);
            }
        }
    }
    folio_times.sort();
    bare_times.sort();
    let mean = |v: &[Duration]| v.iter().sum::<Duration>() / v.len() as u32;
    let (fm, bm) = (mean(&folio_times), mean(&bare_times));
    println!(
        "query ({} queries): folio mean {:.2} ms, p95 {:.2} ms | bare tantivy term query mean {:.3} ms, p95 {:.3} ms | ratio {:.1}x",
        folio_times.len(),
        ms(fm),
        ms(percentile(&folio_times, 0.95)),
        ms(bm),
        ms(percentile(&bare_times, 0.95)),
        fm.as_secs_f64() / bm.as_secs_f64()
    );
    http_times.sort();
    println!(
        "of which HTTP and session (GET /api/v1/me): mean {:.2} ms, p95 {:.2} ms",
        ms(mean(&http_times)),
        ms(percentile(&http_times, 0.95))
    );

    // Freshness: rename one piece at a time and wait until the new word is found.
    let mut fresh = Vec::new();
    for i in 0..edits {
        let (owner, id) = &ids[(i * 7) % ids.len()];
        let student = support::signed_in(&url, owner).await;
        let word = format!("zq{}x{}", i, next() % 100_000);
        let res = student
            .patch(format!("{url}/api/v1/artifacts/{id}"))
            .json(&json!({"title": format!("Renamed {word}")}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let t = Instant::now();
        loop {
            let r = support::get_json(&teacher, &url, "/api/v1/search", &[("q", &format!("{word} "))]).await;
            if r["total"].as_u64() == Some(1) {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "an edit never became searchable");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fresh.push(t.elapsed());
    }
    fresh.sort();
    println!(
        "freshness ({edits} edits): p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target p95 < 1500 ms)",
        ms(percentile(&fresh, 0.5)),
        ms(percentile(&fresh, 0.95)),
        ms(*fresh.last().unwrap())
    );
    let _ = child.kill();
    let _ = child.wait();
}
