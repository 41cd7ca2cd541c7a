//! Accounts and family links as operations change them (see the laws in `apply`).

use redb::{ReadableTable, WriteTransaction};

use super::claim_name;
use super::erasure::release_card;
use super::hash_key;
use crate::domain::{Change, Hlc, Membership, Op, Role, User, UserId};
use crate::store::codec::{decode, encode};
use crate::store::tables::*;
use crate::store::{Queries, StoreError};

/// An account: created once (first claim of its username wins), then each field last writer
/// wins; a QR card held by someone else is never taken over.
pub(super) fn user(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
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
                language: None,
                field_clock: Default::default(),
            };
            txn.open_table(USER_ID_TO_USER)?.insert(user.bytes(), encode(&record).as_slice())?;
            claim_name(txn, SCHOOL_USERNAME_TO_USER_ID, (op.school.bytes(), username.as_str()), user.bytes())?;
            if let Some(ext) = external_id {
                let key = ExternalKind::User.key(ext);
                claim_name(txn, SCHOOL_EXTERNAL_ID_TO_ID, (op.school.bytes(), key.as_str()), user.bytes())?;
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
        Change::UserLanguageSet { user, language } => {
            update_user(txn, *user, "language", op.hlc, |u| u.language = language.clone())?;
        }
        Change::PicturesSet { user, hash } => {
            update_user(txn, *user, "pictures", op.hlc, |u| u.pictures_hash = Some(hash.clone()))?;
        }
        Change::QrCardIssued { user, token_hash } => {
            let mut previous = None;
            let changed = update_user(txn, *user, "qr", op.hlc, |u| {
                // Empty: revoked, no card (see `Change::QrCardIssued`).
                let card = Some(token_hash.clone()).filter(|h| !h.is_empty());
                previous = std::mem::replace(&mut u.qr_token_hash, card);
            })?;
            if changed {
                if let Some(old) = previous.and_then(|h| hash_key(&h)) {
                    release_card(txn, old, *user)?;
                }
                if let Some(new) = hash_key(token_hash) {
                    let mut cards = txn.open_table(QR_TOKEN_HASH_TO_USER_ID)?;
                    // A card's hash is random: one already held by someone else can only be
                    // copied from their record (a peer naming a teacher's card for a student).
                    // The card stays with its holder; `user_by_qr_hash` also checks the
                    // record, so the copy signs nobody in.
                    let held_by_another = cards.get(new)?.is_some_and(|v| UserId::from_bytes(v.value()) != *user);
                    if !held_by_another {
                        cards.insert(new, user.bytes())?;
                    }
                }
            }
        }
        other => unreachable!("not a change of this record: {other:?}"),
    }
    Ok(())
}

/// A family link between a family account and a student: add-wins, removal a tombstone.
pub(super) fn family_link(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
        Change::FamilyLinked { family, student } => {
            update_link(txn, *family, *student, |m| match m {
                None => Some(Membership { role: Role::Family, added: op.hlc, removed: None }),
                Some(mut m) => {
                    m.added = m.added.max(op.hlc);
                    Some(m)
                }
            })?;
        }
        Change::FamilyUnlinked { family, student } => {
            update_link(txn, *family, *student, |m| {
                let mut m = m.unwrap_or(Membership { role: Role::Family, added: Hlc::ZERO, removed: None });
                m.removed = Some(m.removed.map_or(op.hlc, |r| r.max(op.hlc)));
                Some(m)
            })?;
        }
        other => unreachable!("not a change of this record: {other:?}"),
    }
    Ok(())
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

fn update_link(
    txn: &WriteTransaction,
    family: UserId,
    student: UserId,
    change: impl FnOnce(Option<Membership>) -> Option<Membership>,
) -> Result<(), StoreError> {
    let mut links = txn.open_table(FAMILY_STUDENT_TO_LINK)?;
    let key = (family.bytes(), student.bytes());
    let current = links.get(key)?.map(|v| decode::<Membership>(v.value())).transpose()?;
    let Some(next) = change(current) else { return Ok(()) };
    links.insert(key, encode(&next).as_slice())?;
    let mut index = txn.open_table(STUDENT_FAMILY)?;
    if next.is_present() {
        index.insert((student.bytes(), family.bytes()), 1)?;
    } else {
        index.remove((student.bytes(), family.bytes()))?;
    }
    Ok(())
}
