//! The school report at a district school's scale, against `/healthz` in the same run.
//!
//! `cargo bench --bench school_report [-- --students N] [-- --quick]`. The school (default
//! 1,000 students in classes of 30, each with a teacher; 120 pieces of work per student,
//! three a week over 40 weeks; teacher feedback on half of them a day or two later and a
//! teacher rating on a third) is written straight into the store through `Tx::record`, so
//! `apply` keeps the report's counts exactly as it does for work posted through the API.
//! The search index is left empty (the report reads none), so folio's indexer does not work
//! through the corpus while the report is timed. Then the release `folio` serves it on
//! 127.0.0.1; a signed-in leader asks for the school report over all 40 weeks
//! (`GET /api/v1/reports/school?from=0`), and the first class's teacher for its class report
//! (30 students, 3,600 pieces, all weeks), one request at a time.
//!
//! For each report, three rounds, each of 100 reports and 100 `/healthz` (the baseline: the same HTTP path
//! with no store and no session), alternating. Reported per round: the median, fastest and
//! slowest report and the median `/healthz`; then the min/median/max of the rounds' medians
//! against the target (under 50 ms) and the ratio to `/healthz`.
//!
//! `--quick` builds 100 students for a run in a minute.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use folio::domain::skills::{SkillLevel, code_key, derived_id};
use folio::domain::{Artifact, Change, Comment, CommentId, CommentKind, Role, Version};
use folio::store::Queries;
use support::seed::{Rng, School};

/// 30, so that each class report covers the 30 students × 120 = 3,600 pieces.
const STUDENTS_PER_CLASS: usize = 30;
const WORKS_PER_STUDENT: usize = 120;
const ROUNDS: usize = 3;
const REQUESTS: usize = 100;

