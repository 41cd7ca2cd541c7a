//! USB bundles over the admin API: `GET /api/v1/peers/{id}/bundle` downloads a bundle for a
//! paired box, `POST /api/v1/bundles` (the bundle as the body) imports one. See
//! `peers::bundle` for the format and the checks.

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::domain::Role;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{Binary, Conflict, NotFound, StoringRefusals, Unauthenticated};
use crate::peers::bundle::{ImportReport, serve};

use super::input::{Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(download_bundle))
        // The bundle streams into the importer, which enforces `Config::max_bundle_bytes`.
        .routes(routes!(import_bundle).layer(DefaultBodyLimit::disable()))
}

/// Peers are the box's, not one school's: any active administrator manages them.
pub(crate) fn admin_only(me: &SignedIn) -> Result<()> {
    if me.user.role == Role::Admin && !me.user.disabled { Ok(()) } else { Err(Error::NotFound) }
}

/// A USB bundle for a paired box: what it lacks, operations and files, signed by this box
/// (administrators; others are told it does not exist).
#[utoipa::path(
    get,
    path = "/api/v1/peers/{id}/bundle",
    tag = "peers",
    params(("id" = String, Path, description = "The paired box's id, or its short id")),
    responses(
        (status = 200, description = "The bundle, streamed", content_type = "application/octet-stream", body = Binary,
            headers(("content-disposition" = String, description = "attachment; filename=\"folio-bundle-….folio\""))),
        Unauthenticated,
        NotFound,
        Conflict,
    )
)]
async fn download_bundle(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Response> {
    admin_only(&me)?;
    let peer = serve::find_peer(&state, &id).await?;
    let export = serve::start_export(&state, peer.clone()).await?;
    let day = crate::domain::calendar::day_of(crate::domain::hlc::wall_clock_ms());
    let name = format!("folio-bundle-{}-to-{}-{day}.folio", export.source.short(), peer.id.short());
    tracing::info!(by = %me.user.username, peer = %peer.id.short(), "a bundle is being downloaded");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("hex, digits and dashes"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(export_stream(export)),
    )
        .into_response())
}

/// The bundle's bytes; if writing it fails halfway, the download fails too (its end is
/// missing, so an import would refuse it), rather than ending as if complete.
pub(crate) fn export_stream(
    export: serve::Export,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(Some(export), |state| async move {
        let mut export = state?;
        match export.bytes.recv().await {
            Some(chunk) => Some((Ok(chunk), Some(export))),
            None => match export.done.await {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), None)),
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            },
        }
    })
}

/// What an import did, with the same in words.
#[derive(Serialize, ToSchema)]
#[schema(as = BundleReport)]
pub(crate) struct ImportView {
    #[serde(flatten)]
    report: ImportReport,
    message: String,
}

impl From<ImportReport> for ImportView {
    fn from(report: ImportReport) -> Self {
        let mut message = report.describe();
        if let Some(first) = message.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        message.push('.');
        ImportView { report, message }
    }
}

/// Imports a bundle made by a paired box for this one. Its signature is checked against the
/// pinned key first; anything changed, too large or meant for another box is refused, and
/// importing it again is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/bundles",
    tag = "peers",
    request_body(content = Binary, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "What the import did", body = ImportView),
        StoringRefusals,
    )
)]
async fn import_bundle(
    State(state): State<AppState>,
    me: SignedIn,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportView>> {
    admin_only(&me)?;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let chunks = futures_util::StreamExt::map(body.into_data_stream(), |c| c.map_err(std::io::Error::other));
    let report = serve::import(&state, declared, chunks).await?;
    tracing::info!(by = %me.user.username, "imported a bundle: {}", report.describe());
    Ok(Json(report.into()))
}
