//! The boxes this box is paired with, its open invitations, and what each peer last said it
//! holds. All local to this box (never operations): a pairing is between two boxes, and
//! each keeps its own half.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::tables::{INVITE_SECRET_HASH_TO_INVITE, PEER_ID_TO_PEER, PEER_SCHOOL_TO_POSITIONS};
use super::{ReadTables, Store, StoreError};
use crate::domain::SchoolId;
use crate::domain::peer::{BoxId, Peer, PeerScope, Positions};

/// An invitation this box made and has not seen used (stored under the hash of its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// What the inviting admin offered; `None`: whatever the joining admin asks for.
    pub scope: Option<PeerScope>,
    pub expires_ms: u64,
    pub made_ms: u64,
}

/// What became of an invitation presented to this box.
#[derive(Debug, PartialEq, Eq)]
pub enum InviteUse {
    Taken(Invite),
    /// Used already, never made here, or made and removed: the same answer for all three.
    Unknown,
    Expired,
}

pub fn peers(r: &impl ReadTables) -> Result<Vec<Peer>, StoreError> {
    let table = r.table(PEER_ID_TO_PEER)?;
    let mut all = Vec::new();
    for row in table.iter()? {
        all.push(decode(row?.1.value())?);
    }
    Ok(all)
}

pub fn peer(r: &impl ReadTables, id: BoxId) -> Result<Option<Peer>, StoreError> {
    r.table(PEER_ID_TO_PEER)?.get(id.0)?.map(|v| decode(v.value())).transpose()
}

pub fn put_peer(txn: &WriteTransaction, peer: &Peer) -> Result<(), StoreError> {
    txn.open_table(PEER_ID_TO_PEER)?.insert(peer.id.0, encode(peer).as_slice())?;
    Ok(())
}

/// Forgets a peer and what it last said it holds. Returns whether it was paired.
pub fn remove_peer(txn: &WriteTransaction, id: BoxId) -> Result<bool, StoreError> {
    let was = txn.open_table(PEER_ID_TO_PEER)?.remove(id.0)?.is_some();
    let mut positions = txn.open_table(PEER_SCHOOL_TO_POSITIONS)?;
    positions.retain(|(peer, _), _| peer != id.0)?;
    Ok(was)
}

pub fn put_invite(txn: &WriteTransaction, secret_hash: [u8; 32], invite: &Invite) -> Result<(), StoreError> {
    txn.open_table(INVITE_SECRET_HASH_TO_INVITE)?.insert(secret_hash, encode(invite).as_slice())?;
    Ok(())
}

/// Takes an invitation out (it is used at most once), dropping every expired one on the way.
pub fn take_invite(txn: &WriteTransaction, secret_hash: [u8; 32], now_ms: u64) -> Result<InviteUse, StoreError> {
    let mut table = txn.open_table(INVITE_SECRET_HASH_TO_INVITE)?;
    let found = table.remove(secret_hash)?.map(|v| decode::<Invite>(v.value())).transpose()?;
    table.retain(|_, v| decode::<Invite>(v).is_ok_and(|i| i.expires_ms > now_ms))?;
    Ok(match found {
        None => InviteUse::Unknown,
        Some(invite) if invite.expires_ms <= now_ms => InviteUse::Expired,
        Some(invite) => InviteUse::Taken(invite),
    })
}

/// What `peer` last said it holds of `school` (for USB bundles: only what it lacks).
pub fn peer_positions(r: &impl ReadTables, peer: BoxId, school: SchoolId) -> Result<Option<Positions>, StoreError> {
    r.table(PEER_SCHOOL_TO_POSITIONS)?.get((peer.0, school.bytes()))?.map(|v| decode(v.value())).transpose()
}

pub fn put_peer_positions(txn: &WriteTransaction, peer: BoxId, positions: &Positions) -> Result<(), StoreError> {
    txn.open_table(PEER_SCHOOL_TO_POSITIONS)?
        .insert((peer.0, positions.school.bytes()), encode(positions).as_slice())?;
    Ok(())
}

impl Store {
    pub fn peers(&self) -> Result<Vec<Peer>, StoreError> {
        self.read(peers)
    }

    pub fn peer(&self, id: BoxId) -> Result<Option<Peer>, StoreError> {
        self.read(|r| peer(r, id))
    }

    /// Changes a stored peer in one transaction; nothing if it is no longer paired.
    pub fn update_peer(&self, id: BoxId, f: impl FnOnce(&mut Peer)) -> Result<Option<Peer>, StoreError> {
        self.write(|tx| {
            let Some(mut found) = peer(tx.txn(), id)? else {
                return Ok(None);
            };
            f(&mut found);
            put_peer(tx.txn(), &found)?;
            Ok(Some(found))
        })
    }
}
