//! `GET /api/v1/openapi.json`: the API description, kept beside the code in `web/openapi.json`
//! and checked against the router by the integration tests.

use axum::http::header;
use axum::response::IntoResponse;

const DOCUMENT: &str = include_str!("../../web/openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
