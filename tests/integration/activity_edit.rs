//! Changing an activity after it was posted: its title, prompt, due date and the skills it
//! targets, by its class's teachers, through the API and the class page's form; one
//! operation each, so it syncs. A teacher of another class, a student and a leader get 404
//! and nothing is recorded.

use reqwest::multipart::Form;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::skills::{case_package, import_case};
use crate::support::*;
use crate::work::op_count;

async fn skill_id(server: &TestServer, client: &Client, code: &str) -> String {
    let list = server.get_json(client, "/api/v1/skills").await;
    let found = list["items"].as_array().unwrap().iter().find(|s| s["code"] == code).unwrap();
    found["id"].as_str().unwrap().to_string()
}

async fn patch(server: &TestServer, client: &Client, id: &str, body: Value) -> reqwest::Response {
    client.patch(server.url(&format!("/api/v1/activities/{id}"))).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_teacher_changes_an_activity_s_skills_and_words_and_a_teacher_of_another_class_gets_404() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    import_case(&server, &room.teacher, &case_package("Fractions 1/b.")).await;
    let (nf1, oa1) =
        (skill_id(&server, &room.teacher, "3.NF.A.1").await, skill_id(&server, &room.teacher, "3.OA.A.1").await);
    let form = Form::new().text("title", "Halves").text("prompt", "Fold paper.").text("skill_ids", nf1.clone());
    let path = format!("/api/v1/classes/{}/activities", room.class_id);
    let res = room.teacher.post(server.url(&path)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    let activity = json_of(res).await;
    let id = activity["id"].as_str().unwrap().to_string();
    assert_eq!(activity["skill_ids"], json!([nf1]));

    // Others: a teacher of another class, a student of the class, a leader; all 404, nothing
    // recorded.
    let (_, other) = server.person(&room.admin, "otto", "teacher").await;
    server.create_class(&other, "Wrens").await;
    let (_, leader) = server.person(&room.admin, "lea", "leader").await;
    let before = op_count(&server);
    for (who, client) in [("another class's teacher", &other), ("a student", &room.ana), ("a leader", &leader)] {
        let res = patch(&server, client, &id, json!({"title": "Mine now", "skill_ids": []})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}");
        let res = client.get(server.url(&format!("/activities/{id}/edit"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}: the edit page");
    }
    let res = patch(&server, &room.teacher, &folio::domain::ActivityId::new().to_string(), json!({"title": "x"})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no such activity");
    // Bad input is refused whole.
    let res = patch(&server, &room.teacher, &id, json!({"title": "Later", "due": "next week"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = patch(&server, &room.teacher, &id, json!({"skill_ids": [folio::domain::SkillId::new()]})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(op_count(&server), before, "nothing recorded");
    assert_eq!(server.get_json(&room.ana, &format!("/api/v1/activities/{id}")).await["title"], "Halves");

    // The class's teacher: only what is given changes, in one operation.
    let res = patch(&server, &room.teacher, &id, json!({"skill_ids": [oa1, nf1], "due": "2026-12-18"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed = json_of(res).await;
    assert_eq!(changed["skill_ids"], json!([oa1, nf1]));
    assert_eq!((changed["title"].as_str(), changed["due"].as_str()), (Some("Halves"), Some("2026-12-18")));
    assert_eq!(op_count(&server), before + 1);
    let seen = server.get_json(&room.ana, &format!("/api/v1/activities/{id}")).await;
    assert_eq!(seen["skill_ids"], json!([oa1, nf1]), "the class sees the change");
    let anas = server.get(&room.ana, &format!("/activities/{id}")).await.text().await.unwrap();
    assert!(anas.contains("name=\"skills\" value=\"3.OA.A.1\" checked"), "answers start with the new skills");

    // The class page links to the form, which shows the activity as it is and saves it.
    let class_page = server.get(&room.teacher, &format!("/classes/{}", room.class_id)).await.text().await.unwrap();
    assert!(class_page.contains(&format!("href=\"/activities/{id}/edit\"")));
    let edit_page = server.get(&room.teacher, &format!("/activities/{id}/edit")).await.text().await.unwrap();
    assert!(edit_page.contains(&format!("value=\"{oa1}\" checked")) && edit_page.contains("value=\"2026-12-18\""));
    let form = [
        ("csrf", csrf_of(&edit_page)),
        ("title", "Halves and quarters".into()),
        ("prompt", "Fold it twice.".into()),
        ("due", String::new()),
        ("skill_ids", nf1.clone()),
    ];
    let res = room.teacher.post(server.url(&format!("/activities/{id}/edit"))).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = server.get_json(&room.ana, &format!("/api/v1/activities/{id}")).await;
    assert_eq!(after["title"], "Halves and quarters");
    assert_eq!(after["prompt"], "Fold it twice.");
    assert_eq!(after["due"], Value::Null, "an empty date removes it");
    assert_eq!(after["skill_ids"], json!([nf1]));
}
