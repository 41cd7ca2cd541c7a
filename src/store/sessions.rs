//! Sign-in sessions. They are local to this box (a session cookie is only ever sent to the box
//! that issued it), so they are not operations and do not sync. Only a hash of the session id
//! is stored: a copy of the database holds no usable sessions.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::tables::SESSION_HASH_TO_SESSION;
use super::{ReadTables, StoreError};
use crate::domain::{SchoolId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: UserId,
    pub school: SchoolId,
    /// The token forms carry to prove they came from our own pages.
    pub csrf_token: String,
    pub created_ms: u64,
    pub last_seen_ms: u64,
}

pub fn get(r: &impl ReadTables, hash: [u8; 32]) -> Result<Option<Session>, StoreError> {
    r.table(SESSION_HASH_TO_SESSION)?.get(hash)?.map(|v| decode(v.value())).transpose()
}

pub fn put(txn: &WriteTransaction, hash: [u8; 32], session: &Session) -> Result<(), StoreError> {
    txn.open_table(SESSION_HASH_TO_SESSION)?.insert(hash, encode(session).as_slice())?;
    Ok(())
}

pub fn remove(txn: &WriteTransaction, hash: [u8; 32]) -> Result<(), StoreError> {
    txn.open_table(SESSION_HASH_TO_SESSION)?.remove(hash)?;
    Ok(())
}

/// Ends every session of one person (account disabled, a sign-in secret replaced), except
/// the one whose hash is `keep`.
pub fn remove_for_user(txn: &WriteTransaction, user: UserId, keep: Option<[u8; 32]>) -> Result<usize, StoreError> {
    let mut table = txn.open_table(SESSION_HASH_TO_SESSION)?;
    let before = redb::ReadableTableMetadata::len(&table)?;
    table.retain(|hash, v| Some(hash) == keep || decode::<Session>(v).map_or(true, |s| s.user != user))?;
    Ok((before - redb::ReadableTableMetadata::len(&table)?) as usize)
}

/// Drops sessions that can no longer be used, so the table does not grow without bound.
pub fn remove_expired(txn: &WriteTransaction, now_ms: u64, idle_ms: u64, absolute_ms: u64) -> Result<(), StoreError> {
    txn.open_table(SESSION_HASH_TO_SESSION)?.retain(|_, v| {
        decode::<Session>(v).is_ok_and(|s| {
            now_ms.saturating_sub(s.last_seen_ms) < idle_ms && now_ms.saturating_sub(s.created_ms) < absolute_ms
        })
    })?;
    Ok(())
}
