//! The JSON API under `/api/v1`, described by `/api/v1/openapi.json`. Clients depend on these
//! paths and fields: add fields freely, never rename or remove one.
//!
//! Routes are registered with `routes!` only (see `http::openapi`): a handler's
//! `#[utoipa::path]` names its path, and the same annotation describes it.

pub(crate) mod activities;
pub(crate) mod artifacts;
mod assessment;
pub(crate) mod bundles;
mod class_pictures;
mod classes;
pub(crate) mod family;
pub(crate) mod input;
mod language;
pub(crate) mod nearby;
pub(crate) mod peers;
pub(crate) mod reports;
pub(crate) mod school_report;
pub(crate) mod search;
mod session;
pub(crate) mod setup;
pub(crate) mod skills;
pub(crate) mod tus;
mod users;

use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, openapi};
use input::Json;

/// The API's routes (and `/healthz`), and the description made from them, kept for
/// `/api/v1/openapi.json`.
pub fn router() -> Router<AppState> {
    let (router, api) = OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi::serve))
        .merge(setup::router())
        .merge(session::router())
        .merge(users::router())
        .merge(classes::router())
        .merge(class_pictures::router())
        .merge(artifacts::router())
        .merge(activities::router())
        .merge(skills::router())
        .merge(assessment::router())
        .merge(reports::router())
        .merge(school_report::router())
        .merge(family::router())
        .merge(search::router())
        .merge(tus::router())
        .merge(peers::router())
        .merge(bundles::router())
        .merge(nearby::router())
        .merge(language::router())
        .split_for_parts();
    openapi::keep(&openapi::document(api));
    router
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `ok`: the box answers.
    status: &'static str,
    /// folio's version.
    version: &'static str,
}

/// Whether the box is up, and which folio it runs.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok", version: crate::VERSION })
}

pub(super) use super::parse_id;

pub(crate) fn card_url_for(host: &str, token: &str) -> String {
    users::card_url(host, token)
}
