//! The files part of a sync round: blobs named by operations, fetched by hash from the peer
//! that has them and pushed to the peer that lacks them (resumable, verified by BLAKE3).
//!
//! Placeholder: the operations travel already ([`super::sync`]); the transfers themselves
//! come in their own change, behind this same signature.

use axum::Router;

use super::client::PeerClient;
use super::{Peer, PeerError};
use crate::http::AppState;

/// What a round's file exchange did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    pub sent: u64,
    pub received: u64,
    /// Files named by operations here that have not arrived yet.
    pub pending: u64,
}

/// Pulls the blobs we lack from `peer` and pushes the blobs it lacks.
pub async fn exchange(client: &PeerClient, state: &AppState, peer: &Peer) -> Result<FileCounts, PeerError> {
    let _ = (client, state, peer);
    Ok(FileCounts::default())
}

/// The peer port's file routes (`/peer/v1/blobs/...`).
pub fn router() -> Router<AppState> {
    Router::new()
}
