//! The API description matches the router: every documented operation answers as an
//! endpoint, and no `/api` route is registered past the description. The schemas themselves
//! are checked by every test that receives JSON (see `support::TestServer::checked`).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::*;

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// The Rust sources of `src/http`, every file.
fn http_sources() -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files
}

/// The operations annotated with `#[utoipa::path(method, path = "...")]` in src/http.
fn annotated() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (_, text) in http_sources() {
        for chunk in text.split("#[utoipa::path(").skip(1) {
            let method = chunk.trim_start().split(',').next().unwrap().trim().to_uppercase();
            let path = chunk.split("path = \"").nth(1).unwrap().split('"').next().unwrap();
            ops.insert((method, path.to_string()));
        }
    }
    ops
}

#[tokio::test]
async fn openapi_document_covers_every_endpoint_and_only_real_ones() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let res = server.get(&admin, "/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented = documented(&doc);
    assert!(documented.len() >= 60, "too few operations: {documented:?}");
    // Every annotated handler is routed, so it is in the description.
    assert_eq!(documented, annotated(), "the description and the handlers' annotations disagree");

    // A route registered with plain axum (`.route("/api/...")`) would be served undocumented:
    // API routes go through `routes!` only.
    for (file, text) in http_sources() {
        let squeezed: String = text.split_whitespace().collect();
        for needle in [".route(\"/api", ".route(\"/healthz", ".nest(\"/api"] {
            assert!(!squeezed.contains(needle), "{} registers an API route past the description", file.display());
        }
    }

    // Every documented operation answers as an endpoint (never "no such endpoint" or 405).
    let fake = "01900000-0000-7000-8000-000000000000";
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", fake)
            .replace("{user_id}", fake)
            .replace("{file_id}", fake)
            .replace("{comment_id}", fake)
            .replace("{code}", "ZZZZZZ");
        let method_ = Method::from_bytes(method.as_bytes()).unwrap();
        let res = admin.request(method_.clone(), server.url(&concrete)).send().await.unwrap();
        // Its refusal of this empty request is one it documents.
        let res = server.checked(method_, &concrete, res).await;
        let status = res.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if status == StatusCode::NOT_FOUND {
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(body["error"], "no_such_endpoint", "{method} {path}");
        }
    }
    let missing = server.get(&admin, "/api/v1/nope").await;
    assert_eq!(json_of(missing).await["error"], "no_such_endpoint");
}

