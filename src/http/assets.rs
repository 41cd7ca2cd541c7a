//! The static files under `web/static`, embedded in the binary. Served with a validator so
//! classroom devices re-download only what changed.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::AppState;

#[derive(RustEmbed)]
#[folder = "web/static/"]
struct Static;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{*path}", get(serve_asset))
        .route("/favicon.ico", get(|| serve_asset(Path("icon.svg".into()), HeaderMap::new())))
}

async fn serve_asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Static::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = file.metadata.mimetype().to_string();
    ([(header::CONTENT_TYPE, mime), (header::ETAG, etag), (header::CACHE_CONTROL, "no-cache".to_string())], file.data)
        .into_response()
}

/// Every embedded file's path and content hash, sorted by path: what the offline app's build
/// id is made of, and the files its shell may keep.
pub(super) fn fingerprints() -> Vec<(String, [u8; 32])> {
    let mut files: Vec<(String, [u8; 32])> = Static::iter()
        .filter_map(|path| Static::get(&path).map(|f| (path.to_string(), f.metadata.sha256_hash())))
        .collect();
    files.sort();
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
