use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn only_admins_create_accounts() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, teacher) = server.person(&admin, "tina", "teacher").await;
    let res = server
        .post(
            &teacher,
            "/api/v1/users",
            json!({"username": "x", "display_name": "X", "role": "admin", "password": "whatever123"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = server
        .post(
            &server.client(),
            "/api/v1/users",
            json!({"username": "x", "display_name": "X", "role": "admin", "password": "whatever123"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_account_input_gets_a_clear_error() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let res = server
        .post(&admin, "/api/v1/users", json!({"username": "has space", "display_name": "X", "role": "student"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("no spaces"));
    let res = server
        .post(
            &admin,
            "/api/v1/users",
            json!({"username": "ok", "display_name": "X", "role": "student", "password": "short"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = server
        .post(&admin, "/api/v1/users", json!({"username": "admin", "display_name": "Twin", "role": "teacher"}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res =
        server.post(&admin, "/api/v1/users", json!({"username": "ok", "display_name": "X", "role": "wizard"})).await;
    assert!(res.status().is_client_error());
}

#[tokio::test]
async fn a_student_cannot_create_a_class() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, student) = server.person(&admin, "sam", "student").await;
    let res = server.post(&student, "/api/v1/classes", json!({"name": "My own class"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(json_of(server.get(&admin, "/api/v1/classes").await).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn teachers_reset_only_their_own_students_and_others_look_missing() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let (_, tom) = server.person(&admin, "tom", "teacher").await;
    let (ana, ana_client) = server.person(&admin, "ana", "student").await;
    let class = server.create_class(&tina, "Robins").await;
    server.add_student(&tina, class["id"].as_str().unwrap(), &ana).await;

    let reset = tina
        .put(server.url(&format!("/api/v1/users/{ana}/password")))
        .json(&json!({"password": "new-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    // A reset by someone else signs the student out everywhere.
    assert_eq!(server.get(&ana_client, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    server.login(&server.client(), "ana", "new-password-1").await;

    let other = tom
        .put(server.url(&format!("/api/v1/users/{ana}/password")))
        .json(&json!({"password": "tom-was-here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let pictures = tom.put(server.url(&format!("/api/v1/users/{ana}/pictures"))).json(&json!({})).send().await.unwrap();
    assert_eq!(pictures.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.get(&tom, &format!("/api/v1/users/{ana}")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_admin_pages_render_for_admins_only() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, teacher) = server.person(&admin, "tina", "teacher").await;
    let page = server.get(&admin, "/people").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("tina") && html.contains("OneRoster"), "{html}");
    assert_eq!(server.get(&teacher, "/people").await.status(), StatusCode::NOT_FOUND);
    let home = server.get(&teacher, "/home").await.text().await.unwrap();
    assert!(home.contains("Hello, TINA"), "{home}");
    // Signed out, pages send people to sign in.
    let res = server.get(&server.client(), "/home").await;
    assert_eq!(res.headers()["location"], "/signin");
}

#[tokio::test]
async fn pages_load_nothing_from_outside_the_box() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let anonymous = server.client();
    for (client, path) in [
        (&anonymous, "/signin"),
        (&anonymous, "/signin/class"),
        (&admin, "/home"),
        (&admin, "/classes"),
        (&admin, "/people"),
    ] {
        let res = server.get(client, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        let html = res.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
            "{path} links outside the box"
        );
        assert!(html.contains("<html lang=\"en\" dir=\"ltr\">") && html.contains("name=\"viewport\""));
    }
    let css = server.get(&admin, "/static/style.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn changing_your_own_password_needs_the_current_one_and_signs_out_elsewhere() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (tina_id, tina) = server.person(&admin, "tina", "teacher").await;
    let other_device = server.client();
    server.login(&other_device, "tina", "tina-password").await;
    let path = format!("/api/v1/users/{tina_id}/password");

    let without = tina.put(server.url(&path)).json(&json!({"password": "brand-new-pass"})).send().await.unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let wrong = tina
        .put(server.url(&path))
        .json(&json!({"password": "brand-new-pass", "current_password": "not-my-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let right = tina
        .put(server.url(&path))
        .json(&json!({"password": "brand-new-pass", "current_password": "tina-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.get(&tina, "/api/v1/me").await.status(), StatusCode::OK, "this session stays");
    assert_eq!(server.get(&other_device, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    server.login(&server.client(), "tina", "brand-new-pass").await;
}

#[tokio::test]
async fn a_teacher_cannot_take_over_another_teachers_student() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let (_, tom) = server.person(&admin, "tom", "teacher").await;
    let robins = server.create_class(&tina, "Robins").await;
    let owls = server.create_class(&tom, "Owls").await;
    let (robins, owls) = (robins["id"].as_str().unwrap(), owls["id"].as_str().unwrap());
    let (_, report) = server.import_roster(&tina, robins, "ana,Ana\n").await;
    let ana = report["created"][0]["id"].as_str().unwrap().to_string();

    // Tom may not put Tina's student in his class, by API or by roster file...
    let add =
        server.post(&tom, &format!("/api/v1/classes/{owls}/members"), json!({"user_id": ana, "role": "student"})).await;
    assert_eq!(add.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(add).await["message"].as_str().unwrap().contains("Ask an administrator"));
    let (_, report) = server.import_roster(&tom, owls, "ana,Ana\n").await;
    assert_eq!(report["errors"][0]["line"], 1, "{report}");
    // ...so he cannot reset her pictures.
    let reset = tom.put(server.url(&format!("/api/v1/users/{ana}/pictures"))).json(&json!({})).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NOT_FOUND);

    // An administrator can place her in both classes.
    server.add_student(&admin, owls, &ana).await;
}

/// An unlocked laptop is not enough: a signed-in session alone cannot issue its account a QR
/// card or new pictures; the current password (or current pictures) must be given.
#[tokio::test]
async fn a_new_card_or_new_pictures_for_yourself_need_your_current_password() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (sam_id, sam) = server.person(&admin, "sam", "student").await;
    let card = format!("/api/v1/users/{sam_id}/card");
    let pictures = format!("/api/v1/users/{sam_id}/pictures");

    let bare = sam.post(server.url(&card)).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN, "a card without the current password");
    assert!(json_of(bare).await["message"].as_str().unwrap().contains("current password"));
    let wrong = sam.post(server.url(&card)).json(&json!({"current_password": "not-it"})).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let bare = sam.put(server.url(&pictures)).json(&json!({"pictures": ["cat", "sun", "ball"]})).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN, "new pictures without the current password");
    let me = json_of(server.get(&sam, "/api/v1/me").await).await;
    assert_eq!(me["has_pictures"], json!(false), "nothing was changed: {me}");

    // The page is held to the same rule.
    let csrf = server.csrf_of(&sam, &format!("/people/{sam_id}")).await;
    let page =
        sam.post(server.url(&format!("/people/{sam_id}/card"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let page = sam
        .post(server.url(&format!("/people/{sam_id}/pictures")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);

    // With the current password both work.
    let issued = sam.post(server.url(&card)).json(&json!({"current_password": "sam-password"})).send().await.unwrap();
    assert_eq!(issued.status(), StatusCode::CREATED);
    let set = sam
        .put(server.url(&pictures))
        .json(&json!({"pictures": ["cat", "sun", "ball"], "current_password": "sam-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let csrf = server.csrf_of(&sam, &format!("/people/{sam_id}")).await;
    let page = sam
        .post(server.url(&format!("/people/{sam_id}/card")))
        .form(&[("csrf", csrf.as_str()), ("current_password", "sam-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the printable card");
    assert!(page.text().await.unwrap().contains("<svg"));
}

/// A card planted before the owner changes their password stops working with the change.
#[tokio::test]
async fn a_password_change_revokes_the_cards_issued_before_it() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (sam_id, sam) = server.person(&admin, "sam", "student").await;
    // However it was printed (here by an administrator), a card is a way in of its own.
    let issued = admin.post(server.url(&format!("/api/v1/users/{sam_id}/card"))).send().await.unwrap();
    assert_eq!(issued.status(), StatusCode::CREATED);
    server.login(&sam, "sam", "sam-password").await;
    let token = json_of(issued).await["token"].as_str().unwrap().to_string();
    let before = server.post(&server.client(), "/api/v1/login/card", json!({"token": token})).await;
    assert_eq!(before.status(), StatusCode::OK, "the card works until the password changes");

    let changed = sam
        .put(server.url(&format!("/api/v1/users/{sam_id}/password")))
        .json(&json!({"password": "a-whole-new-one", "current_password": "sam-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let after = server.post(&server.client(), "/api/v1/login/card", json!({"token": token})).await;
    assert_eq!(after.status(), StatusCode::UNPROCESSABLE_ENTITY, "the card issued before the change is revoked");
    let me = json_of(server.get(&sam, "/api/v1/me").await).await;
    assert_eq!(me["id"], sam_id.as_str(), "the session that changed it stays");

    // A reset by an administrator revokes it too; a card printed after the change works.
    let fresh = json_of(admin.post(server.url(&format!("/api/v1/users/{sam_id}/card"))).send().await.unwrap()).await;
    let reset = admin
        .put(server.url(&format!("/api/v1/users/{sam_id}/password")))
        .json(&json!({"password": "reset-by-admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let old = server.post(&server.client(), "/api/v1/login/card", json!({"token": fresh["token"]})).await;
    assert_eq!(old.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let newer = json_of(admin.post(server.url(&format!("/api/v1/users/{sam_id}/card"))).send().await.unwrap()).await;
    let works = server.post(&server.client(), "/api/v1/login/card", json!({"token": newer["token"]})).await;
    assert_eq!(works.status(), StatusCode::OK);
}
