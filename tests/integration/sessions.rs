use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn sign_in_and_sign_out_end_the_session_on_the_server() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let me = json_of(server.get(&admin, "/api/v1/me").await).await;
    assert_eq!((me["username"].as_str(), me["role"].as_str()), (Some("admin"), Some("admin")));
    assert!(me["id"].is_string() && me["display_name"] == "Ada Admin");

    // Keep the raw cookie to replay it after logout: the server must refuse it.
    let raw = reqwest::Client::new();
    let res = server.post(&raw, "/api/v1/login", json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let with_cookie = |path: &str| raw.get(server.url(path)).header("cookie", cookie.clone()).send();
    assert_eq!(with_cookie("/api/v1/me").await.unwrap().status(), StatusCode::OK);

    let out = raw.post(server.url("/api/v1/logout")).header("cookie", cookie.clone()).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(with_cookie("/api/v1/me").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.get(&server.client(), "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let client = server.client();
    let wrong = server.post(&client, "/api/v1/login", json!({"username": "admin", "password": "not it at all"})).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown =
        server.post(&client, "/api/v1/login", json!({"username": "nobody", "password": "not it at all"})).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text().await.unwrap(), wrong);
}

#[tokio::test]
async fn session_cookie_is_http_only_same_site_lax_and_long_enough() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let res = server
        .post(&reqwest::Client::new(), "/api/v1/login", json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("folio_session="), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "no Secure flag over plain HTTP: {cookie}");
    let id = cookie.split(';').next().unwrap().trim_start_matches("folio_session=");
    // URL-safe base64 carries 6 bits a character: at least 128 bits means at least 22.
    assert!(id.len() * 6 >= 128, "session id too short: {id}");
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_with_retry_after() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let client = server.client();
    let mut attempts = 0;
    let locked = loop {
        attempts += 1;
        let res = server.post(&client, "/api/v1/login", json!({"username": "admin", "password": "wrong guess"})).await;
        if res.status() != StatusCode::UNAUTHORIZED || attempts == 10 {
            break res;
        }
    };
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(attempts <= 6, "locked only after {attempts} tries");
    let retry: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    // While locked even the right password waits: guessing gains nothing.
    let right = server.post(&client, "/api/v1/login", json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other accounts from another address are not affected... but this test runs from one
    // address, whose allowance is larger: a teacher's sign-in still works.
    tokio::time::sleep(Duration::from_secs(retry + 1)).await;
    server.login(&client, "admin", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused_and_plain_clients_work() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let post = |origin: Option<&'static str>, site: Option<&'static str>| {
        let mut req = admin.post(server.url("/api/v1/classes")).json(&json!({"name": "Evil"}));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        req.send()
    };
    assert_eq!(post(Some("http://evil.example"), None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(post(None, Some("cross-site")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(post(Some("http://evil.example"), Some("same-site")).await.unwrap().status(), StatusCode::FORBIDDEN);
    let host = server.url.trim_start_matches("http://").to_string();
    let same = admin
        .post(server.url("/api/v1/classes"))
        .header("origin", format!("http://{host}"))
        .json(&json!({"name": "Ours"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::CREATED);
    assert_eq!(post(None, Some("same-origin")).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(post(None, None).await.unwrap().status(), StatusCode::CREATED);
    let classes = json_of(server.get(&admin, "/api/v1/classes").await).await;
    assert_eq!(classes.as_array().unwrap().len(), 3, "refused requests changed nothing");
}

#[tokio::test]
async fn forms_without_the_session_token_are_refused() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let res = admin.post(server.url("/classes")).form(&[("name", "Sneaky"), ("csrf", "guess")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = admin.get(server.url("/classes")).send().await.unwrap().text().await.unwrap();
    let token = csrf_of(&page);
    let res =
        admin.post(server.url("/classes")).form(&[("name", "Real"), ("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let classes = json_of(server.get(&admin, "/api/v1/classes").await).await;
    let names: Vec<&str> = classes.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Real"]);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let temp = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_with(temp.path().to_path_buf(), |c| c.sessions.idle = Duration::from_secs(1)).await.unwrap();
    let admin = server.setup_admin().await;
    assert_eq!(server.get(&admin, "/api/v1/me").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.get(&admin, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn absolute_session_age_is_enforced() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(temp.path().to_path_buf(), |c| c.sessions.absolute = Duration::from_secs(1))
        .await
        .unwrap();
    let admin = server.setup_admin().await;
    for _ in 0..3 {
        assert_eq!(server.get(&admin, "/api/v1/me").await.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(server.get(&admin, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (id, teacher) = server.person(&admin, "tina", "teacher").await;
    assert_eq!(server.get(&teacher, "/api/v1/me").await.status(), StatusCode::OK);
    let res =
        admin.patch(server.url(&format!("/api/v1/users/{id}"))).json(&json!({"disabled": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["disabled"], true);
    assert_eq!(server.get(&teacher, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let again =
        server.post(&server.client(), "/api/v1/login", json!({"username": "tina", "password": "tina-password"})).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}