/// Every operation lists its refusals, and every refusal is the one JSON error.
#[tokio::test]
async fn every_operation_documents_its_refusals_with_the_error_schema() {
    let server = TestServer::start().await;
    let doc = server.contract().await.doc().clone();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let public = op["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().unwrap().is_empty()));
            if !public {
                assert!(responses.contains_key("401"), "{method} {path} needs a session but does not list 401");
            }
            if method != "get" && method != "head" && method != "options" {
                assert!(
                    responses.contains_key("403"),
                    "{method} {path} changes state but does not list 403 (cross-origin)"
                );
            }
            for (status, response) in responses {
                // 416 is a file's Range answer (no body), not a refusal of the request.
                if (status.starts_with('4') || status.starts_with('5')) && status != "416" {
                    assert_eq!(
                        response.pointer("/content/application~1json/schema/$ref").and_then(Value::as_str),
                        Some("#/components/schemas/Error"),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

/// The check every request helper makes fails an answer that drifted from its description:
/// a field added, one missing, a value of another type, a status not listed.
#[tokio::test]
async fn an_answer_that_drifts_from_its_description_fails_the_check() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let contract = server.contract().await;
    let me = json_of(server.get(&admin, "/api/v1/me").await).await;
    let (get, ok) = (Method::GET, StatusCode::OK);
    assert_eq!(contract.verdict(&get, "/api/v1/me", ok, &me), Ok(()));

    let mut added = me.clone();
    added["nickname"] = "Ada".into();
    let mut missing = me.clone();
    missing.as_object_mut().unwrap().remove("role");
    let mut retyped = me.clone();
    retyped["disabled"] = "no".into();
    for drifted in [added, missing, retyped] {
        assert!(contract.verdict(&get, "/api/v1/me", ok, &drifted).is_err(), "{drifted}");
    }
    assert!(contract.verdict(&get, "/api/v1/me", StatusCode::CONFLICT, &me).is_err());
    // A nested answer: a class's member with a field of another type.
    let class = server.create_class(&admin, "7B").await;
    let path = format!("/api/v1/classes/{}", class["id"].as_str().unwrap());
    let mut detail = json_of(server.get(&admin, &path).await).await;
    assert_eq!(contract.verdict(&get, &path, ok, &detail), Ok(()));
    detail["members"] = serde_json::json!([{"user_id": 7}]);
    assert!(contract.verdict(&get, &path, ok, &detail).is_err());
}

/// Asserts that `res` is folio's JSON error with this status and code.
async fn assert_refusal(res: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(res.status(), status, "{code}");
    let ctype = res.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(ctype.starts_with("application/json"), "{code}: {ctype}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

/// axum's own refusals of a request (a body that is not JSON, a body of another type, JSON of
/// the wrong shape, a path or a query that cannot be read) answer folio's JSON error.
#[tokio::test]
async fn refused_requests_answer_the_json_error() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let classes = server.url("/api/v1/classes");
    let json = |body: &'static str| admin.post(&classes).header("content-type", "application/json").body(body);
    let json_to = |path: &str, body: &'static str| {
        admin.post(server.url(path)).header("content-type", "application/json").body(body)
    };

    let not_json = json("{\"name\": ").send().await.unwrap();
    assert_refusal(not_json, StatusCode::BAD_REQUEST, "bad_request").await;
    let wrong_shape = json("{\"name\": 7}").send().await.unwrap();
    assert_refusal(wrong_shape, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    let not_sent_as_json = admin.post(&classes).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_refusal(not_sent_as_json, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    // An optional body must still be JSON when one is sent.
    let invite = server.url("/api/v1/peers/invite");
    let optional = admin.post(&invite).header("content-type", "application/json").body("[").send().await.unwrap();
    assert_refusal(optional, StatusCode::BAD_REQUEST, "bad_request").await;

    // A path that cannot be read names nothing, like an id that does not exist.
    let unreadable_path = admin.get(server.url("/api/v1/users/%FF")).send().await.unwrap();
    assert_refusal(unreadable_path, StatusCode::NOT_FOUND, "not_found").await;
    let no_such_id = admin.get(server.url("/api/v1/users/not-an-id")).send().await.unwrap();
    assert_refusal(no_such_id, StatusCode::NOT_FOUND, "not_found").await;

    let not_a_form = json_to("/api/v1/artifacts", "{}").send().await.unwrap();
    assert_refusal(not_a_form, StatusCode::BAD_REQUEST, "bad_request").await;

    let bad_query = admin.get(server.url("/api/v1/search?q=x&limit=many")).send().await.unwrap();
    assert_refusal(bad_query, StatusCode::BAD_REQUEST, "bad_request").await;
}

/// utoipa names a schema after its Rust type (or its `#[schema(as = …)]`): two types of one
/// name in different modules silently become one schema, and the answers of one of them then
/// fail their description (two `WeekView`s, the student report's and the school report's,
/// did). Every schema name is given once.
#[test]
fn no_two_schemas_share_a_name() {
    let mut seen: std::collections::BTreeMap<String, std::path::PathBuf> = Default::default();
    let mut twice = Vec::new();
    for (path, text) in http_sources() {
        let mut pending_schema = false;
        let mut alias: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                pending_schema = true;
                alias = None;
            } else if pending_schema && line.starts_with("#[schema(as = ") {
                alias = line.trim_start_matches("#[schema(as = ").split(')').next().map(str::to_owned);
            } else if pending_schema && !line.starts_with("#[") && !line.starts_with("//") {
                let declared = line
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub(super) ")
                    .split_whitespace()
                    .nth(1)
                    .map(|n| n.trim_end_matches(['{', '<', '(', ';']).to_owned());
                if let Some(name) = alias.take().or(declared) {
                    if let Some(first) = seen.insert(name.clone(), path.clone()) {
                        twice.push(format!("{name}: {} and {}", first.display(), path.display()));
                    }
                }
                pending_schema = false;
            }
        }
    }
    assert!(seen.len() > 20, "the schemas were found: {seen:?}");
    assert!(twice.is_empty(), "schema names given twice: {twice:?}");
}
