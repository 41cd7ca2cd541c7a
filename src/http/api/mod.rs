//! The JSON API under `/api/v1`, described by `/api/v1/openapi.json`. Clients depend on these
//! paths and fields: add fields freely, never rename or remove one.

pub(crate) mod activities;
pub(crate) mod artifacts;
pub(crate) mod bundles;
mod classes;
pub(crate) mod nearby;
pub(crate) mod peers;
pub(crate) mod search;
mod session;
pub(crate) mod setup;
pub(crate) mod tus;
mod users;

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", axum::routing::get(super::openapi::document))
        .merge(setup::router())
        .merge(session::router())
        .merge(users::router())
        .merge(classes::router())
        .merge(artifacts::router())
        .merge(activities::router())
        .merge(search::router())
        .merge(tus::router())
        .merge(peers::router())
        .merge(bundles::router())
        .merge(nearby::router())
}

pub(super) use super::parse_id;

pub(crate) fn card_url_for(host: &str, token: &str) -> String {
    users::card_url(host, token)
}
