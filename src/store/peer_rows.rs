//! The local peer tables as the USB bundles and discovery read and write them: pinned peers
//! (`PEER_ID_TO_PEER`) and the positions each last reported (`PEER_SCHOOL_TO_POSITIONS`).
//! Both are *local*: they say what this box knows of other boxes, never travel, and are
//! not operations.

use redb::ReadableTable;

use super::codec::{decode, encode};
use super::tables::{PEER_ID_TO_PEER, PEER_SCHOOL_TO_POSITIONS};
use super::{ReadTables, StoreError, Tx};
use crate::domain::SchoolId;
use crate::peers::{BoxId, Peer};
use crate::sync::Positions;

/// The pinned record of a paired box.
pub fn peer(r: &impl ReadTables, id: BoxId) -> Result<Option<Peer>, StoreError> {
    r.table(PEER_ID_TO_PEER)?.get(id.0)?.map(|v| decode(v.value())).transpose()
}

/// Every paired box, by id.
pub fn peers(r: &impl ReadTables) -> Result<Vec<Peer>, StoreError> {
    let table = r.table(PEER_ID_TO_PEER)?;
    table
        .range::<[u8; 32]>(..)?
        .map(|row| {
            let (_, v) = row?;
            decode(v.value())
        })
        .collect()
}

/// Writes (or replaces) a paired box's record.
pub fn put_peer(tx: &mut Tx, peer: &Peer) -> Result<(), StoreError> {
    tx.txn().open_table(PEER_ID_TO_PEER)?.insert(peer.id.0, encode(peer).as_slice())?;
    Ok(())
}

/// What `peer` last said it holds of `school` (`None`: it never said).
pub fn peer_positions(r: &impl ReadTables, peer: BoxId, school: SchoolId) -> Result<Option<Positions>, StoreError> {
    r.table(PEER_SCHOOL_TO_POSITIONS)?.get((peer.0, school.bytes()))?.map(|v| decode(v.value())).transpose()
}

/// Remembers what `peer` says it holds of a school.
pub fn set_peer_positions(tx: &mut Tx, peer: BoxId, positions: &Positions) -> Result<(), StoreError> {
    tx.txn()
        .open_table(PEER_SCHOOL_TO_POSITIONS)?
        .insert((peer.0, positions.school.bytes()), encode(positions).as_slice())?;
    Ok(())
}
