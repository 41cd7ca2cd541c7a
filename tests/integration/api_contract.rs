//! The API description matches the router: every documented operation is routed, and every
//! routed `/api/v1` operation is documented.

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

/// The operations the source routes: `.route("/api/...", get(..).post(..))` in src/http.
fn routed() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = vec![dir.join("mod.rs")];
    for entry in std::fs::read_dir(dir.join("api")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for file in files {
        let text = squeeze_after_parens(&std::fs::read_to_string(&file).unwrap());
        for chunk in text.split(".route(\"").skip(1) {
            let (path, rest) = chunk.split_once('"').unwrap();
            if !(path.starts_with("/api/") || path == "/healthz") {
                continue;
            }
            // This route's handlers: up to the next route, or the end of the router function.
            let call = rest.split(".route(").next().unwrap();
            let call = &call[..call.find("\n}").unwrap_or(call.len())];
            for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
                if call.contains(&format!(" {method}("))
                    || call.contains(&format!(".{method}("))
                    || call.contains(&format!("routing::{method}("))
                {
                    ops.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
    }
    ops
}

/// `route(\n    "/x",` as rustfmt writes long routes, read as `route("/x",`.
fn squeeze_after_parens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() && out.ends_with('(') {
            continue;
        }
        out.push(c);
    }
    out
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
    let routed = routed();
    assert!(routed.len() >= 20, "the route scan found too little: {routed:?}");
    assert_eq!(documented, routed, "web/openapi.json and the router disagree");

    // Every documented operation answers as an endpoint (never "no such endpoint" or 405).
    let fake = "01900000-0000-7000-8000-000000000000";
    for (method, path) in &documented {
        let concrete = path.replace("{id}", fake).replace("{user_id}", fake).replace("{code}", "ZZZZZZ");
        let res =
            admin.request(Method::from_bytes(method.as_bytes()).unwrap(), server.url(&concrete)).send().await.unwrap();
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
