//! Rating work against the school's skills: a teacher's ratings per version, a student's
//! self-assessment beside them, and who sees them (the work's teachers and students; its
//! families when the class allows; 404 for a classmate, another family, a teacher of another
//! class and an administrator).

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::family_work::{anas_family, bens_family, shared_work};
use crate::support::*;

/// Two skills from a CSV; returns their ids by code.
async fn two_skills(server: &TestServer, room: &Classroom) -> (String, String) {
    let skills = room.import_skills(server, "FR.1,Compare fractions,Fractions\nCOLLAB,Collaboration,Habits\n").await;
    (skills["FR.1"].clone(), skills["COLLAB"].clone())
}

/// The teacher sends the review queue's form for `work` (the first in the queue) with
/// `fields` (feedback, decision, ratings), as the page would.
async fn review_and_next(server: &TestServer, room: &Classroom, work: &str, fields: &[(&str, &str)]) {
    let csrf = server.csrf_of(&room.teacher, "/review").await;
    let mut form = vec![("csrf", csrf.as_str()), ("skip", "0")];
    form.extend_from_slice(fields);
    let res = room.teacher.post(server.url(&format!("/review/{work}"))).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn rate(server: &TestServer, client: &Client, work: &str, body: Value) -> reqwest::Response {
    client.put(server.url(&format!("/api/v1/artifacts/{work}/assessment"))).json(&body).send().await.unwrap()
}

async fn ratings_seen(server: &TestServer, client: &Client, work: &str) -> Result<Vec<Value>, StatusCode> {
    let res = server.get(client, &format!("/api/v1/artifacts/{work}/assessment")).await;
    match res.status() {
        StatusCode::OK => Ok(json_of(res).await["ratings"].as_array().unwrap().clone()),
        other => Err(other),
    }
}

#[tokio::test]
async fn a_teacher_rates_a_version_and_the_student_assesses_herself_beside_it() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (fr, collab) = two_skills(&server, &room).await;
    let work = shared_work(&server, &room, "Halves").await;

    let res = rate(&server, &room.teacher, &work, json!({"ratings": [{"skill_id": fr, "level": 3}]})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer = json_of(res).await;
    let first_version = answer["latest_version_id"].as_str().unwrap().to_string();
    let r = &answer["ratings"][0];
    assert_eq!(
        (r["code"].as_str(), r["level"].as_u64(), r["level_name"].as_str()),
        (Some("FR.1"), Some(3), Some("Secure"))
    );
    assert_eq!(r["version_id"], first_version.as_str(), "the latest version by default");
    assert_eq!(r["rater_name"], "TINA");
    assert_eq!(r["self"], false);
    assert!(r["at_ms"].as_u64().unwrap() > 1_600_000_000_000);

    // Ana rates herself; rating without "self" is the teachers' to do, and the reverse.
    let res = rate(&server, &room.ana, &work, json!({"ratings": [{"skill_id": fr, "level": 2}], "self": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        rate(&server, &room.ana, &work, json!({"ratings": [{"skill_id": fr, "level": 4}]})).await.status(),
        StatusCode::FORBIDDEN
    );
    let res =
        rate(&server, &room.teacher, &work, json!({"ratings": [{"skill_id": fr, "level": 4}], "self": true})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A second version: rated on its own; the first keeps its rating. Rating again replaces.
    let res = room
        .ana
        .post(server.url(&format!("/api/v1/artifacts/{work}/versions")))
        .multipart(crate::work::form(&[("note", "redone")], vec![("b.txt", b"quarters too".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = json!({"ratings": [{"skill_id": fr, "level": 4}, {"skill_id": collab, "level": 1}]});
    assert_eq!(rate(&server, &room.teacher, &work, body).await.status(), StatusCode::OK);
    let body = json!({"ratings": [{"skill_id": fr, "level": 2}], "version_id": first_version});
    assert_eq!(rate(&server, &room.teacher, &work, body).await.status(), StatusCode::OK);
    for client in [&room.teacher, &room.ana] {
        let seen = ratings_seen(&server, client, &work).await.unwrap();
        let mut summary: Vec<(bool, bool, String, u64)> = seen
            .iter()
            .map(|r| {
                let first = r["version_id"] == first_version.as_str();
                (
                    first,
                    r["self"].as_bool().unwrap(),
                    r["code"].as_str().unwrap().to_string(),
                    r["level"].as_u64().unwrap(),
                )
            })
            .collect();
        summary.sort();
        assert_eq!(
            summary,
            vec![
                (false, false, "COLLAB".into(), 1),
                (false, false, "FR.1".into(), 4),
                (true, false, "FR.1".into(), 2),
                (true, true, "FR.1".into(), 2),
            ]
        );
    }
}

#[tokio::test]
async fn ratings_outside_the_scale_or_the_list_are_refused() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (fr, collab) = two_skills(&server, &room).await;
    let work = shared_work(&server, &room, "Halves").await;
    let other = shared_work(&server, &room, "Other").await;
    let other_version =
        server.get_json(&room.teacher, &format!("/api/v1/artifacts/{other}")).await["versions"][0]["id"].clone();
    for body in [
        json!({"ratings": [{"skill_id": fr, "level": 5}]}),
        json!({"ratings": [{"skill_id": fr, "level": 0}]}),
        json!({"ratings": [{"skill_id": other, "level": 1}]}),
        json!({"ratings": [{"skill_id": fr, "level": 1}, {"skill_id": fr, "level": 2}]}),
        json!({"ratings": []}),
        json!({"ratings": [{"skill_id": fr, "level": 1}], "version_id": other_version}),
    ] {
        let res = rate(&server, &room.teacher, &work, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // A retired skill is no longer rated.
    let path = format!("/api/v1/skills/items/{collab}");
    let res =
        room.teacher.put(server.url(&path)).json(&json!({"code": "COLLAB", "retired": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = rate(&server, &room.teacher, &work, json!({"ratings": [{"skill_id": collab, "level": 1}]})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ratings_seen(&server, &room.teacher, &work).await.unwrap().is_empty());
}

#[tokio::test]
async fn ratings_are_seen_by_the_work_s_teachers_and_students_and_families_only_when_the_class_allows() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (fr, _) = two_skills(&server, &room).await;
    let work = shared_work(&server, &room, "Halves").await;
    let body = json!({"ratings": [{"skill_id": fr, "level": 3}]});
    assert_eq!(rate(&server, &room.teacher, &work, body.clone()).await.status(), StatusCode::OK);
    let body_self = json!({"ratings": [{"skill_id": fr, "level": 2}], "self": true});
    assert_eq!(rate(&server, &room.ana, &work, body_self.clone()).await.status(), StatusCode::OK);

    let (mum, _) = anas_family(&server, &room, "mum").await;
    // Another teacher with a class of her own, and Ben's family.
    let (_, olga) = server.person(&room.admin, "olga", "teacher").await;
    server.create_class(&olga, "Owls").await;
    let bens = bens_family(&server, &room).await;

    // The work itself is shared with the class and families: each of them can open it.
    for (who, client) in [("a classmate", &room.ben), ("her family", &mum)] {
        let res = server.get(client, &format!("/api/v1/artifacts/{work}")).await;
        assert_eq!(res.status(), StatusCode::OK, "{who} sees the work");
    }
    assert_eq!(ratings_seen(&server, &room.teacher, &work).await.unwrap().len(), 2);
    assert_eq!(ratings_seen(&server, &room.ana, &work).await.unwrap().len(), 2);
    let refused = [
        ("a classmate", &room.ben),
        ("her family, before the class allows it", &mum),
        ("another family", &bens),
        ("a teacher of another class", &olga),
        ("an administrator", &room.admin),
    ];
    for (who, client) in refused {
        assert_eq!(ratings_seen(&server, client, &work).await, Err(StatusCode::NOT_FOUND), "{who}");
    }
    // Nobody outside the work's teachers and students rates it.
    assert_eq!(rate(&server, &olga, &work, body.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(rate(&server, &room.admin, &work, body.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(rate(&server, &room.ben, &work, body_self.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(rate(&server, &mum, &work, body_self).await.status(), StatusCode::FORBIDDEN);

    // The class lets families see ratings: Ana's family does; nobody else gains anything.
    room.set_settings(&server, json!({"family_sees_ratings": true})).await;
    assert_eq!(ratings_seen(&server, &mum, &work).await.unwrap().len(), 2);
    for (who, client) in [("a classmate", &room.ben), ("another family", &bens), ("another teacher", &olga)] {
        assert_eq!(ratings_seen(&server, client, &work).await, Err(StatusCode::NOT_FOUND), "{who}");
    }
}

#[tokio::test]
async fn the_review_page_rates_while_approving_and_the_work_page_takes_the_self_assessment() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (fr, _) = two_skills(&server, &room).await;
    let res = crate::work::upload(
        &server,
        &room.ana,
        &[("title", "Halves"), ("skills", "FR.1"), ("visibility", "class")],
        vec![("a.txt", b"halves".to_vec())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let work = json_of(res).await["id"].as_str().unwrap().to_string();

    // The student assesses herself first, on her work's page, without scripts.
    let page = server.get(&room.ana, &format!("/work/{work}")).await.text().await.unwrap();
    assert!(page.contains(&format!("name=\"level-{fr}\"")) && page.contains("Rate yourself"), "{page}");
    let csrf = server.csrf_of(&room.ana, &format!("/work/{work}")).await;
    let field = format!("level-{fr}");
    let res = room
        .ana
        .post(server.url(&format!("/work/{work}/assessment")))
        .form(&[("csrf", csrf.as_str()), (field.as_str(), "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The teacher sees it beside her own controls in the queue, rates and approves in one go.
    let review = server.get(&room.teacher, "/review").await.text().await.unwrap();
    assert!(review.contains(&format!("name=\"level-{fr}\"")), "{review}");
    assert!(review.contains("own rating: Developing"), "{review}");
    review_and_next(
        &server,
        &room,
        &work,
        &[("feedback", "Well cut!"), (field.as_str(), "3"), ("decision", "approve")],
    )
    .await;
    let seen = ratings_seen(&server, &room.ana, &work).await.unwrap();
    let levels: Vec<(bool, u64)> =
        seen.iter().map(|r| (r["self"].as_bool().unwrap(), r["level"].as_u64().unwrap())).collect();
    assert_eq!(levels, vec![(true, 2), (false, 3)]);
    let approved = server.get_json(&room.teacher, &format!("/api/v1/artifacts/{work}")).await;
    assert_eq!(approved["approved"], true);

    // Her page now shows the teacher's rating beside her own; a classmate's shows no ratings.
    let page = server.get(&room.ana, &format!("/work/{work}")).await.text().await.unwrap();
    assert!(page.contains("Your teacher: Secure"), "{page}");
    let classmate = server.get(&room.ben, &format!("/work/{work}")).await;
    assert_eq!(classmate.status(), StatusCode::OK);
    assert!(!classmate.text().await.unwrap().contains("data-testid=\"ratings\""));
}

/// "Feedback only" in the review queue leaves the work unshared; its student is told her
/// teacher has looked at it (and to read the feedback) rather than still "waiting for a
/// teacher", which is what her page said before.
#[tokio::test]
async fn feedback_only_tells_the_student_her_teacher_has_looked_and_the_work_is_not_shared() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let res = crate::work::upload(
        &server,
        &room.ana,
        &[("title", "Quarters"), ("visibility", "class")],
        vec![("a.txt", b"quarters".to_vec())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let work = json_of(res).await["id"].as_str().unwrap().to_string();
    let page = server.get(&room.ana, &format!("/work/{work}")).await.text().await.unwrap();
    assert!(page.contains("waiting for a teacher"), "{page}");

    review_and_next(&server, &room, &work, &[("feedback", "Try folding it again."), ("decision", "reviewed")]).await;
    let state = server.get_json(&room.teacher, &format!("/api/v1/artifacts/{work}")).await;
    assert_eq!((state["approved"].as_bool(), state["reviewed"].as_bool()), (Some(false), Some(true)), "{state}");
    let page = server.get(&room.ana, &format!("/work/{work}")).await.text().await.unwrap();
    assert!(!page.contains("waiting for a teacher"), "{page}");
    assert!(page.contains("Your teacher has looked at it") && page.contains("Try folding it again."), "{page}");
    // Classmates still do not see it.
    assert_eq!(server.get(&room.ben, &format!("/work/{work}")).await.status(), StatusCode::NOT_FOUND);
}