/// Writes the school into the store (counts kept by `apply` as it goes), with a leader.
fn build(data: &Path, students: usize) {
    let started = Instant::now();
    let school = School::set_up(data);
    let (store, admin) = (&school.store, &school.admin);
    store.write_alone(|tx| Ok::<_, folio::error::Error>(school.person(tx, "leader".into(), Role::Leader))).unwrap();
    let skills: Vec<_> = (0..8).map(|s| derived_id(admin.school, &code_key(&format!("S{s}")))).collect();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (day, week) = (86_400_000u64, 7 * 86_400_000u64);
    let first_monday = 1_760_313_600_000u64; // 2025-10-13, a Monday
    for c in 0..students.div_ceil(STUDENTS_PER_CLASS) {
        let (teacher, class) = school.class(c);
        for s in (c * STUDENTS_PER_CLASS)..((c + 1) * STUDENTS_PER_CLASS).min(students) {
            store
                // One writer with a seeded generator: the closure must run once.
                .write_alone(|tx| {
                    let student = school.student(tx, s, &class)?;
                    for a in 0..WORKS_PER_STUDENT as u64 {
                        let created = first_monday + (a / 3) * week + (a % 3) * 2 * day + rng.below(day);
                        let sample = folio::samples::artifact(admin.school, student.id, Some(class.id), "Work", vec![]);
                        let artifact = Artifact {
                            versions: vec![Version { created_ms: created, ..sample.versions[0].clone() }],
                            created_ms: created,
                            updated_ms: created,
                            ..sample
                        };
                        let (id, version, scope) = (artifact.id, artifact.versions[0].id, artifact.partition());
                        let school = admin.school;
                        tx.record(
                            school,
                            scope,
                            Some(student.id),
                            Change::ArtifactCreated { artifact: Box::new(artifact) },
                        )?;
                        if rng.below(2) == 0 {
                            let comment = Comment {
                                id: CommentId::new(),
                                artifact: id,
                                version: Some(version),
                                author: teacher.id,
                                kind: CommentKind::Feedback,
                                body: "Good".into(),
                                audio: None,
                                approved: true,
                                created_ms: created + day + rng.below(day),
                            };
                            tx.record(school, scope, Some(teacher.id), Change::CommentAdded { comment })?;
                        }
                        if rng.below(3) == 0 {
                            let skill_id = skills[rng.below(skills.len() as u64) as usize];
                            let level = 1 + rng.below(4) as u8;
                            let change = Change::ArtifactRated {
                                artifact: id,
                                version,
                                ratings: vec![SkillLevel { skill_id, level }],
                                self_assessment: false,
                            };
                            tx.record(school, scope, Some(teacher.id), change)?;
                        }
                    }
                    Ok::<_, folio::error::Error>(())
                })
                .unwrap();
        }
    }
    // The report reads no search index. An empty one with nothing queued keeps folio's
    // indexer from working through 120,000 pieces while the report is timed.
    let (index, _) = folio::search::SearchIndex::open(data).unwrap();
    drop(index);
    loop {
        let todo = store.read(|r| r.search_todo(10_000)).unwrap();
        if todo.is_empty() {
            break;
        }
        store.finish_search_todo(&todo).unwrap();
    }
    println!(
        "  built {} students' {} pieces in {:.0} s",
        students,
        students * WORKS_PER_STUDENT,
        started.elapsed().as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// How long one GET takes, answer read whole.
async fn timed(client: &reqwest::Client, url: &str) -> (Duration, usize) {
    let start = Instant::now();
    let res = client.get(url).send().await.unwrap();
    assert!(res.status().is_success(), "{url}: {}", res.status());
    let body = res.bytes().await.unwrap();
    (start.elapsed(), body.len())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let students: usize = args
        .iter()
        .position(|a| a == "--students")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("--students takes a number"))
        .unwrap_or(if quick { 100 } else { 1_000 });
    let root = std::env::var("FOLIO_BENCH_DIR").unwrap_or_else(|_| ".".into());
    println!("folio school report benchmark: {students} students × {WORKS_PER_STUDENT} pieces");
    let dir = tempfile::tempdir_in(&root).unwrap();
    let data = dir.path().join("data");
    build(&data, students);

    let (mut child, url) = support::start_folio(&data, &[]);
    let leader = support::signed_in(&url, "leader").await;
    // The first class's teacher, for its class report (30 students, 3,600 pieces).
    let teacher = support::signed_in(&url, "t0").await;
    let classes = support::get_json(&teacher, &url, "/api/v1/classes", &[]).await;
    let class = classes[0]["id"].as_str().expect("t0 teaches a class").to_string();
    let subjects = [
        ("school report", &leader, format!("{url}/api/v1/reports/school?from=0")),
        ("class report", &teacher, format!("{url}/api/v1/reports/classes/{class}?from=0&to=4000000000000")),
    ];
    let health_url = format!("{url}/healthz");
    // Warm up: the first answers pay for opening tables and filling caches.
    for (name, client, report_url) in &subjects {
        let (_, size) = timed(client, report_url).await;
        for _ in 0..10 {
            timed(client, report_url).await;
            timed(client, &health_url).await;
        }
        println!("  the {name} is {size} bytes");
    }
    for (name, client, report_url) in &subjects {
        let mut medians = Vec::new();
        for round in 1..=ROUNDS {
            let (mut report, mut health) = (Vec::new(), Vec::new());
            for _ in 0..REQUESTS {
                report.push(timed(client, report_url).await.0);
                health.push(timed(client, &health_url).await.0);
            }
            report.sort();
            health.sort();
            let (median, baseline) = (report[REQUESTS / 2], health[REQUESTS / 2]);
            println!(
                "  {name}, round {round}: median {:.2} ms (fastest {:.2}, slowest {:.2}); /healthz median {:.3} ms; ratio {:.0}x",
                ms(median),
                ms(report[0]),
                ms(report[REQUESTS - 1]),
                ms(baseline),
                median.as_secs_f64() / baseline.as_secs_f64()
            );
            medians.push((median, baseline));
        }
        medians.sort();
        let (min, mid, max) = (medians[0], medians[ROUNDS / 2], medians[ROUNDS - 1]);
        println!(
            "  {name}: medians over {ROUNDS} rounds: min {:.2} / median {:.2} / max {:.2} ms (target < 50 ms); \
             against /healthz {:.0}x",
            ms(min.0),
            ms(mid.0),
            ms(max.0),
            mid.0.as_secs_f64() / mid.1.as_secs_f64()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(dir);
}
