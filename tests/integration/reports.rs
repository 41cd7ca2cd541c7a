//! The reports. The class report: per student what they posted, the feedback they received,
//! the activities they answered and their skills' latest teacher and self ratings; quiet
//! students flagged; the class's teachers only (404 for anyone else); as JSON, CSV and a
//! page. The student report: ratings over time, posts per week, growth within a work; the
//! student, their teachers, their family when the class allows.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::family_work::anas_family;
use crate::support::*;
use crate::work::{form, upload};

#[tokio::test]
async fn the_class_report_counts_work_feedback_activities_and_ratings_per_student() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let fr = room.import_skills(&server, "FR.1,Compare fractions,Fractions\n").await["FR.1"].clone();
    let res = room
        .teacher
        .post(server.url(&format!("/api/v1/classes/{}/activities", room.class_id)))
        .multipart(form(&[("title", "Halves"), ("prompt", "Cut a paper in half.")], vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let activity = json_of(res).await["id"].as_str().unwrap().to_string();

    let answer = upload(
        &server,
        &room.ana,
        &[("title", "My halves"), ("skills", "FR.1"), ("activity_id", &activity)],
        vec![("a.txt", b"two halves".to_vec())],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let work = json_of(answer).await["id"].as_str().unwrap().to_string();
    crate::work::upload_ok(&server, &room.ana, "Another", vec![("b.txt", b"more".to_vec())]).await;
    let res = server.post(&room.teacher, &format!("/api/v1/artifacts/{work}/comments"), json!({"body": "Nice"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let rate = |client: &reqwest::Client, body: Value| {
        client.put(server.url(&format!("/api/v1/artifacts/{work}/assessment"))).json(&body).send()
    };
    assert_eq!(
        rate(&room.teacher, json!({"ratings": [{"skill_id": fr, "level": 2}]})).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        rate(&room.teacher, json!({"ratings": [{"skill_id": fr, "level": 3}]})).await.unwrap().status(),
        StatusCode::OK
    );
    let own = json!({"ratings": [{"skill_id": fr, "level": 4}], "self": true});
    assert_eq!(rate(&room.ana, own).await.unwrap().status(), StatusCode::OK);

    let path = format!("/api/v1/reports/classes/{}", room.class_id);
    let report = server.get_json(&room.teacher, &path).await;
    let student =
        |name: &str| report["students"].as_array().unwrap().iter().find(|s| s["display_name"] == name).unwrap().clone();
    let ana = student("ANA");
    assert_eq!(ana["user_id"], room.ana_id.as_str());
    assert_eq!((ana["artifacts"].as_u64(), ana["versions"].as_u64()), (Some(2), Some(2)));
    assert_eq!(ana["feedback_received"], 1);
    assert_eq!((ana["activities_answered"].as_u64(), ana["activities_total"].as_u64()), (Some(1), Some(1)));
    assert_eq!(ana["quiet"], false);
    assert!(ana["last_posted_at"].as_u64().is_some());
    assert_eq!(
        ana["skills"],
        json!([{"skill_id": fr, "latest_level": 3, "self_level": 4, "ratings": 1}]),
        "a new rating of the same version replaces the earlier"
    );
    let ben = student("BEN");
    assert_eq!((ben["artifacts"].as_u64(), ben["quiet"].as_bool()), (Some(0), Some(true)));
    assert_eq!(ben["last_posted_at"], Value::Null);
    assert_eq!(report["activities"][0]["answered_by"], json!([room.ana_id]));
    assert!(report["feedback_turnaround_ms"].as_u64().is_some());

    // A window after everything: nothing counted in it, and a quiet flag relative to it.
    let later = report["to"].as_u64().unwrap() + 1;
    let empty = server.get_json(&room.teacher, &format!("{path}?from={later}&to={}", later + 1000)).await;
    let ana_later = empty["students"].as_array().unwrap().iter().find(|s| s["display_name"] == "ANA").unwrap().clone();
    assert_eq!((ana_later["artifacts"].as_u64(), ana_later["feedback_received"].as_u64()), (Some(0), Some(0)));
    assert_eq!(empty["feedback_turnaround_ms"], Value::Null);
    let bad = server.get(&room.teacher, &format!("{path}?from=10&to=5")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Only the class's teachers.
    let (mum, _) = anas_family(&server, &room, "mum").await;
    let (_, olga) = server.person(&room.admin, "olga", "teacher").await;
    server.create_class(&olga, "Owls").await;
    for (who, client) in
        [("a student", &room.ana), ("a family", &mum), ("another teacher", &olga), ("an admin", &room.admin)]
    {
        assert_eq!(server.get(client, &path).await.status(), StatusCode::NOT_FOUND, "{who}");
    }
}

/// Two skills, Ana's piece (shared with her family) with two versions rated by the teacher
/// and by herself, another piece of hers, and one of Ben's. Returns (FR.1's id, the rated
/// piece's id).
async fn rated_work(server: &TestServer, room: &Classroom) -> (String, String) {
    let skills = room.import_skills(server, "FR.1,Compare fractions,Fractions\nCOLLAB,Collaboration,Habits\n").await;
    let fr = skills["FR.1"].clone();
    let work = crate::family_work::shared_work(server, room, "Halves").await;
    let res = room
        .ana
        .post(server.url(&format!("/api/v1/artifacts/{work}/versions")))
        .multipart(form(&[("note", "Cut straighter")], vec![("v2.txt", b"second".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // The new version is approved too, so her family sees the work again.
    let res = server.post(&room.teacher, &format!("/api/v1/artifacts/{work}/review"), json!({"approved": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    crate::work::upload_ok(server, &room.ana, "Another", vec![("b.txt", b"more".to_vec())]).await;
    crate::work::upload_ok(server, &room.ben, "Ben's", vec![("c.txt", b"ben".to_vec())]).await;
    let rate = |client: &reqwest::Client, body: Value| {
        client.put(server.url(&format!("/api/v1/artifacts/{work}/assessment"))).json(&body).send()
    };
    let teacher = json!({"ratings": [{"skill_id": fr, "level": 3}]});
    assert_eq!(rate(&room.teacher, teacher).await.unwrap().status(), StatusCode::OK);
    let own = json!({"ratings": [{"skill_id": fr, "level": 2}], "self": true});
    assert_eq!(rate(&room.ana, own).await.unwrap().status(), StatusCode::OK);
    (fr, work)
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

async fn text_of(server: &TestServer, client: &reqwest::Client, path: &str) -> (StatusCode, String, String) {
    let res = client.get(server.url(path)).send().await.unwrap();
    let ctype = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (res.status(), ctype, res.text().await.unwrap())
}

#[tokio::test]
async fn the_class_report_as_csv_has_a_row_per_student_with_the_numbers_of_the_work() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    rated_work(&server, &room).await;
    let path = format!("/api/v1/reports/classes/{}?format=csv", room.class_id);
    let (status, ctype, text) = text_of(&server, &room.teacher, &path).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let rows = csv_rows(&text);
    let head = &rows[0];
    assert_eq!(
        head[..9],
        [
            "user_id",
            "display_name",
            "artifacts",
            "versions",
            "last_posted_at",
            "feedback_received",
            "activities_answered",
            "activities_total",
            "quiet"
        ]
    );
    assert_eq!(head[9..], ["skill:FR.1:latest", "skill:FR.1:self"], "only skills rated in the class");
    assert_eq!(rows.len(), 3, "a header and one row per student: {rows:?}");
    let col = |row: &Vec<String>, name: &str| row[head.iter().position(|h| h == name).unwrap()].clone();
    let ana = rows.iter().find(|r| r[1] == "ANA").unwrap();
    assert_eq!(col(ana, "user_id"), room.ana_id);
    assert_eq!((col(ana, "artifacts"), col(ana, "versions")), ("2".into(), "3".into()));
    assert_eq!((col(ana, "skill:FR.1:latest"), col(ana, "skill:FR.1:self")), ("3".into(), "2".into()));
    assert!(col(ana, "last_posted_at").parse::<u64>().unwrap() > 1_700_000_000_000);
    assert_eq!((col(ana, "quiet"), col(ana, "activities_total")), ("false".into(), "0".into()));
    let ben = rows.iter().find(|r| r[1] == "BEN").unwrap();
    assert_eq!((col(ben, "artifacts"), col(ben, "skill:FR.1:latest")), ("1".into(), String::new()));
    // The JSON says the same.
    let json = server.get_json(&room.teacher, &format!("/api/v1/reports/classes/{}", room.class_id)).await;
    let ana_json = json["students"].as_array().unwrap().iter().find(|s| s["display_name"] == "ANA").unwrap().clone();
    assert_eq!(ana_json["versions"], 3);
    // Not a format we speak.
    let bad = server.get(&room.teacher, &format!("/api/v1/reports/classes/{}?format=xls", room.class_id)).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // The CSV is as private as the JSON.
    let (status, _, _) = text_of(&server, &room.ana, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_student_report_shows_ratings_over_time_posts_per_week_and_growth_to_whom_it_may() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (fr, work) = rated_work(&server, &room).await;
    let path = format!("/api/v1/reports/students/{}", room.ana_id);
    let report = server.get_json(&room.teacher, &path).await;
    assert_eq!(report["skills"].as_array().unwrap().len(), 1, "{report}");
    let points = report["skills"][0]["points"].as_array().unwrap();
    assert_eq!(report["skills"][0]["skill_id"], fr.as_str());
    assert_eq!(points.len(), 2, "{report}");
    let teacher = points.iter().find(|p| p["self"] == false).unwrap();
    let own = points.iter().find(|p| p["self"] == true).unwrap();
    assert_eq!((teacher["level"].as_u64(), own["level"].as_u64()), (Some(3), Some(2)));
    assert_eq!(teacher["artifact_id"], work.as_str());
    let weeks = report["posts_per_week"].as_array().unwrap();
    assert_eq!(weeks.iter().map(|w| w["posts"].as_u64().unwrap()).sum::<u64>(), 2, "{report}");
    assert_eq!(weeks.last().unwrap()["week_start_ms"].as_u64().unwrap() % (24 * 3_600_000), 0);
    assert_eq!(report["most_versions"][0]["artifact_id"], work.as_str());
    assert_eq!(report["most_versions"][0]["versions"], 2);

    let (status, ctype, text) = text_of(&server, &room.ana, &format!("{path}?format=csv")).await;
    assert_eq!((status, ctype.starts_with("text/csv")), (StatusCode::OK, true), "{text}");
    let rows = csv_rows(&text);
    assert_eq!(rows[0], ["skill_id", "skill_code", "at", "level", "artifact_id", "version_id", "self"]);
    assert_eq!(rows.len(), 3, "one row per rating: {rows:?}");
    assert!(rows[1..].iter().all(|r| r[0] == fr && r[1] == "FR.1" && r[2].parse::<u64>().is_ok()));
    let mut levels: Vec<&str> = rows[1..].iter().map(|r| r[3].as_str()).collect();
    levels.sort();
    assert_eq!(levels, ["2", "3"]);

    // Who may: Ana and her teacher. Nobody else, an admin included; her family only once the
    // class lets families see ratings.
    let (mum, _) = anas_family(&server, &room, "mum").await;
    let (_, olga) = server.person(&room.admin, "olga", "teacher").await;
    server.create_class(&olga, "Owls").await;
    let bens_family = ben_family(&server, &room).await;
    assert_eq!(server.get(&room.ana, &path).await.status(), StatusCode::OK);
    for (who, client) in [
        ("a classmate", &room.ben),
        ("her family, before the class allows", &mum),
        ("another family", &bens_family),
        ("a teacher of another class", &olga),
        ("an admin", &room.admin),
    ] {
        assert_eq!(server.get(client, &path).await.status(), StatusCode::NOT_FOUND, "{who}");
        let page = client.get(server.url(&format!("/students/{}/report", room.ana_id))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{who}: the page");
    }
    room.set_settings(&server, json!({"family_sees_ratings": true})).await;
    let seen = server.get_json(&mum, &path).await;
    let seen_work: Vec<&Value> = seen["most_versions"].as_array().unwrap().iter().collect();
    assert_eq!(seen_work.len(), 1, "only the work shared with the family: {seen}");
    assert_eq!(seen["skills"][0]["points"].as_array().unwrap().len(), 2);
    for (who, client) in [("another family", &bens_family), ("an admin", &room.admin), ("a classmate", &room.ben)] {
        assert_eq!(server.get(client, &path).await.status(), StatusCode::NOT_FOUND, "{who}");
    }
    // A report of someone who is not a student is nobody's.
    let teacher_id = server.get_json(&room.teacher, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    let res = server.get(&room.teacher, &format!("/api/v1/reports/students/{teacher_id}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// A family account linked to Ben.
async fn ben_family(server: &TestServer, room: &Classroom) -> reqwest::Client {
    let sheets = json_of(
        server.post(&room.teacher, &format!("/api/v1/classes/{}/family-invitations", room.class_id), json!({})).await,
    )
    .await;
    let token = sheets["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student_id"] != room.ana_id.as_str())
        .unwrap()["token"]
        .clone();
    let client = server.client();
    let join =
        json!({"token": token, "username": "bensdad", "display_name": "Ben's dad", "password": "family-password-1"});
    assert_eq!(server.post(&client, "/api/v1/family/join", join).await.status(), StatusCode::CREATED);
    client
}

#[tokio::test]
async fn the_report_pages_show_levels_by_name_and_charts_with_a_title_and_description() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    rated_work(&server, &room).await;
    let class_page = format!("/classes/{}/report", room.class_id);
    let (status, ctype, html) = text_of(&server, &room.teacher, &class_page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(ctype.starts_with("text/html"));
    for want in
        [r#"role="img""#, "<title>Pieces per student</title>", "<title>Students at each level</title>", "<desc>"]
    {
        assert!(html.contains(want), "{want} in {html}");
    }
    assert!(html.contains("Secure") && html.contains("Developing"), "levels by their name: {html}");
    assert!(html.contains(&format!("/api/v1/reports/classes/{}?format=csv", room.class_id)), "the CSV link");
    // The class page links to it for its teacher.
    let (_, _, class_html) = text_of(&server, &room.teacher, &format!("/classes/{}", room.class_id)).await;
    assert!(class_html.contains(&class_page));
    // In Arabic, the charts are laid out right to left.
    let res = room.teacher.get(server.url(&class_page)).header("accept-language", "ar").send().await.unwrap();
    let arabic = res.text().await.unwrap();
    assert!(arabic.contains(r#"direction="rtl""#) || arabic.contains("dir=\"rtl\""), "{arabic}");
    // A window: from and to as days; a bad day is ignored, "to" before "from" is refused.
    let (status, _, _) = text_of(&server, &room.teacher, &format!("{class_page}?from=2020-01-01&to=2020-01-31")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = text_of(&server, &room.teacher, &format!("{class_page}?from=2020-02-01&to=2020-01-01")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for (who, client) in [("a student", &room.ana), ("an admin", &room.admin)] {
        assert_eq!(text_of(&server, client, &class_page).await.0, StatusCode::NOT_FOUND, "{who}");
    }

    let student_page = format!("/students/{}/report", room.ana_id);
    for client in [&room.teacher, &room.ana] {
        let (status, _, html) = text_of(&server, client, &student_page).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("<title>FR.1: level over time</title>") && html.contains(r#"role="img""#), "{html}");
        assert!(html.contains("<title>Posts per week</title>"), "{html}");
        assert!(html.contains(">Halves</a>"), "the rated work by its title: {html}");
    }
    // Linked from her portfolio (for her teacher) and her home.
    let (_, _, portfolio) = text_of(&server, &room.teacher, &format!("/students/{}", room.ana_id)).await;
    assert!(portfolio.contains(&student_page));
    let (_, _, home) = text_of(&server, &room.ana, "/home").await;
    assert!(home.contains(&student_page));
}
