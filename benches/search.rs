//! Search at a district box's scale, against the same tantivy query in the same run.
//!
//! `cargo bench --bench search [-- --artifacts N] [-- --quick]`. The corpus (default 120,000
//! pieces of work: 1,000 students × 120, classes of 25 with a teacher each, reflections of
//! 20–60 words drawn from a vocabulary of 4,000 with a long tail) is written straight into
//! the store and indexed by folio's own indexer in this process, then the release `folio`
//! serves it on 127.0.0.1. The same is done first at a tenth of the size. Reported:
//!
//! - *query*: `GET /api/v1/search` from 8 concurrent clients (4 students, 4 teachers, each
//!   signed in, each in their own class) over single words, pairs, words being typed
//!   (prefix) and misspelt words: p50 and p99. Against the *baseline*: the same tantivy
//!   query folio builds (permission filter, typos, prefixes) run in this process on the same
//!   index files with a count and the top 20, from 8 threads at once (no HTTP, session,
//!   facets or snippets). The ratio is folio's p50 over the baseline's.
//! - *growth*: folio's median at the full size over its median at a tenth of it.
//! - *freshness*: during a burst of uploads (8 students posting at once), the time from each
//!   upload's answer until a search finds it (p50, p95, max).
//! - *idle memory*: folio's resident memory (and of it anonymous and mapped files) and its
//!   threads, 5 s after the burst and again at 30 s, with the index open.
//!
//! `--quick` builds 6,000 (and 600) for a run in a minute or two.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio::domain::audience::{Principal, viewer_principals};
use folio::domain::{Artifact, Change, Language, Role, Version, Visibility};
use folio::search::{SearchIndex, SearchRequest};
use serde_json::Value;
use support::seed::{Rng, School};
use tantivy::collector::{Count, TopDocs};

const TOPICS: &[&str] = &[
    "bridge", "volcano", "river", "forest", "robot", "garden", "music", "poem", "story", "castle", "planet", "energy",
    "water", "paper", "circuit", "animal", "kite", "tower", "map", "recipe", "dance", "clay", "light", "shadow",
    "magnet", "seed", "cloud", "rocket", "puzzle", "mosaic", "weather", "insect", "ocean", "desert", "engine",
    "portrait", "pattern", "fraction", "triangle", "history",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tu", "sa", "bel", "nor", "vi", "pa", "dum", "ge", "tor", "ly", "qua", "fen", "ho", "zi",
    "mar", "cu",
];
const STUDENTS_PER_CLASS: usize = 25;
const WORKS_PER_STUDENT: usize = 120;
const CLIENTS: usize = 8;
const ROUNDS: usize = 3;
/// When idle memory is read the second time: after tokio's blocking pool has ended its spare
/// threads (10 s without work) and folio's idle upkeep has run.
const IDLE_AFTER: Duration = Duration::from_secs(30);

/// 4,000 words: made-up ones, with the topics at ranks 100–139 (each in a few percent of
/// the work), drawn with a long tail (rank r about as likely as 1/r).
struct Vocabulary(Vec<String>);

impl Vocabulary {
    fn new() -> Vocabulary {
        let mut words = Vec::new();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        while words.len() < 4000 {
            if words.len() == 100 {
                words.extend(TOPICS.iter().map(|t| t.to_string()));
            }
            let syllables = 2 + rng.below(3);
            let word: String = (0..syllables).map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]).collect();
            if !words.contains(&word) {
                words.push(word);
            }
        }
        Vocabulary(words)
    }

    fn draw(&self, rng: &mut Rng) -> &str {
        let n = self.0.len() as f64;
        let rank = (n.powf(rng.unit()) - 1.0) as usize;
        &self.0[rank.min(self.0.len() - 1)]
    }
}

