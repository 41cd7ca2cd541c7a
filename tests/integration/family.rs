//! Families: invitation sheets (printing, joining, the four places, revoking by printing
//! again, siblings, the throttle), and the links a student's teachers see and undo. Every
//! new route is tried by people outside the family's circle (another family, a classmate, a
//! teacher of another class), who get 404.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn print_sheets(server: &TestServer, client: &Client, class_id: &str) -> Vec<Value> {
    let res = server.post(client, &format!("/api/v1/classes/{class_id}/family-invitations"), json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    json_of(res).await["invitations"].as_array().unwrap().clone()
}

fn token_for(sheets: &[Value], student: &str) -> String {
    sheets.iter().find(|s| s["student_id"] == student).unwrap()["token"].as_str().unwrap().to_string()
}

/// A new family member joins with `token`; returns the status and the client (signed in
/// when it worked).
async fn join(server: &TestServer, token: &str, username: &str) -> (StatusCode, Client, Value) {
    let client = server.client();
    let body = json!({"token": token, "username": username, "display_name": format!("{username} family"), "password": "family-password-1"});
    let res = server.post(&client, "/api/v1/family/join", body).await;
    let status = res.status();
    (status, client, json_of(res).await)
}

async fn ids_of_family(server: &TestServer, client: &Client, student: &str) -> Vec<String> {
    let list = server.get_json(client, &format!("/api/v1/users/{student}/family")).await;
    list["family"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_sheet_takes_four_family_members_and_printing_again_revokes_it() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let sheets = print_sheets(&server, &room.teacher, &room.class_id).await;
    assert_eq!(sheets.len(), 2, "one sheet per student: {sheets:?}");
    let token = token_for(&sheets, &room.ana_id);
    assert!(sheets[0]["url"].as_str().unwrap().contains("/f/"), "{sheets:?}");

    let (status, mum, joined) = join(&server, &token, "anasmum").await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    assert_eq!(joined["student_id"], room.ana_id.as_str());
    let me = server.get_json(&mum, "/api/v1/me").await;
    assert_eq!(me["role"], "family");
    // Typed by hand: lower case, with the dashes of the printed groups.
    let typed = format!("{}-{}-{}", &token[..4], &token[4..8], &token[8..]).to_lowercase();
    let (status, _, body) = join(&server, &typed, "anasdad").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let family = ids_of_family(&server, &room.teacher, &room.ana_id).await;
    assert_eq!(family.len(), 2);
    assert!(family.contains(&me["id"].as_str().unwrap().to_string()));

    // A username already taken is refused and costs the sheet nothing.
    assert_eq!(join(&server, &token, "anasmum").await.0, StatusCode::CONFLICT);
    for name in ["gran", "grandad"] {
        assert_eq!(join(&server, &token, name).await.0, StatusCode::CREATED);
    }
    let (status, _, body) = join(&server, &token, "fifth").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "four places only");
    assert!(body["message"].as_str().unwrap().contains("new sheet"), "{body}");

    // Printing again: the old sheets stop working, families who joined stay linked.
    let ben_id = server.get_json(&room.ben, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    let ben_old = token_for(&sheets, &ben_id);
    let again = print_sheets(&server, &room.teacher, &room.class_id).await;
    assert_eq!(join(&server, &ben_old, "bensmum").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let ben_new = token_for(&again, &ben_id);
    assert_ne!(ben_new, ben_old);
    assert_eq!(join(&server, &ben_new, "bensmum").await.0, StatusCode::CREATED);
    assert_eq!(ids_of_family(&server, &room.teacher, &room.ana_id).await.len(), 4);
    // The admin prints too.
    assert_eq!(print_sheets(&server, &room.admin, &room.class_id).await.len(), 2);
}

#[tokio::test]
async fn a_signed_in_family_member_joins_a_sibling_with_the_code_alone() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let sheets = print_sheets(&server, &room.teacher, &room.class_id).await;
    let ben_id = server.get_json(&room.ben, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    let (_, mum, _) = join(&server, &token_for(&sheets, &room.ana_id), "mum").await;

    let ben_token = token_for(&sheets, &ben_id);
    let nobody = server.post(&server.client(), "/api/v1/family/join", json!({"token": ben_token})).await;
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED, "the code alone needs a family member signed in");
    let student = server.post(&room.ana, "/api/v1/family/join", json!({"token": ben_token})).await;
    assert_eq!(student.status(), StatusCode::FORBIDDEN, "a student cannot join as family");
    let res = server.post(&mum, "/api/v1/family/join", json!({"token": ben_token})).await;
    let status = res.status();
    let answer = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["student_id"], ben_id.as_str());
    assert_eq!(ids_of_family(&server, &room.teacher, &ben_id).await.len(), 1);
    // Both children's portfolios are open to her now.
    for child in [&room.ana_id, &ben_id] {
        assert_eq!(server.get(&mum, &format!("/api/v1/users/{child}/artifacts")).await.status(), StatusCode::OK);
    }
    // Half a new account is refused with what to send.
    let half = server.post(&server.client(), "/api/v1/family/join", json!({"token": ben_token, "username": "x"})).await;
    assert_eq!(half.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn guessing_sheet_codes_is_throttled_like_signing_in() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut statuses = Vec::new();
    for i in 0..320 {
        let guess = format!("ABCD-EFGH-{:04}", 2000 + i).replace(['0', '1'], "2");
        let res = server
            .post(
                &client,
                "/api/v1/family/join",
                json!({"token": guess, "username": "g", "display_name": "G", "password": "guessing-1"}),
            )
            .await;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{:?}", &statuses[statuses.len() - 3..]);
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY));
}

