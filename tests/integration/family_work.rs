//! Families and the work: the feed and its `new`, comments held for the teacher, family
//! sharing turned off, and contributions from home going through review. People outside
//! the family's circle get 404 on every new route.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::*;
use crate::work::{form, upload_ok};

/// A family member of the room's student `student_id`, joined with a fresh sheet; returns
/// the client and their id.
pub async fn family_of(server: &TestServer, room: &Classroom, student_id: &str, username: &str) -> (Client, String) {
    let res =
        server.post(&room.teacher, &format!("/api/v1/classes/{}/family-invitations", room.class_id), json!({})).await;
    let sheets = json_of(res).await;
    let token =
        sheets["invitations"].as_array().unwrap().iter().find(|s| s["student_id"] == student_id).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
    let client = server.client();
    let body = json!({"token": token, "username": username, "display_name": format!("{username} family"), "password": "family-password-1"});
    let res = server.post(&client, "/api/v1/family/join", body).await;
    let status = res.status();
    let answer = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let id = answer["user"]["id"].as_str().unwrap().to_string();
    (client, id)
}

/// A family member of Ana's, joined with a sheet; returns the client and their id.
pub async fn anas_family(server: &TestServer, room: &Classroom, username: &str) -> (Client, String) {
    family_of(server, room, &room.ana_id, username).await
}

