//! Family invitation sheets, local to the box that printed them (see
//! `tables::FAMILY_CODE_HASH_TO_SHEET`). Only a hash of each code is kept.

use std::collections::BTreeSet;

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode};
use super::tables::FAMILY_CODE_HASH_TO_SHEET;
use super::{ReadTables, StoreError};
use crate::domain::UserId;
use crate::domain::family::Sheet;

pub fn get(r: &impl ReadTables, hash: [u8; 32]) -> Result<Option<Sheet>, StoreError> {
    r.table(FAMILY_CODE_HASH_TO_SHEET)?.get(hash)?.map(|v| decode(v.value())).transpose()
}

pub fn put(txn: &WriteTransaction, hash: [u8; 32], sheet: &Sheet) -> Result<(), StoreError> {
    txn.open_table(FAMILY_CODE_HASH_TO_SHEET)?.insert(hash, encode(sheet).as_slice())?;
    Ok(())
}

/// Removes every sheet printed for these students (printing again revokes them), and any
/// sheet that has expired by `now_ms`, so the table holds about one row per student.
pub fn revoke_for(txn: &WriteTransaction, students: &BTreeSet<UserId>, now_ms: u64) -> Result<(), StoreError> {
    txn.open_table(FAMILY_CODE_HASH_TO_SHEET)?
        .retain(|_, v| decode::<Sheet>(v).is_ok_and(|s| !students.contains(&s.student) && !s.expired(now_ms)))?;
    Ok(())
}