#[tokio::test]
async fn a_student_s_teachers_see_and_undo_family_links_and_nobody_else_does() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let sheets = print_sheets(&server, &room.teacher, &room.class_id).await;
    let (_, mum, joined) = join(&server, &token_for(&sheets, &room.ana_id), "mum").await;
    let mum_id = joined["user"]["id"].as_str().unwrap().to_string();

    // Another class with its own teacher, student and family.
    let (_, tom) = server.person(&room.admin, "tom", "teacher").await;
    let (carl_id, _) = server.person(&room.admin, "carl", "student").await;
    let other = server.class_with(&tom, "Owls", &[&carl_id]).await;
    let other_sheets = print_sheets(&server, &tom, &other).await;
    let (_, carls_family, _) = join(&server, &token_for(&other_sheets, &carl_id), "carlsdad").await;

    assert_eq!(ids_of_family(&server, &room.admin, &room.ana_id).await, vec![mum_id.clone()]);
    let outsiders = [("another family", &carls_family), ("a classmate", &room.ben), ("another class's teacher", &tom)];
    for (who, client) in outsiders {
        let list = server.get(client, &format!("/api/v1/users/{}/family", room.ana_id)).await;
        assert_eq!(list.status(), StatusCode::NOT_FOUND, "{who} lists Ana's family");
        let sheets =
            server.post(client, &format!("/api/v1/classes/{}/family-invitations", room.class_id), json!({})).await;
        assert_eq!(sheets.status(), StatusCode::NOT_FOUND, "{who} prints Ana's class's sheets");
        let unlink =
            client.delete(server.url(&format!("/api/v1/users/{}/family/{mum_id}", room.ana_id))).send().await.unwrap();
        assert_eq!(unlink.status(), StatusCode::NOT_FOUND, "{who}");
        let page = server.get(client, &format!("/classes/{}/family-invitations", room.class_id)).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{who}");
    }
    // The family itself does not see the list either: it is the school's view.
    assert_eq!(
        server.get(&mum, &format!("/api/v1/users/{}/family", room.ana_id)).await.status(),
        StatusCode::NOT_FOUND
    );

    // The person page lists the link with an Unlink button, which works.
    let page = server.get(&room.teacher, &format!("/people/{}", room.ana_id)).await.text().await.unwrap();
    assert!(page.contains("mum family") && page.contains(&format!("/family/{mum_id}/unlink")), "{page}");
    let unlink = room
        .teacher
        .delete(server.url(&format!("/api/v1/users/{}/family/{mum_id}", room.ana_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(unlink.status(), StatusCode::NO_CONTENT);
    assert!(ids_of_family(&server, &room.teacher, &room.ana_id).await.is_empty());
    let portfolio = server.get(&mum, &format!("/api/v1/users/{}/artifacts", room.ana_id)).await;
    assert_eq!(portfolio.status(), StatusCode::NOT_FOUND, "unlinked, the family sees nothing");
}

#[tokio::test]
async fn the_join_pages_work_without_javascript() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let sheets = print_sheets(&server, &room.teacher, &room.class_id).await;
    let token = token_for(&sheets, &room.ana_id);

    // The printed page: first name, QR code, code in groups, the steps.
    let csrf = csrf_of(
        &server
            .get(&room.teacher, &format!("/classes/{}/family-invitations", room.class_id))
            .await
            .text()
            .await
            .unwrap(),
    );
    let printed = room
        .teacher
        .post(server.url(&format!("/classes/{}/family-invitations", room.class_id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("&#39;", "'");
    assert!(
        printed.contains("See ANA's work") && printed.contains("<svg") && printed.contains("school Wi-Fi"),
        "{printed}"
    );
    assert_eq!(printed.matches("class=\"family-sheet\"").count(), 2);
    // That printing revoked the API's sheets.
    let stale = server.get(&server.client(), &format!("/f/{token}")).await.text().await.unwrap();
    assert!(stale.contains("does not work"), "{stale}");

    let code = printed.split("Code: <strong dir=\"ltr\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let phone = server.client();
    let page = server.get(&phone, &format!("/f/{}", code.replace('-', ""))).await.text().await.unwrap();
    assert!(page.contains("Join ANA") || page.contains("Join BEN"), "{page}");
    let res = phone
        .post(server.url("/family/join"))
        .form(&[("code", code.as_str()), ("display_name", "Gran"), ("username", "gran"), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("value=\"gran\""), "what was typed is kept");
    let res = phone
        .post(server.url("/family/join"))
        .form(&[("code", code.as_str()), ("display_name", "Gran"), ("username", "gran"), ("password", "long-enough-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(server.get_json(&phone, "/api/v1/me").await["display_name"], "Gran");
}
