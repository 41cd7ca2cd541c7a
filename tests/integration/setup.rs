use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn health_answers_with_status_and_version() {
    let server = TestServer::start().await;
    let res = server.get(&server.client(), "/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json_of(res).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn setup_works_once_with_the_right_code_only() {
    let server = TestServer::start().await;
    let client = server.client();
    let code = server.setup_code();
    assert_eq!(code.len(), 9, "the setup code is written to <data>/setup-code");
    let body = |code: &str| json!({"setup_code": code, "school_name": "Escuela", "username": "admin", "display_name": "Ada", "password": ADMIN_PASSWORD});

    let wrong = server.post(&client, "/api/v1/setup", body("AAAA-AAAA")).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    // People type codes in lower case and without the dash.
    let typed = code.to_lowercase().replace('-', "");
    let ok = server.post(&client, "/api/v1/setup", body(&typed)).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let admin = json_of(ok).await;
    assert_eq!(admin["role"], "admin");
    assert!(admin.get("password_hash").is_none(), "credentials never leave the box");

    let again = server.post(&client, "/api/v1/setup", body(&code)).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(!server.data_dir.join("setup-code").exists(), "the code is void after setup");

    // The setup page now sends people to sign in.
    let page = server.get(&client, "/setup").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/signin");
}

#[tokio::test]
async fn the_start_page_leads_to_setup_then_to_sign_in() {
    let server = TestServer::start().await;
    let client = server.client();
    let res = server.get(&client, "/").await;
    assert_eq!(res.headers()["location"], "/setup");
    let page = server.get(&client, "/setup").await.text().await.unwrap();
    assert!(page.contains("Setup code"), "{page}");
    server.setup_admin().await;
    let res = server.get(&server.client(), "/").await;
    assert_eq!(res.headers()["location"], "/signin");
}

#[tokio::test]
async fn guessing_the_setup_code_is_throttled() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut statuses = Vec::new();
    for _ in 0..35 {
        let res = server.post(&client, "/api/v1/setup", json!({"setup_code": "ZZZZ-ZZZZ", "school_name": "S", "username": "a", "display_name": "A", "password": ADMIN_PASSWORD})).await;
        statuses.push(res.status());
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}
