//! Other boxes: `/api/v1/peers` (admins only): invitations, joining, the list of paired
//! boxes, unpairing, and syncing now. The work is in `peers`; this is its JSON face.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::domain::policy;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::peers::{self, BoxId, Peer, PeerScope, PeerStatus, SyncCounts};
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/peers", get(list_peers))
        .route("/api/v1/peers/self", get(this_box))
        .route("/api/v1/peers/invite", post(create_invite))
        .route("/api/v1/peers/join", post(join))
        .route("/api/v1/peers/{id}", delete(unpair))
        .route("/api/v1/peers/{id}/sync", post(sync_now))
}

pub(crate) fn check_admin(me: &SignedIn) -> Result<()> {
    if policy::can_manage_boxes(&me.user) {
        Ok(())
    } else {
        Err(Error::forbidden("Only an administrator can pair this box with other boxes."))
    }
}

/// A paired box as the API shows it.
#[derive(Serialize)]
pub struct PeerView {
    pub peer_id: BoxId,
    pub short_id: String,
    /// Where it was last reached (or announced).
    pub address: Option<String>,
    pub addresses: Vec<String>,
    pub last_sync: Option<u64>,
    /// "never" (not synced yet), "ok" (the last round finished) or "error" (see `last_error`).
    pub status: &'static str,
    pub scope: PeerScope,
    pub paired_ms: u64,
    #[serde(flatten)]
    pub counts: PeerStatus,
}

impl From<Peer> for PeerView {
    fn from(p: Peer) -> Self {
        let status = match (&p.status.last_error, p.status.last_sync_ms) {
            (Some(_), _) => "error",
            (None, Some(_)) => "ok",
            (None, None) => "never",
        };
        PeerView {
            peer_id: p.id,
            short_id: p.id.short(),
            address: p.addresses.first().cloned(),
            addresses: p.addresses,
            last_sync: p.status.last_sync_ms,
            status,
            scope: p.scope,
            paired_ms: p.paired_ms,
            counts: p.status,
        }
    }
}

async fn list_peers(State(state): State<AppState>, me: SignedIn) -> Result<Json<Vec<PeerView>>> {
    check_admin(&me)?;
    let peers = state.db(|store| Ok(store.peers()?)).await?;
    Ok(Json(peers.into_iter().map(PeerView::from).collect()))
}

#[derive(Serialize)]
struct ThisBox {
    box_id: BoxId,
    short_id: String,
    peer_port: Option<u16>,
    addresses: Vec<String>,
}

async fn this_box(State(state): State<AppState>, me: SignedIn) -> Result<Json<ThisBox>> {
    check_admin(&me)?;
    let net = &state.net;
    Ok(Json(ThisBox {
        box_id: net.id(),
        short_id: net.id().short(),
        peer_port: net.listen.map(|a| a.port()),
        addresses: net.addresses(),
    }))
}

#[derive(Deserialize, Default)]
struct InviteRequest {
    #[serde(default)]
    scope: Option<PeerScope>,
}

/// Checks that a scope's classes are classes of this box, in the schools named.
pub(crate) async fn check_scope_here(state: &AppState, scope: &Option<PeerScope>) -> Result<()> {
    let Some(PeerScope::Classes(classes)) = scope.clone() else {
        return Ok(());
    };
    if classes.is_empty() {
        return Err(Error::Invalid("Choose at least one class to share, or share the whole school.".into()));
    }
    state
        .db(move |store| {
            store.read(|r| {
                for (school, class) in &classes {
                    if r.class(*class)?.is_none_or(|c| c.school != *school) {
                        return Err(Error::Invalid(format!(
                            "There is no class {class} of school {school} on this box."
                        )));
                    }
                }
                Ok(())
            })
        })
        .await
}

async fn create_invite(
    State(state): State<AppState>,
    me: SignedIn,
    body: Option<Json<InviteRequest>>,
) -> Result<Response> {
    check_admin(&me)?;
    let scope = body.map(|Json(b)| b.scope).unwrap_or_default();
    check_scope_here(&state, &scope).await?;
    let invitation = peers::pairing::invite(&state, scope).await?;
    tracing::info!(by = %me.user.username, "invitation to pair made");
    Ok((StatusCode::CREATED, Json(InvitationAnswer::from(invitation))).into_response())
}

/// A new invitation, with its token drawn as a QR code for the other box's camera.
#[derive(Serialize)]
struct InvitationAnswer {
    token: String,
    /// `None` when the token is too long for a QR code (many addresses); it is still good as text.
    qr_svg: Option<String>,
    expires_ms: u64,
}

impl From<peers::pairing::Invitation> for InvitationAnswer {
    fn from(inv: peers::pairing::Invitation) -> Self {
        InvitationAnswer { qr_svg: crate::http::qr_svg(&inv.token).ok(), token: inv.token, expires_ms: inv.expires_ms }
    }
}

#[derive(Deserialize)]
struct JoinRequest {
    token: String,
    #[serde(default)]
    scope: Option<PeerScope>,
}

async fn join(State(state): State<AppState>, me: SignedIn, Json(req): Json<JoinRequest>) -> Result<Response> {
    check_admin(&me)?;
    let peer = peers::pairing::join(&state, &req.token, req.scope).await?;
    peers::schedule::nudge(&state.net, peer.id);
    Ok((StatusCode::CREATED, Json(serde_json::json!({"peer_id": peer.id}))).into_response())
}

fn parse_box_id(raw: &str) -> Result<BoxId> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn unpair(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<StatusCode> {
    check_admin(&me)?;
    let id = parse_box_id(&id)?;
    if peers::pairing::unpair(&state, id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(Error::NotFound) }
}

async fn sync_now(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Json<SyncCounts>> {
    check_admin(&me)?;
    let id = parse_box_id(&id)?;
    if state.db(move |store| Ok(store.peer(id)?)).await?.is_none() {
        return Err(Error::NotFound);
    }
    peers::sync::with_peer(&state, id).await.map(Json).map_err(|e| Error::BadGateway(e.to_string()))
}
