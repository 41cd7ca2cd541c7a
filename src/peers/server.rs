//! The peer port's routes, `/peer/v1/...`, served only over mutual TLS.
//!
//! The listener puts the caller's client certificate into each request ([`ClientCert`]);
//! [`authorize`] looks its id up among the pinned peers, on every request, so an unpairing
//! takes effect at the next request even on an open connection. Only `/peer/v1/pair` is open
//! to an unpinned caller (it brings an invitation's secret instead). Every handler then works
//! within the caller's scope: what it may receive, and what it may send us.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::{BoxId, ClientCert, PeerCaller, PeerScope};
use crate::app::Folio;
use crate::domain::SchoolId;
use crate::error::{Error, Result};
use crate::store::Queries;
use crate::sync::{self, Grant, Limits, Page, Positions, SyncError};

/// A page is at most 4 MiB of operations; JSON adds a little.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

pub const PAIR_PATH: &str = "/peer/v1/pair";

/// `GET /peer/v1/hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub box_id: BoxId,
    /// The schools this box holds that it shares with the caller.
    pub schools: Vec<SchoolId>,
}

/// `POST /peer/v1/pair`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairRequest {
    /// The invitation's secret, base64url.
    pub secret: String,
    /// Where the joining box's peer port can be reached.
    pub addresses: Vec<String>,
    /// A narrower scope than the invitation offers, if the joining admin chose one.
    #[serde(default)]
    pub scope: Option<PeerScope>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairAnswer {
    pub box_id: BoxId,
    /// The scope both boxes now share.
    pub scope: PeerScope,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct PushAnswer {
    pub applied: u64,
}

/// The peer port's router. Other parts of `peers` (files) add their routes here.
pub fn router(folio: Folio) -> Router {
    Router::new()
        .route(PAIR_PATH, post(pair))
        .route("/peer/v1/hello", get(hello))
        .route("/peer/v1/pull", post(pull))
        .route("/peer/v1/positions/{school}", get(positions))
        .route("/peer/v1/push", post(push))
        .merge(super::files::peer_routes())
        .layer(middleware::from_fn_with_state(folio.clone(), authorize))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(folio)
}

/// Lets through pinned callers (with [`PeerCaller`] in the request) and, for pairing only,
/// any caller with a certificate; refuses the rest with 403.
async fn authorize(State(folio): State<Folio>, mut req: Request, next: Next) -> Response {
    let Some(cert) = req.extensions().get::<ClientCert>().cloned() else {
        return Error::forbidden("This port is for other folio boxes, which present their certificate.")
            .into_response();
    };
    if req.uri().path() == PAIR_PATH {
        return next.run(req).await;
    }
    let found = folio.db(move |store| Ok(store.peer(cert.id)?)).await;
    match found {
        Ok(Some(peer)) => {
            req.extensions_mut().insert(PeerCaller { peer });
            next.run(req).await
        }
        Ok(None) => {
            tracing::info!(caller = %cert.id.short(), "refused a box that is not paired with this one");
            Error::forbidden(
                "this box is not paired with yours: it never was, or its admin removed the pairing. Pair again.",
            )
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn pair(
    State(folio): State<Folio>,
    Extension(cert): Extension<ClientCert>,
    Json(request): Json<PairRequest>,
) -> Result<Response> {
    let answer = super::pairing::accept(&folio, cert, request).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The schools this box holds that `scope` shares.
pub fn shared_schools(store: &crate::store::Store, scope: &PeerScope) -> Result<Vec<SchoolId>> {
    let held: Vec<SchoolId> = store.read(|r| r.schools())?.into_iter().map(|s| s.id).collect();
    Ok(match scope.schools() {
        None => held,
        Some(named) => held.into_iter().filter(|s| named.contains(s)).collect(),
    })
}

async fn hello(State(folio): State<Folio>, Extension(caller): Extension<PeerCaller>) -> Result<Json<Hello>> {
    let box_id = folio.net.id();
    let schools = folio.db(move |store| shared_schools(store, &caller.peer.scope)).await?;
    Ok(Json(Hello { box_id, schools }))
}

fn grant_for(caller: &PeerCaller, school: SchoolId) -> Result<Grant> {
    caller.peer.grant(school).ok_or_else(|| Error::forbidden("this box shares nothing of that school with yours"))
}

async fn pull(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    Json(theirs): Json<Positions>,
) -> Result<Json<Page>> {
    let grant = grant_for(&caller, theirs.school)?;
    let page =
        folio.db(move |store| sync::ops_missing(store, &theirs, &grant, Limits::default()).map_err(refusal)).await?;
    Ok(Json(page))
}

async fn positions(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    Path(school): Path<String>,
) -> Result<Json<Positions>> {
    let school: SchoolId = school.parse().map_err(|_| Error::NotFound)?;
    let grant = grant_for(&caller, school)?;
    let positions = folio.db(move |store| within_grant(store, school, &grant)).await?;
    Ok(Json(positions))
}

/// Our positions in the partitions `grant` covers: a class-scoped peer learns nothing of
/// other classes, not even their ids.
pub fn within_grant(store: &crate::store::Store, school: SchoolId, grant: &Grant) -> Result<Positions> {
    let mut positions = sync::positions(store, school).map_err(refusal)?;
    if matches!(grant.reach, sync::Reach::WholeSchool) {
        return Ok(positions);
    }
    let kept = store.read(|r| {
        let mut kept = Vec::new();
        for p in positions.have {
            if grant.allows(r, p.partition)? {
                kept.push(p);
            }
        }
        Ok::<_, Error>(kept)
    })?;
    positions.have = kept;
    Ok(positions)
}

async fn push(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    Json(page): Json<Page>,
) -> Result<Json<PushAnswer>> {
    let grant = grant_for(&caller, page.school)?;
    let from = caller.peer.id.short();
    let report = folio.db(move |store| sync::apply_page(store, &page, &grant).map_err(refusal)).await;
    match report {
        Ok(report) => Ok(Json(PushAnswer { applied: report.ops_received as u64 })),
        Err(e) => {
            tracing::warn!(peer = %from, "refused a page: {e}");
            Err(e)
        }
    }
}

/// A page this box refuses (or cannot make), as an answer: a gap is a conflict (ask again),
/// anything else breaks the rules.
fn refusal(e: SyncError) -> Error {
    match e {
        SyncError::Store(e) => e.into(),
        e @ SyncError::Gap { .. } => Error::conflict(e.to_string()),
        e => Error::Invalid(e.to_string()),
    }
}
