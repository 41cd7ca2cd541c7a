//! The HTTP face of folio: the JSON API under `/api/v1`, the server-rendered pages, and the
//! embedded static assets, on one axum router.
//!
//! Each resource module owns its routes (API and pages), request and response types and
//! handlers; the rules themselves live in `actions` and `domain::policy`.

pub(crate) mod api;
mod assets;
pub(crate) mod charts;
pub mod error;
pub(crate) mod extract;
mod files;
pub(crate) mod language;
mod offline;
pub mod openapi;
pub(crate) mod pages;
pub(crate) mod uploads;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::app::Folio;
use crate::auth::Guard;
use crate::error::{Error, Result};

pub use extract::SignedIn;
pub(crate) use pages::qr_svg;

/// What a handler has: the application core ([`Folio`]) and what only HTTP needs (the
/// sign-in guard, the HTTPS status). Cheap to
/// clone. It dereferences to the core, so a handler reads `state.store` as before; a handler
/// that needs only the core may take `State<Folio>` (through [`FromRef`]).
#[derive(Clone)]
pub struct AppState {
    pub folio: Folio,
    /// Password hashing, a few at once, and the sign-in throttle.
    pub guard: Guard,
    /// HTTPS on this box: off, failed (why), or on (the authority, the port): for `/device`.
    pub https: crate::tls::Https,
}

impl AppState {
    pub fn new(folio: Folio, https: crate::tls::Https) -> Self {
        AppState { guard: Guard::new(folio.config.max_concurrent_hashes), https, folio }
    }
}

impl std::ops::Deref for AppState {
    type Target = Folio;

    fn deref(&self) -> &Folio {
        &self.folio
    }
}

impl FromRef<AppState> for Folio {
    fn from_ref(state: &AppState) -> Folio {
        state.folio.clone()
    }
}

/// Request bodies larger than this are refused (rosters, forms). Uploads of work arrive with
/// their own streaming limits.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Parses an id from a path segment; a malformed id is simply "not found".
pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T> {
    raw.parse().map_err(|_| Error::NotFound)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .merge(assets::router())
        .merge(offline::router())
        .fallback(not_found)
        .layer(middleware::from_fn(refuse_cross_origin))
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost, so every answer (a refusal of the layers above included) is in the
        // request's language.
        .layer(middleware::from_fn_with_state(state.clone(), language::localize))
        .with_state(state)
}

/// No route: JSON under /api, a friendly page elsewhere.
async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        let body = serde_json::json!({"error": "no_such_endpoint", "message": "There is no such API endpoint. See /api/v1/openapi.json."});
        (axum::http::StatusCode::NOT_FOUND, axum::Json(body)).into_response()
    } else {
        pages::PageError(Error::NotFound).into_response()
    }
}

async fn refuse_cross_origin(req: Request, next: Next) -> Response {
    if crate::auth::origin::is_cross_origin(req.method(), req.headers()) {
        tracing::info!(path = %req.uri().path(), "refused a cross-origin request");
        let api = req.uri().path().starts_with("/api/");
        return if api {
            Error::CrossOrigin.into_response()
        } else {
            pages::PageError(Error::CrossOrigin).into_response()
        };
    }
    next.run(req).await
}

/// The content security policy of every page: nothing loads from outside the box.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The policy, allowing scripts to connect to `also` (an origin of the box itself) as well.
/// Only `/device` does, to ask the box's secure address whether this device trusts it.
pub(crate) fn content_security_policy(also: Option<&str>) -> String {
    match also {
        Some(origin) => format!("{CSP}; connect-src 'self' {origin}"),
        None => CSP.to_string(),
    }
}

/// Headers every answer carries: nothing loads from outside the box, no framing by other
/// sites, no MIME sniffing, no referrer leaking ids to other sites. (`same-origin`, not
/// `no-referrer`: with `no-referrer` a form posted over plain HTTP, where browsers send no
/// `Sec-Fetch-Site`, says `Origin: null`, and `refuse_cross_origin` would refuse it.) A
/// handler may set a stricter or more particular policy of its own (files, `/device`).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}