/// Who the clients are: the teacher and the first student of each of the first 4 classes
/// (fewer in a school that small), the same people at both sizes. Their principals are for
/// the baseline.
struct Viewer {
    username: String,
    held: Vec<Principal>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Writes the school into the store and indexes it, in this process; returns the viewers.
fn build(data: &Path, students: usize) -> Vec<Viewer> {
    let started = Instant::now();
    let school = School::set_up(data);
    let (store, admin) = (&school.store, &school.admin);
    let vocabulary = Vocabulary::new();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut viewers = Vec::new();
    let classes = students.div_ceil(STUDENTS_PER_CLASS);
    let day = 86_400_000u64;
    let year_ago = 1_760_000_000_000u64;
    for c in 0..classes {
        let (teacher, class) = school.class(c);
        if c < CLIENTS / 2 {
            let places = [(class.id, Role::Teacher)];
            viewers.push(Viewer {
                username: teacher.username.clone(),
                held: viewer_principals(&teacher, &places, &[], &[]),
            });
        }
        for s in (c * STUDENTS_PER_CLASS)..((c + 1) * STUDENTS_PER_CLASS).min(students) {
            store
                // One writer building the corpus with a seeded generator: each closure must run once.
                .write_alone(|tx| {
                    let student = school.student(tx, s, &class)?;
                    for a in 0..WORKS_PER_STUDENT {
                        let words = 20 + rng.below(41);
                        let reflection: Vec<&str> = (0..words).map(|_| vocabulary.draw(&mut rng)).collect();
                        let created = year_ago + (a as u64) * 3 * day + rng.below(day);
                        let title = format!("{} {} {a}", vocabulary.draw(&mut rng), vocabulary.draw(&mut rng));
                        let sample =
                            folio::samples::artifact(admin.school, student.id, Some(class.id), &title, Vec::new());
                        let artifact = Artifact {
                            reflection: reflection.join(" "),
                            visibility: [Visibility::Private, Visibility::Class, Visibility::Family]
                                [rng.below(3) as usize],
                            kind: ["image", "document", "text", "video"][rng.below(4) as usize].into(),
                            approved: rng.below(10) < 6,
                            versions: vec![Version { created_ms: created, ..sample.versions[0].clone() }],
                            created_ms: created,
                            updated_ms: created,
                            ..sample
                        };
                        let scope = artifact.partition();
                        tx.record(
                            admin.school,
                            scope,
                            Some(student.id),
                            Change::ArtifactCreated { artifact: Box::new(artifact) },
                        )?;
                    }
                    if c < CLIENTS / 2 && s % STUDENTS_PER_CLASS == 0 {
                        let places = [(class.id, Role::Student)];
                        viewers.push(Viewer {
                            username: student.username.clone(),
                            held: viewer_principals(&student, &places, &[], &[]),
                        });
                    }
                    Ok::<_, folio::error::Error>(())
                })
                .unwrap();
        }
    }
    let stored = started.elapsed();
    let (index, _) = SearchIndex::open(data).unwrap();
    let blobs = folio::blobs::BlobStore::open(data).unwrap();
    let mut indexer =
        folio::search::indexer::Indexer::new(Arc::new(index), store.clone(), blobs, folio::heavy::Heavy::open(data))
            .unwrap();
    while indexer.pass().unwrap() > 0 {}
    indexer.finish();
    println!(
        "  {} pieces of work by {students} students in {classes} classes: stored in {:.1} s, indexed in {:.1} s",
        students * WORKS_PER_STUDENT,
        stored.as_secs_f64(),
        (started.elapsed() - stored).as_secs_f64()
    );
    viewers
}

/// What the clients search for: single words, pairs, words being typed, misspellings.
fn queries() -> Vec<String> {
    let mut q: Vec<String> = TOPICS.iter().map(|w| format!("{w} ")).collect();
    q.extend(TOPICS.chunks(2).map(|p| format!("{} {} ", p[0], p[1])));
    q.extend(TOPICS.iter().step_by(2).map(|w| w.chars().take(4).collect::<String>()));
    q.extend(TOPICS.iter().filter(|w| w.len() >= 5).map(|w| {
        let mut c: Vec<char> = w.chars().collect();
        c.swap(1, 2);
        format!("{} ", c.into_iter().collect::<String>())
    }));
    q
}

struct Figures {
    folio: Vec<Duration>,
    bare: Vec<Duration>,
}

/// Serves `data` and times folio and the bare query; leaves folio running for the caller.
async fn measure(data: &Path, viewers: &[Viewer]) -> (Figures, std::process::Child, String) {
    let (child, url) = support::start_folio(data, &[]);
    let queries = Arc::new(queries());
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(support::signed_in(&url, &viewers[i % viewers.len()].username).await);
    }
    // Every client at once, each over every query ROUNDS times (the first round warms up).
    let mut tasks = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let (url, queries) = (url.clone(), queries.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for round in 0..=ROUNDS {
                for k in 0..queries.len() {
                    let q = &queries[(k + i * 7) % queries.len()];
                    let t = Instant::now();
                    let r = client
                        .get(format!("{url}/api/v1/search"))
                        .query(&[("q", q.as_str()), ("limit", "20")])
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success());
                    let _: Value = r.json().await.unwrap();
                    if round > 0 {
                        times.push(t.elapsed());
                    }
                }
            }
            times
        }));
    }
    let mut folio_times = Vec::new();
    for t in tasks {
        folio_times.extend(t.await.unwrap());
    }
    // The same queries in this process, on the same files, from as many threads.
    let (index, _) = SearchIndex::open(data).unwrap();
    let index = Arc::new(index);
    let bare_times = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let v = &viewers[i % viewers.len()];
                let (index, queries) = (index.clone(), queries.clone());
                scope.spawn(move || {
                    let mut times = Vec::new();
                    for round in 0..=ROUNDS {
                        for k in 0..queries.len() {
                            let request = SearchRequest {
                                q: queries[(k + i * 7) % queries.len()].clone(),
                                limit: 20,
                                ..Default::default()
                            };
                            let t = Instant::now();
                            let (searcher, query) = index.bare_query(&v.held, Language::English, &request).unwrap();
                            let found = searcher.search(&*query, &(Count, TopDocs::with_limit(20))).unwrap();
                            std::hint::black_box(found);
                            if round > 0 {
                                times.push(t.elapsed());
                            }
                        }
                    }
                    times
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    let mut figures = Figures { folio: folio_times, bare: bare_times };
    figures.folio.sort();
    figures.bare.sort();
    (figures, child, url)
}

fn report(label: &str, f: &Figures) {
    let (p50, bare50) = (percentile(&f.folio, 0.5), percentile(&f.bare, 0.5));
    println!(
        "  {label}: folio over HTTP ({} searches, {CLIENTS} clients) p50 {:.2} ms, p99 {:.2} ms | bare tantivy, same query, {CLIENTS} threads: p50 {:.3} ms, p99 {:.3} ms (spread p10–p90 {:.3}–{:.3}) | ratio of p50s {:.1}x",
        f.folio.len(),
        ms(p50),
        ms(percentile(&f.folio, 0.99)),
        ms(bare50),
        ms(percentile(&f.bare, 0.99)),
        ms(percentile(&f.bare, 0.1)),
        ms(percentile(&f.bare, 0.9)),
        p50.as_secs_f64() / bare50.as_secs_f64()
    );
}

/// A process's resident memory in MB (total, anonymous, mapped files such as the index) and
/// its thread count.
struct Resident {
    total: f64,
    anon: f64,
    files: f64,
    threads: u64,
}

fn resident(pid: u32) -> Resident {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Resident {
        total: field("VmRSS:") / 1024.0,
        anon: field("RssAnon:") / 1024.0,
        files: field("RssFile:") / 1024.0,
        threads: field("Threads:") as u64,
    }
}

/// 8 students post work at once; each upload's new word is searched for until found.
async fn freshness(url: &str, students: usize) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let url = url.to_string();
        let name = format!("s{}", (i * 37) % students);
        tasks.push(tokio::spawn(async move {
            let client = support::signed_in(&url, &name).await;
            let mut watchers = Vec::new();
            for k in 0..25 {
                let word = format!("zq{i}x{k}w");
                let form = reqwest::multipart::Form::new()
                    .text("title", format!("Fresh {word}"))
                    .text("reflection", "made during the burst")
                    .part("file", reqwest::multipart::Part::bytes(vec![b'a'; 2048]).file_name("notes.txt"));
                let res = client.post(format!("{url}/api/v1/artifacts")).multipart(form).send().await.unwrap();
                assert!(res.status().is_success(), "upload {}", res.status());
                let t = Instant::now();
                let (client, url) = (client.clone(), url.clone());
                watchers.push(tokio::spawn(async move {
                    loop {
                        let r = support::get_json(&client, &url, "/api/v1/search", &[("q", &format!("{word} "))]).await;
                        // Found: the upload itself among the hits. Not "exactly one hit": the
                        // burst's words differ by one letter, and typo matching finds the
                        // others too.
                        let title = format!("Fresh {word}");
                        if r["hits"].as_array().is_some_and(|h| h.iter().any(|hit| hit["title"] == title.as_str())) {
                            return t.elapsed();
                        }
                        assert!(t.elapsed() < Duration::from_secs(60), "an upload never became searchable");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }));
            }
            let mut times = Vec::new();
            for w in watchers {
                times.push(w.await.unwrap());
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    all
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let artifacts: usize = args
        .iter()
        .position(|a| a == "--artifacts")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("--artifacts takes a number"))
        .unwrap_or(if quick { 6_000 } else { 120_000 });
    let students = artifacts.div_ceil(WORKS_PER_STUDENT).max(1);
    let small_students = (students / 10).max(1);
    let root = std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into());
    println!("folio search benchmark: {} and {} pieces of work", small_students * 120, students * 120);

    let dir = tempfile::tempdir_in(&root).unwrap();
    let data = dir.path().join("data");
    let viewers = build(&data, small_students);
    let (small, mut child, _) = measure(&data, &viewers).await;
    let _ = child.kill();
    let _ = child.wait();
    report(&format!("{} pieces", small_students * 120), &small);
    drop(dir);

    let dir = tempfile::tempdir_in(&root).unwrap();
    let data = dir.path().join("data");
    let viewers = build(&data, students);
    let (full, mut child, url) = measure(&data, &viewers).await;
    report(&format!("{} pieces", students * 120), &full);
    let growth = percentile(&full.folio, 0.5).as_secs_f64() / percentile(&small.folio, 0.5).as_secs_f64();
    let bare_growth = percentile(&full.bare, 0.5).as_secs_f64() / percentile(&small.bare, 0.5).as_secs_f64();
    println!(
        "  growth of the median from {} to {}: folio {growth:.2}x, bare {bare_growth:.2}x (target folio <= 1.5x)",
        small_students * 120,
        students * 120
    );

    let fresh = freshness(&url, students).await;
    println!(
        "  freshness during an upload burst ({} uploads, {CLIENTS} at once): p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target p95 <= 1500 ms)",
        fresh.len(),
        ms(percentile(&fresh, 0.5)),
        ms(percentile(&fresh, 0.95)),
        ms(*fresh.last().unwrap())
    );
    // Idle twice: 5 s after the burst, and once the blocking pool's spare threads have ended
    // (IDLE_AFTER) and what they freed has been handed back.
    let started = Instant::now();
    for at in [Duration::from_secs(5), IDLE_AFTER] {
        tokio::time::sleep(at.saturating_sub(started.elapsed())).await;
        let r = resident(child.id());
        println!(
            "  idle memory with the index open, {} s after the burst: {:.1} MB resident ({:.1} MB anonymous, {:.1} MB mapped files), {} threads (target <= 60 MB)",
            at.as_secs(),
            r.total,
            r.anon,
            r.files,
            r.threads
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