/// Ben's dad, joined with Ben's sheet.
pub async fn bens_family(server: &TestServer, room: &Classroom) -> Client {
    let ben_id = server.get_json(&room.ben, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    family_of(server, room, &ben_id, "bensdad").await.0
}

/// Ana's work, shared with her family and approved by the teacher.
pub async fn share_with_family_and_approve(server: &TestServer, room: &Classroom, id: &str) {
    let res = room
        .ana
        .patch(server.url(&format!("/api/v1/artifacts/{id}")))
        .json(&json!({"visibility": "family"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Ana's work shared with her family and approved by the teacher; returns its id.
pub async fn shared_work(server: &TestServer, room: &Classroom, title: &str) -> String {
    let artifact = upload_ok(server, &room.ana, title, vec![("note.txt", b"my kite".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();
    share_with_family_and_approve(server, room, &id).await;
    id
}

async fn feed(server: &TestServer, client: &Client) -> Vec<Value> {
    server.get_json(client, "/api/v1/family/feed").await["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_feed_shows_shared_work_and_feedback_new_until_opened() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (mum, _) = anas_family(&server, &room, "mum").await;
    assert!(feed(&server, &mum).await.is_empty());

    // Private work and work waiting for the teacher are not in it.
    upload_ok(&server, &room.ana, "Private", vec![("p.txt", b"p".to_vec())]).await;
    let kite = shared_work(&server, &room, "Kite").await;
    let items = feed(&server, &mum).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["artifact_id"], kite.as_str());
    assert_eq!(items[0]["student_id"], room.ana_id.as_str());
    assert_eq!(items[0]["kind"], "work");
    assert_eq!(items[0]["new"], true);
    // Reading the feed marks nothing; the home page says it is new.
    assert_eq!(feed(&server, &mum).await[0]["new"], true);
    let home = server.get(&mum, "/home").await.text().await.unwrap();
    assert!(home.contains("New since your last visit") && home.contains("Kite"), "{home}");

    // Opening the work marks it seen.
    server.get_json(&mum, &format!("/api/v1/artifacts/{kite}")).await;
    assert_eq!(feed(&server, &mum).await[0]["new"], false);

    // Feedback arrives: newest first, new again until opened.
    let fb = server
        .post(&room.teacher, &format!("/api/v1/artifacts/{kite}/comments"), json!({"body": "Great colours"}))
        .await;
    assert_eq!(fb.status(), StatusCode::CREATED);
    let items = feed(&server, &mum).await;
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["kind"].as_str(), items[0]["new"].as_bool()), (Some("feedback"), Some(true)));
    assert_eq!(items[1]["new"], false);
    let page = server.get(&mum, &format!("/work/{kite}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(feed(&server, &mum).await.iter().all(|i| i["new"] == false));

    // The feed is a family's: others are refused.
    assert_eq!(server.get(&room.teacher, "/api/v1/family/feed").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(server.get(&server.client(), "/api/v1/family/feed").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_family_sees_nothing_of_ana_in_its_feed_or_on_her_work() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let kite = shared_work(&server, &room, "Kite").await;
    let (mum, _) = anas_family(&server, &room, "mum").await;
    let bens = bens_family(&server, &room).await;

    assert!(feed(&server, &bens).await.is_empty(), "Ben's family sees nothing of Ana");
    assert_eq!(feed(&server, &mum).await.len(), 1);
    for (who, client) in [("another family", &bens), ("a classmate", &room.ben)] {
        let res = server.post(client, &format!("/api/v1/artifacts/{kite}/comments"), json!({"body": "hi"})).await;
        // A classmate may see class-shared work; this one is shared with the family only.
        assert_eq!(
            res.status(),
            if who == "a classmate" { StatusCode::CREATED } else { StatusCode::NOT_FOUND },
            "{who}"
        );
    }
    let res = bens
        .post(server.url("/api/v1/artifacts"))
        .multipart(form(&[("title", "Not mine"), ("for_student", &room.ana_id)], vec![("x.txt", b"x".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "another family cannot add to Ana's portfolio");
}

#[tokio::test]
async fn family_comments_wait_for_the_teacher_then_the_child_sees_them() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let kite = shared_work(&server, &room, "Kite").await;
    let (gran, _) = anas_family(&server, &room, "gran").await;

    let res =
        server.post(&gran, &format!("/api/v1/artifacts/{kite}/comments"), json!({"body": "So proud of you!"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let comment = json_of(res).await;
    assert_eq!(comment["approved"], false, "held for the teacher by default");
    let ana_sees = server.get_json(&room.ana, &format!("/api/v1/artifacts/{kite}/comments")).await;
    assert!(ana_sees.as_array().unwrap().is_empty(), "{ana_sees}");
    // In the teacher's review page, with an approve button.
    let review = server.get(&room.teacher, "/review").await.text().await.unwrap();
    assert!(review.contains("So proud of you!") && review.contains("Approve comment"), "{review}");
    let cid = comment["id"].as_str().unwrap();
    let ok = server.post(&room.teacher, &format!("/api/v1/artifacts/{kite}/comments/{cid}/approve"), json!({})).await;
    assert!(ok.status().is_success());
    let ana_sees = server.get_json(&room.ana, &format!("/api/v1/artifacts/{kite}/comments")).await;
    assert_eq!(ana_sees[0]["body"], "So proud of you!");

    // With the class setting off, family comments go straight through.
    room.set_settings(&server, json!({"hold_family_comments": false})).await;
    let res = server.post(&gran, &format!("/api/v1/artifacts/{kite}/comments"), json!({"body": "Again!"})).await;
    assert_eq!(json_of(res).await["approved"], true);
}

#[tokio::test]
async fn turning_family_sharing_off_hides_everything_from_the_class_s_families_at_once() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let kite = shared_work(&server, &room, "Kite").await;
    let (mum, _) = anas_family(&server, &room, "mum").await;
    assert_eq!(feed(&server, &mum).await.len(), 1);

    let settings = format!("/api/v1/classes/{}/settings", room.class_id);
    let put = |on: bool| room.teacher.put(server.url(&settings)).json(&json!({"family_sharing": on})).send();
    assert_eq!(put(false).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(feed(&server, &mum).await.is_empty());
    assert_eq!(server.get(&mum, &format!("/api/v1/artifacts/{kite}")).await.status(), StatusCode::NOT_FOUND);
    let comment = server.post(&mum, &format!("/api/v1/artifacts/{kite}/comments"), json!({"body": "hi"})).await;
    assert_eq!(comment.status(), StatusCode::NOT_FOUND);
    // The class itself is unchanged: the classmate and the owner still see it.
    assert_eq!(server.get(&room.ana, &format!("/api/v1/artifacts/{kite}")).await.status(), StatusCode::OK);
    // A teacher of another class cannot change the setting.
    let (_, tom) = server.person(&room.admin, "tom", "teacher").await;
    let res = tom.put(server.url(&settings)).json(&json!({"family_sharing": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    assert_eq!(put(true).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(feed(&server, &mum).await.len(), 1);
}

#[tokio::test]
async fn a_contribution_from_home_belongs_to_the_child_and_waits_for_the_teacher() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (dad, _) = anas_family(&server, &room, "dad").await;

    let missing = dad
        .post(server.url("/api/v1/artifacts"))
        .multipart(form(&[("title", "Weekend kite")], vec![("kite.txt", b"we flew it".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY, "whose portfolio must be said");
    let res = dad
        .post(server.url("/api/v1/artifacts"))
        .multipart(form(
            &[
                ("title", "Weekend kite"),
                ("reflection", "Ana built it with grandad"),
                ("for_student", &room.ana_id),
                ("visibility", "family"),
            ],
            vec![("kite.txt", b"we flew it".to_vec())],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let work = json_of(res).await;
    assert_eq!(work["owners"], json!([room.ana_id]));
    assert_eq!(work["from_home"], true);
    assert_eq!(work["visibility"], "private", "private, whatever was asked");
    let id = work["id"].as_str().unwrap();

    // In Ana's portfolio, and in the teacher's review queue.
    let portfolio = server.get_json(&room.ana, &format!("/api/v1/users/{}/artifacts", room.ana_id)).await;
    assert_eq!(portfolio[0]["id"], id);
    let queue = server.get_json(&room.teacher, "/api/v1/review-queue").await;
    assert!(queue.as_array().unwrap().iter().any(|a| a["id"] == id), "{queue}");
    // A classmate does not see it.
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::NOT_FOUND);
    // Reviewed: out of the queue.
    server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    let queue = server.get_json(&room.teacher, "/api/v1/review-queue").await;
    assert!(queue.as_array().unwrap().iter().all(|a| a["id"] != id));
    // Ben's work is not Dad's to add to.
    let ben_id = server.get_json(&room.ben, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    let res = dad
        .post(server.url("/api/v1/artifacts"))
        .multipart(form(&[("title", "x"), ("for_student", &ben_id)], vec![("x.txt", b"x".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_family_adds_from_home_on_a_page_their_phone_keeps() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (dad, _) = anas_family(&server, &room, "dad").await;
    let home = server.get(&dad, "/home").await.text().await.unwrap();
    let add = format!("/family/add/{}", room.ana_id);
    assert!(home.contains(&format!("href=\"{add}\"")), "the family home links to the page: {home}");

    let res = server.get(&dad, &add).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Kept on the family's phone, so it opens at home with no way to the box.
    assert_eq!(res.headers().get("x-folio-offline").map(|v| v.to_str().unwrap()), Some("keep"));
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("name=\"for_student\" value=\"{}\"", room.ana_id)), "{page}");
    assert!(!page.contains("name=\"visibility\""), "work from home is private: nothing to choose");
    assert!(page.contains("data-offline=\"artifact\""), "the outbox holds it offline");

    // Without scripts: the form posts to /work and the family goes back home.
    let res = dad
        .post(server.url("/work"))
        .multipart(form(
            &[("csrf", &csrf_of(&page)), ("for_student", &room.ana_id), ("title", "Our garden")],
            vec![("garden.txt", b"tomatoes".to_vec())],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/home?done=from-home-sent");
    let portfolio = server.get_json(&room.ana, &format!("/api/v1/users/{}/artifacts", room.ana_id)).await;
    let added = portfolio.as_array().unwrap().iter().find(|a| a["title"] == "Our garden").expect("in Ana's portfolio");
    assert_eq!(added["from_home"], true);
    assert_eq!(added["owners"], json!([room.ana_id]));

    // Nobody else has the page: another child, a teacher, the child herself.
    let ben = server.get_json(&room.ben, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    assert_eq!(server.get(&dad, &format!("/family/add/{ben}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.get(&room.teacher, &add).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.get(&room.ana, &add).await.status(), StatusCode::NOT_FOUND);
}
