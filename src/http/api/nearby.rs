//! Boxes on the network: `GET /api/v1/peers/nearby` (what mDNS found, see `discovery`) and
//! `POST /api/v1/peers/address` (an address for a paired box, typed by an admin where
//! multicast is blocked).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::bundles::admin_only;
use super::input::Json;
use crate::discovery;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{Forbidden, JsonBody, NotFound, Unauthenticated};
use crate::peers::BoxId;
use crate::store::peers as store_peers;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_nearby)).routes(routes!(add_address))
}

/// A box seen on the network.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NearbyView {
    pub box_id_short: String,
    /// IP addresses (the port is `port`).
    pub addresses: Vec<String>,
    pub port: u16,
    /// A paired box has this short id.
    pub paired: bool,
    /// That paired box's whole id.
    pub peer_id: Option<BoxId>,
    pub last_seen_ms: u64,
}

/// The nearby list with each box's pairing, for the API and the admin page.
pub async fn nearby(state: &AppState) -> Result<Vec<NearbyView>> {
    let peers = state.db(|store| Ok(store.read(store_peers::peers)?)).await?;
    Ok(state
        .nearby
        .list()
        .into_iter()
        .map(|seen| {
            let peer = peers.iter().find(|p| p.id.short() == seen.box_id_short);
            NearbyView {
                addresses: seen.addresses.iter().map(|a| a.to_string()).collect(),
                port: seen.port,
                paired: peer.is_some(),
                peer_id: peer.map(|p| p.id),
                last_seen_ms: seen.last_seen_ms,
                box_id_short: seen.box_id_short,
            }
        })
        .collect())
}

/// Boxes seen on the network lately (mDNS), and which of them are paired (administrators).
#[utoipa::path(
    get,
    path = "/api/v1/peers/nearby",
    tag = "peers",
    responses((status = 200, description = "The boxes seen", body = Vec<NearbyView>), Unauthenticated, NotFound)
)]
async fn list_nearby(State(state): State<AppState>, me: SignedIn) -> Result<Json<Vec<NearbyView>>> {
    admin_only(&me)?;
    Ok(Json(nearby(&state).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddAddress {
    pub peer_id: String,
    pub address: String,
}

#[derive(Serialize, ToSchema)]
pub struct PeerAddresses {
    pub peer_id: BoxId,
    pub addresses: Vec<String>,
}

/// Puts a typed address first in a paired box's addresses and tells the sync scheduler.
pub async fn record_address(state: &AppState, req: AddAddress) -> Result<PeerAddresses> {
    let address = discovery::parse_peer_address(&req.address)?;
    let peer = crate::peers::bundle::serve::find_peer(state, &req.peer_id).await?;
    let id = peer.id;
    let addresses = state
        .db(move |store| {
            store.write(|tx| {
                let Some(mut peer) = store_peers::peer(tx.txn(), id)? else {
                    return Err(Error::NotFound);
                };
                if discovery::add_addresses(&mut peer, std::slice::from_ref(&address)) {
                    store_peers::put_peer(tx.txn(), &peer)?;
                }
                Ok(peer.addresses)
            })
        })
        .await?;
    state.nearby.nudge(id);
    Ok(PeerAddresses { peer_id: id, addresses })
}

/// Puts an address typed by an administrator first among a paired box's addresses, where
/// multicast is blocked.
#[utoipa::path(
    post,
    path = "/api/v1/peers/address",
    tag = "peers",
    request_body = AddAddress,
    responses(
        (status = 200, description = "The box's addresses now", body = PeerAddresses),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
async fn add_address(
    State(state): State<AppState>,
    me: SignedIn,
    Json(req): Json<AddAddress>,
) -> Result<Json<PeerAddresses>> {
    admin_only(&me)?;
    let recorded = record_address(&state, req).await?;
    tracing::info!(by = %me.user.username, peer = %recorded.peer_id.short(), "an address was added for a paired box");
    Ok(Json(recorded))
}
