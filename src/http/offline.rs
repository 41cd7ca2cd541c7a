//! The installable offline app: the web app manifest, the service worker (`/sw.js`), the page
//! it shows in place of a page it has not kept, and the mark that tells it what it may keep.
//!
//! The box decides what a device may keep: only answers marked `X-Folio-Offline: keep` (a
//! student's own home page with the new-work form, their portfolio, their own artifact pages
//! and thumbnails; a family member's add-from-home form, which holds only the child's first
//! name), each naming whose they are in `X-Folio-Offline-Owner`. The service worker
//! keeps nothing else, and forgets what it kept when its owner signs out or someone else
//! signs in on the device. Shared classroom tablets must not hand one child's work to the
//! next.

use crate::i18n::filters;
use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::pages::{Chrome, page};
use crate::domain::UserId;

/// Present (value `keep`) on answers the service worker may keep on the device.
pub const KEEP: HeaderName = HeaderName::from_static("x-folio-offline");
/// Whose the kept answer is: the service worker drops one person's pages when another's
/// arrive.
pub const OWNER: HeaderName = HeaderName::from_static("x-folio-offline-owner");

const MANIFEST: &str = include_str!("../../web/manifest.webmanifest");
const WORKER: &str = include_str!("../../web/sw.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(service_worker))
        .route("/offline", get(offline_page))
}

/// Marks an answer as the signed-in person's own, to be kept on their device for offline use.
pub fn keep(mut res: Response, owner: UserId) -> Response {
    let headers = res.headers_mut();
    headers.insert(KEEP, HeaderValue::from_static("keep"));
    if let Ok(owner) = HeaderValue::from_str(&owner.to_string()) {
        headers.insert(OWNER, owner);
    }
    res
}

async fn manifest() -> Response {
    ([(header::CONTENT_TYPE, "application/manifest+json"), (header::CACHE_CONTROL, "no-cache")], MANIFEST)
        .into_response()
}

/// The service worker with this build's id and shell filled in. A new folio build (any
/// change to an embedded file) changes the script, so browsers install it, and it replaces
/// the app shell it keeps.
struct Worker {
    script: String,
}

fn worker() -> &'static Worker {
    static WORKER_SCRIPT: OnceLock<Worker> = OnceLock::new();
    WORKER_SCRIPT.get_or_init(|| {
        let files = super::assets::fingerprints();
        let mut hasher = blake3::Hasher::new();
        hasher.update(crate::VERSION.as_bytes());
        hasher.update(WORKER.as_bytes());
        hasher.update(MANIFEST.as_bytes());
        for (path, hash) in &files {
            hasher.update(path.as_bytes());
            hasher.update(hash);
        }
        let build = hasher.finalize().to_hex()[..16].to_string();
        // The shell: every embedded file (the pages' pictures too, about 30 KB), the offline
        // page and the manifest. Nothing about anyone.
        let mut shell = vec!["/offline".to_string(), "/manifest.webmanifest".to_string()];
        shell.extend(files.iter().map(|(p, _)| format!("/static/{p}")));
        let script = WORKER
            .replacen("\"__FOLIO_BUILD__\"", &serde_json::to_string(&build).unwrap_or_default(), 1)
            .replacen("[\"__FOLIO_SHELL__\"]", &serde_json::to_string(&shell).unwrap_or_default(), 1);
        Worker { script }
    })
}

async fn service_worker() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        worker().script.as_str(),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "offline.html")]
struct OfflinePage {
    chrome: Chrome,
}

/// What the service worker shows for a page it has not kept when the box cannot be reached.
/// The same for everyone (it is part of the shell), so it names nobody.
async fn offline_page() -> Response {
    page(OfflinePage { chrome: Chrome::anonymous("title-offline") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_gets_a_build_id_and_the_shell() {
        let script = &worker().script;
        assert!(!script.contains("__FOLIO_BUILD__") && !script.contains("__FOLIO_SHELL__"));
        for file in ["/static/outbox.js", "/static/style.css", "/static/pictures/star.svg", "/offline"] {
            assert!(script.contains(&format!("\"{file}\"")), "{file} is in the shell");
        }
    }
}
