//! The class report: per student what they posted, the feedback they received, the
//! activities they answered and their skills' latest teacher and self ratings; quiet
//! students flagged; the class's teachers only (404 for anyone else).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::family_work::anas_family;
use crate::support::*;
use crate::work::{form, upload};

#[tokio::test]
async fn the_class_report_counts_work_feedback_activities_and_ratings_per_student() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let res = room
        .teacher
        .post(server.url("/api/v1/skills/import"))
        .header("content-type", "text/csv")
        .body("FR.1,Compare fractions,Fractions\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let fr = server.get_json(&room.teacher, "/api/v1/skills").await["items"][0]["id"].as_str().unwrap().to_string();
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
