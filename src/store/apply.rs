//! Applying an operation to the tables. This is the only code that changes shared rows, and
//! it is the same for operations made here and operations that arrive from other boxes, so
//! each arm must be idempotent (applying an op twice changes nothing) and must merge by the
//! rules in DESIGN.md: last-writer-wins per field by HLC, add-wins memberships.

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode};
use super::tables::*;
use super::{Queries, StoreError};
use crate::domain::{Change, Class, Hlc, Membership, Op, Role, School, User, UserId};

pub fn apply(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
        Change::SchoolCreated { name } => {
            let mut schools = txn.open_table(SCHOOL_ID_TO_SCHOOL)?;
            if schools.get(op.school.bytes())?.is_none() {
                let school = School { id: op.school, name: name.clone() };
                schools.insert(op.school.bytes(), encode(&school).as_slice())?;
            }
        }
        Change::UserCreated { user, username, display_name, role, external_id } => {
            if txn.user(*user)?.is_some() {
                return Ok(());
            }
            let record = User {
                id: *user,
                school: op.school,
                username: username.clone(),
                display_name: display_name.clone(),
                role: *role,
                disabled: false,
                external_id: external_id.clone(),
                password_hash: None,
                pictures_hash: None,
                qr_token_hash: None,
                field_clock: Default::default(),
            };
            txn.open_table(USER_ID_TO_USER)?.insert(user.bytes(), encode(&record).as_slice())?;
            txn.open_table(SCHOOL_USERNAME_TO_USER_ID)?.insert((op.school.bytes(), username.as_str()), user.bytes())?;
            if let Some(ext) = external_id {
                txn.open_table(SCHOOL_EXTERNAL_ID_TO_ID)?
                    .insert((op.school.bytes(), ExternalKind::User.key(ext).as_str()), user.bytes())?;
            }
        }
        Change::UserRenamed { user, display_name } => {
            update_user(txn, *user, "display_name", op.hlc, |u| u.display_name = display_name.clone())?;
        }
        Change::UserDisabled { user, disabled } => {
            update_user(txn, *user, "disabled", op.hlc, |u| u.disabled = *disabled)?;
        }
        Change::PasswordSet { user, hash } => {
            update_user(txn, *user, "password", op.hlc, |u| u.password_hash = Some(hash.clone()))?;
        }
        Change::PicturesSet { user, hash } => {
            update_user(txn, *user, "pictures", op.hlc, |u| u.pictures_hash = Some(hash.clone()))?;
        }
        Change::QrCardIssued { user, token_hash } => {
            let mut previous = None;
            let changed = update_user(txn, *user, "qr", op.hlc, |u| {
                previous = u.qr_token_hash.replace(token_hash.clone());
            })?;
            if changed {
                let mut cards = txn.open_table(QR_TOKEN_HASH_TO_USER_ID)?;
                if let Some(old) = previous.and_then(|h| hash_key(&h)) {
                    cards.remove(old)?;
                }
                if let Some(new) = hash_key(token_hash) {
                    cards.insert(new, user.bytes())?;
                }
            }
        }
        Change::ClassCreated { class, name, join_code, external_id } => {
            let mut classes = txn.open_table(CLASS_ID_TO_CLASS)?;
            if classes.get(class.bytes())?.is_none() {
                let record = Class {
                    id: *class,
                    school: op.school,
                    name: name.clone(),
                    join_code: join_code.clone(),
                    external_id: external_id.clone(),
                };
                classes.insert(class.bytes(), encode(&record).as_slice())?;
                txn.open_table(JOIN_CODE_TO_CLASS_ID)?.insert(join_code.as_str(), class.bytes())?;
                if let Some(ext) = external_id {
                    txn.open_table(SCHOOL_EXTERNAL_ID_TO_ID)?
                        .insert((op.school.bytes(), ExternalKind::Class.key(ext).as_str()), class.bytes())?;
                }
            }
        }
        Change::MemberAdded { class, user, role } => {
            update_membership(txn, class.bytes(), *user, |m| match m {
                None => Some(Membership { role: *role, added: op.hlc, removed: None }),
                Some(mut m) => {
                    if op.hlc > m.added {
                        m.added = op.hlc;
                        m.role = *role;
                    }
                    Some(m)
                }
            })?;
        }
        Change::MemberRemoved { class, user } => {
            // A removal can arrive (from another box) before the add it follows: it is kept as
            // a tombstone, so that add, arriving later with an older clock, stays removed.
            update_membership(txn, class.bytes(), *user, |m| {
                let mut m =
                    m.unwrap_or(Membership { role: Role::Student, added: Hlc::zero(op.hlc.replica), removed: None });
                m.removed = Some(m.removed.map_or(op.hlc, |r| r.max(op.hlc)));
                Some(m)
            })?;
        }
    }
    Ok(())
}

fn hash_key(hex: &str) -> Option<[u8; 32]> {
    blake3::Hash::from_hex(hex).ok().map(|h| *h.as_bytes())
}

/// Applies `change` to a user if `hlc` is newer than what the field holds (last writer wins).
/// Returns whether it did.
fn update_user(
    txn: &WriteTransaction,
    user: UserId,
    field: &str,
    hlc: Hlc,
    change: impl FnOnce(&mut User),
) -> Result<bool, StoreError> {
    let mut users = txn.open_table(USER_ID_TO_USER)?;
    let Some(mut record) = users.get(user.bytes())?.map(|v| decode::<User>(v.value())).transpose()? else {
        return Ok(false);
    };
    if record.field_clock.get(field).is_some_and(|&held| held >= hlc) {
        return Ok(false);
    }
    change(&mut record);
    record.field_clock.insert(field.to_string(), hlc);
    users.insert(user.bytes(), encode(&record).as_slice())?;
    Ok(true)
}

fn update_membership(
    txn: &WriteTransaction,
    class: IdKey,
    user: UserId,
    change: impl FnOnce(Option<Membership>) -> Option<Membership>,
) -> Result<(), StoreError> {
    let mut memberships = txn.open_table(CLASS_USER_TO_MEMBERSHIP)?;
    let key = (class, user.bytes());
    let current = memberships.get(key)?.map(|v| decode::<Membership>(v.value())).transpose()?;
    let Some(next) = change(current) else {
        return Ok(());
    };
    memberships.insert(key, encode(&next).as_slice())?;
    let mut index = txn.open_table(USER_CLASS_TO_ROLE)?;
    if next.is_present() {
        index.insert((user.bytes(), class), next.role.as_str())?;
    } else {
        index.remove((user.bytes(), class))?;
    }
    Ok(())
}
