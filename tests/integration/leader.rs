//! The school leader (`leader`, a principal or coordinator): reads every class's lists and
//! reports and the work shared with a class or with families in any class of the school,
//! never private work; changes nothing. And the school report: leaders with class names,
//! administrators with counts only, 404 for everyone else.

use redb::ReadableDatabase;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::family_work::anas_family;
use crate::support::*;
use crate::work::{form, upload, upload_ok};

/// A second class (Owls, teacher tom, student carl) beside the classroom's Robins, a leader
/// and work of every kind of sharing.
struct School {
    room: Classroom,
    tom: Client,
    owls: String,
    carl: Client,
    carl_id: String,
    leader: Client,
    leader_id: String,
    /// Ana's work shared with her class (approved), Carl's shared with families (approved),
    /// Ana's private work, and a class-shared piece still waiting for approval.
    shared: String,
    for_families: String,
    private: String,
    waiting: String,
}

async fn share(
    server: &TestServer,
    owner: &Client,
    teacher: &Client,
    title: &str,
    visibility: &str,
    approve: bool,
) -> String {
    let id = upload_ok(server, owner, title, vec![("note.txt", format!("{title} words").into_bytes())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    if visibility != "private" {
        let res = owner
            .patch(server.url(&format!("/api/v1/artifacts/{id}")))
            .json(&json!({"visibility": visibility}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    if approve {
        let res = server.post(teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
        assert!(res.status().is_success(), "{}", res.status());
    }
    id
}

async fn school(server: &TestServer) -> School {
    let room = classroom(server).await;
    let (_, tom) = server.person(&room.admin, "tom", "teacher").await;
    let owls = server.create_class(&tom, "Owls").await["id"].as_str().unwrap().to_string();
    let (carl_id, carl) = server.person(&room.admin, "carl", "student").await;
    server.add_student(&tom, &owls, &carl_id).await;
    let (leader_id, leader) = server.person(&room.admin, "lena", "leader").await;
    let shared = share(server, &room.ana, &room.teacher, "Bridge of straws", "class", true).await;
    let for_families = share(server, &carl, &tom, "Owl pellets", "family", true).await;
    let private = share(server, &room.ana, &room.teacher, "Secret diary", "private", false).await;
    let waiting = share(server, &room.ana, &room.teacher, "Unseen poem", "class", false).await;
    School { room, tom, owls, carl, carl_id, leader, leader_id, shared, for_families, private, waiting }
}

#[tokio::test]
async fn a_leader_opens_class_and_family_work_of_any_class_but_never_private_work() {
    let server = TestServer::start().await;
    let s = school(&server).await;
    let open = |id: &str| format!("/api/v1/artifacts/{id}");
    for (what, id) in [("class work of Robins", &s.shared), ("family work of Owls", &s.for_families)] {
        assert_eq!(server.get(&s.leader, &open(id)).await.status(), StatusCode::OK, "{what}");
        let page = s.leader.get(server.url(&format!("/work/{id}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{what}: the page");
    }
    for (what, id) in [("private work", &s.private), ("work waiting for the teacher", &s.waiting)] {
        assert_eq!(server.get(&s.leader, &open(id)).await.status(), StatusCode::NOT_FOUND, "{what}");
        let page = s.leader.get(server.url(&format!("/work/{id}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{what}: the page");
    }

    // Comments: a classmate's approved comment is read; the teacher's feedback is the
    // student's; a leader posts none.
    let res =
        server.post(&s.room.ben, &format!("/api/v1/artifacts/{}/comments", s.shared), json!({"body": "Strong!"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let held = json_of(res).await["id"].as_str().unwrap().to_string();
    let read = |client: &Client| {
        let path = format!("/api/v1/artifacts/{}/comments", s.shared);
        let server = &server;
        let client = client.clone();
        async move {
            let comments = server.get_json(&client, &path).await;
            comments.as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert!(read(&s.leader).await.is_empty(), "a held comment waits for the teacher");
    let approve = format!("/api/v1/artifacts/{}/comments/{held}/approve", s.shared);
    assert!(server.post(&s.room.teacher, &approve, json!({})).await.status().is_success());
    let res = server
        .post(&s.room.teacher, &format!("/api/v1/artifacts/{}/comments", s.shared), json!({"body": "Try triangles"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bodies = read(&s.leader).await;
    assert!(bodies.contains(&"Strong!".to_string()), "{bodies:?}");
    assert!(
        !bodies.contains(&"Try triangles".to_string()),
        "feedback is between the student and the teacher: {bodies:?}"
    );
    let res =
        server.post(&s.leader, &format!("/api/v1/artifacts/{}/comments", s.shared), json!({"body": "Well done"})).await;
    assert!(res.status().is_client_error(), "{}", res.status());

    // A student's portfolio shows the leader the shared pieces only.
    let portfolio = server.get_json(&s.leader, &format!("/api/v1/users/{}/artifacts", s.room.ana_id)).await;
    let titles: Vec<&str> = portfolio.as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["Bridge of straws"]);

    // Search finds what the leader may open, and nothing else.
    let found = eventually(std::time::Duration::from_secs(20), "the index has the work", || async {
        let hits = server.get_json(&s.leader, "/api/v1/search?q=words").await;
        let titles: Vec<String> =
            hits["hits"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_string()).collect();
        (titles.len() >= 2).then_some(titles)
    })
    .await;
    let mut found = found;
    found.sort();
    assert_eq!(found, vec!["Bridge of straws".to_string(), "Owl pellets".to_string()]);

    // Class lists: every class of the school, with its members, without the join code or
    // any of the forms that change it.
    let classes = server.get_json(&s.leader, "/api/v1/classes").await;
    assert_eq!(classes.as_array().unwrap().len(), 2);
    let owls = server.get_json(&s.leader, &format!("/api/v1/classes/{}", s.owls)).await;
    assert_eq!(owls["name"], "Owls");
    assert!(owls.get("join_code").is_none(), "the sign-in code is for those who manage the class: {owls}");
    assert!(owls["members"].as_array().unwrap().iter().any(|m| m["username"] == "carl"));
    let page = s.leader.get(server.url(&format!("/classes/{}", s.room.class_id))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("ANA") || html.contains("ana"), "the roster is shown");
    assert!(!html.contains("data-testid=\"join-code\""), "no join code for a leader");
    assert!(!html.contains("method=\"post\" action=\"/classes/"), "no forms that change the class");

    // The leader's home leads to the school report and the classes.
    let home = s.leader.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/reports/school\""), "{home}");
    let _ = (&s.tom, &s.carl, &s.leader_id);
}

#[tokio::test]
async fn leaders_read_class_reports_and_the_school_report_and_admins_read_counts_only() {
    let server = TestServer::start().await;
    let s = school(&server).await;
    let fr = s.room.import_skills(&server, "FR.1,Compare fractions,Fractions\n").await["FR.1"].clone();
    let res = s
        .room
        .teacher
        .put(server.url(&format!("/api/v1/artifacts/{}/assessment", s.shared)))
        .json(&json!({"ratings": [{"skill_id": fr, "level": 3}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .post(&s.room.teacher, &format!("/api/v1/artifacts/{}/comments", s.shared), json!({"body": "Good"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = upload(&server, &s.room.ben, &[("title", "Ben's kite")], vec![("k.txt", b"kite".to_vec())]).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Class reports: every class of the school.
    for class in [&s.room.class_id, &s.owls] {
        let res = server.get(&s.leader, &format!("/api/v1/reports/classes/{class}")).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    let report = server.get_json(&s.leader, "/api/v1/reports/school").await;
    assert_eq!(report["detail"], "named");
    let robins = report["classes"].as_array().unwrap().iter().find(|c| c["name"] == "Robins").unwrap().clone();
    let weeks = robins["weeks"].as_array().unwrap();
    let sum = |field: &str| weeks.iter().map(|w| w[field].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("posts"), 4, "ana's three pieces and ben's kite: {robins}");
    assert_eq!(sum("feedback_given"), 1);
    assert!(weeks.iter().any(|w| w["students_posted"].as_u64().unwrap() >= 1));
    assert!(weeks.iter().any(|w| w["feedback_turnaround_ms"].as_u64().is_some()));
    let rated: Vec<&Value> = weeks.iter().flat_map(|w| w["ratings_by_level"].as_array().unwrap()).collect();
    assert_eq!(rated, vec![&json!({"level": 3, "ratings": 1})]);
    for w in weeks {
        let start = w["week_start"].as_u64().unwrap();
        // 1970-01-05 was a Monday: every week starts a whole number of weeks after it.
        assert_eq!((start - 4 * 86_400_000) % (7 * 86_400_000), 0, "weeks start on Monday 00:00 UTC");
    }
    let owls = report["classes"].as_array().unwrap().iter().find(|c| c["name"] == "Owls").unwrap().clone();
    assert_eq!(owls["weeks"].as_array().unwrap().iter().map(|w| w["posts"].as_u64().unwrap()).sum::<u64>(), 1);
    let page = s.leader.get(server.url("/reports/school")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Robins") && html.contains("Owls"), "{html}");
    // Each class's posts per week as a chart, beside the table (`http::charts`).
    assert!(html.contains("data-testid=\"posts-chart\"><svg") && html.contains("role=\"img\""), "{html}");

    // The administrator: the same counts, no names of classes or people anywhere.
    let res = server.get(&s.room.admin, "/api/v1/reports/school").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let admin_report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(admin_report["detail"], "counts_only");
    assert_eq!(admin_report["classes"].as_array().unwrap().len(), 2);
    assert!(admin_report["classes"].as_array().unwrap().iter().all(|c| c.get("name").is_none()));
    let page = s.room.admin.get(server.url("/reports/school")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let people = ["ana", "ANA", "ben", "BEN", "carl", "CARL", "tina", "TINA", "tom", "TOM", "lena", "LENA"];
    for name in people.iter().chain(&["Robins", "Owls"]) {
        assert!(!text.contains(name), "the admin's report names {name}: {text}");
        let body = html.split("<main").nth(1).unwrap();
        assert!(!body.contains(name), "the admin's report page names {name}");
    }

    // Everyone else: 404, for the JSON and the page.
    let (mum, _) = anas_family(&server, &s.room, "mum").await;
    for (who, client) in [("a teacher", &s.room.teacher), ("a student", &s.room.ana), ("a family", &mum)] {
        assert_eq!(server.get(client, "/api/v1/reports/school").await.status(), StatusCode::NOT_FOUND, "{who}");
        let page = client.get(server.url("/reports/school")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{who}: the page");
    }
    let bad = server.get(&s.leader, "/api/v1/reports/school?from=10&to=5").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Routes a leader may use on their own account only (never another's, never a class's).
const OWN_ACCOUNT: [(&str, &str); 2] = [("POST", "/api/v1/logout"), ("PUT", "/api/v1/me/language")];

/// A body that gets past a route's own checks as far as the permission check, where one is
/// needed for that; the rest are sent `{}`.
fn body_for(method: &str, path: &str, ids: &Ids) -> Value {
    match (method, path) {
        ("POST", "/api/v1/classes") => json!({"name": "Leader's class"}),
        ("POST", "/api/v1/classes/{id}/members") => json!({"user_id": ids.carl, "role": "student"}),
        ("PUT", "/api/v1/classes/{id}/settings") => json!({"require_approval": false, "comments_allowed": true}),
        ("POST", "/api/v1/users") => {
            json!({"username": "sneaky", "display_name": "Sneaky", "role": "teacher", "password": "long enough pw"})
        }
        ("PATCH", "/api/v1/users/{id}") => json!({"display_name": "Renamed", "disabled": true}),
        ("PUT", "/api/v1/users/{id}/password") => json!({"password": "another long pw"}),
        ("POST", "/api/v1/users/{id}/family") => json!({"student_id": ids.ana}),
        ("PATCH", "/api/v1/artifacts/{id}") => json!({"title": "Changed by the leader"}),
        ("PATCH", "/api/v1/activities/{id}") => json!({"title": "Changed by the leader", "skill_ids": []}),
        ("POST", "/api/v1/artifacts/{id}/comments") => json!({"body": "A leader's comment"}),
        ("POST", "/api/v1/artifacts/{id}/review") => json!({"approved": false}),
        ("PUT", "/api/v1/artifacts/{id}/assessment") => json!({"ratings": [{"skill_id": ids.skill, "level": 1}]}),
        ("POST", "/api/v1/skills/items") => json!({"code": "L.1", "name": "Leading"}),
        ("PUT", "/api/v1/skills/items/{id}") => json!({"code": "L.1", "name": "Leading"}),
        ("PUT", "/api/v1/skills/levels") => json!({"levels": ["Low", "High"]}),
        ("PUT", "/api/v1/skills") => json!({"skills": ["L.1"]}),
        ("PUT", "/api/v1/school/language") => json!({"language": "es"}),
        ("PUT", "/api/v1/search/language") => json!({"language": "spanish"}),
        _ => json!({}),
    }
}

struct Ids {
    artifact: String,
    comment: String,
    file: String,
    class: String,
    ana: String,
    carl: String,
    activity: String,
    skill: String,
}

#[tokio::test]
async fn a_leader_is_refused_every_write_route() {
    let server = TestServer::start().await;
    let s = school(&server).await;
    let skill = s.room.import_skills(&server, "FR.1,Compare fractions,Fractions\n").await["FR.1"].clone();
    let res = s
        .room
        .teacher
        .post(server.url(&format!("/api/v1/classes/{}/activities", s.room.class_id)))
        .multipart(form(&[("title", "Halves"), ("prompt", "Cut it.")], vec![("a.txt", b"a".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let activity = json_of(res).await;
    let comment = json_of(
        server.post(&s.room.ben, &format!("/api/v1/artifacts/{}/comments", s.shared), json!({"body": "Held?"})).await,
    )
    .await;
    let work = server.get_json(&s.room.ana, &format!("/api/v1/artifacts/{}", s.shared)).await;
    let ids = Ids {
        artifact: s.shared.clone(),
        comment: comment["id"].as_str().unwrap().to_string(),
        file: work["files"][0]["id"].as_str().unwrap().to_string(),
        class: s.room.class_id.clone(),
        ana: s.room.ana_id.clone(),
        carl: s.carl_id.clone(),
        activity: activity["id"].as_str().unwrap().to_string(),
        skill,
    };

    let doc = server.contract().await.doc().clone();
    let mut tried = 0;
    let mut allowed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().map(|m| m.to_uppercase()) {
            if ["GET", "HEAD", "OPTIONS"].contains(&method.as_str())
                || OWN_ACCOUNT.contains(&(method.as_str(), path.as_str()))
            {
                continue;
            }
            let id = if path.starts_with("/api/v1/artifacts") {
                &ids.artifact
            } else if path.starts_with("/api/v1/classes") {
                &ids.class
            } else if path.starts_with("/api/v1/users") {
                &ids.ana
            } else if path.starts_with("/api/v1/activities") {
                &ids.activity
            } else if path.starts_with("/api/v1/skills") {
                &ids.skill
            } else {
                "01900000-0000-7000-8000-000000000000"
            };
            let concrete = path
                .replace("{id}", id)
                .replace("{user_id}", &ids.ana)
                .replace("{file_id}", &ids.file)
                .replace("{comment_id}", &ids.comment)
                .replace("{code}", "ZZZZZZ");
            let mut req = s.leader.request(Method::from_bytes(method.as_bytes()).unwrap(), server.url(&concrete));
            let multipart = ["/artifacts", "/versions", "/activities", "/roster", "/oneroster"];
            if method == "POST" && multipart.iter().any(|m| path.ends_with(m)) {
                req = req.multipart(form(
                    &[("title", "By the leader"), ("display_name", "X")],
                    vec![("x.txt", b"x".to_vec())],
                ));
            } else {
                req = req.json(&body_for(&method, path, &ids));
            }
            let res = req.send().await.unwrap();
            tried += 1;
            if res.status().is_success() || res.status().is_redirection() {
                allowed.push(format!("{method} {path}: {}", res.status()));
            }
        }
    }
    assert!(tried >= 40, "every write route was tried ({tried})");
    assert!(allowed.is_empty(), "a leader was let through: {allowed:#?}");

    // Nothing of the school changed: the op log holds no operation the leader made.
    let leader_id = s.leader_id.clone();
    let dir = server.data_dir.clone();
    let temp = server.stop().await;
    let db = redb::Database::open(db_path(&dir)).unwrap();
    let txn = db.begin_read().unwrap();
    let log = txn.open_table(folio::store::tables::OPLOG).unwrap();
    let mut by_leader = 0;
    for row in redb::ReadableTable::iter(&log).unwrap() {
        let op: folio::domain::Op = folio::store::codec::decode(row.unwrap().1.value()).unwrap();
        if op.author.is_some_and(|a| a.to_string() == leader_id) {
            by_leader += 1;
        }
    }
    assert_eq!(by_leader, 0, "the leader changed something");
    drop(temp);
}
