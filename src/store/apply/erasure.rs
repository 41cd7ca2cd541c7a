//! Erasure of a person for a privacy request, as `store::apply` carries it out: what an
//! operation is *about*, refusing operations about erased people (and about work only erased
//! people owned), removing every trace of them from the tables, and emptying their entries in
//! the op log. Laid out so that an erasure and the operations it concerns end in the same
//! rows and the same log whichever arrives first (see `apply`'s laws).

use std::collections::HashSet;

use redb::{ReadableTable, WriteTransaction};

use super::work::empty_artifact;
use super::{claim_name, hash_key, logged, redacted, release_file, take_waiting};
use crate::domain::{Artifact, ArtifactId, Change, Comment, Hlc, Op, User, UserId};
use crate::store::codec::{decode, encode};
use crate::store::tables::*;
use crate::store::{Queries, StoreError};

/// The people an operation is *about*: whose account, class place, family link or comment it
/// is. Their erasure refuses it. The author is not among them: what an erased teacher did to
/// others' records (a class made, a review) stays, as it does where the erasure came later.
pub(super) fn subjects(op: &Op) -> Vec<UserId> {
    match &op.change {
        Change::UserCreated { user, .. }
        | Change::UserRenamed { user, .. }
        | Change::UserDisabled { user, .. }
        | Change::PasswordSet { user, .. }
        | Change::PicturesSet { user, .. }
        | Change::UserLanguageSet { user, .. }
        | Change::QrCardIssued { user, .. }
        | Change::MemberAdded { user, .. }
        | Change::MemberRemoved { user, .. } => vec![*user],
        Change::FamilyLinked { family, student } | Change::FamilyUnlinked { family, student } => {
            vec![*family, *student]
        }
        Change::CommentAdded { comment } => vec![comment.author],
        // A student's rating of their own work is theirs; a teacher's rating stays.
        Change::ArtifactRated { self_assessment: true, .. } => op.author.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Whether an operation is about an erased person, or about work every owner of which was
/// erased.
pub(super) fn refused_as_erased(txn: &WriteTransaction, op: &Op) -> Result<bool, StoreError> {
    if matches!(op.change, Change::UserErased { .. }) {
        return Ok(false);
    }
    let erased = txn.open_table(ERASED_USER_TO_HLC)?;
    for person in subjects(op) {
        if erased.get(person.bytes())?.is_some() {
            return Ok(true);
        }
    }
    if let Change::ArtifactCreated { artifact } = &op.change {
        let mut all = !artifact.owners.is_empty();
        for owner in &artifact.owners {
            all &= erased.get(owner.bytes())?.is_some();
        }
        if all {
            return Ok(true);
        }
    }
    if let Some(artifact) = op.change.artifact() {
        return Ok(txn.open_table(ERASED_ARTIFACT)?.get(artifact.bytes())?.is_some());
    }
    Ok(false)
}

/// Another box says this work's every owner was erased (an emptied creation arrived). If the
/// work is here and still owned, the erasures that emptied it are on their way and will
/// remove it; otherwise it is marked, so operations about it are refused.
pub(super) fn note_erased_artifact(txn: &WriteTransaction, id: ArtifactId) -> Result<(), StoreError> {
    match txn.artifact(id)? {
        Some(artifact) if !artifact.owners.is_empty() => Ok(()),
        Some(artifact) => forget_artifact(txn, &artifact),
        None => mark_erased_artifact(txn, id),
    }
}

/// Work whose every owner was erased: the row and everything it holds go, a marker stays.
fn forget_artifact(txn: &WriteTransaction, artifact: &Artifact) -> Result<(), StoreError> {
    empty_artifact(txn, artifact)?;
    txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.remove(artifact.id.bytes())?;
    mark_erased_artifact(txn, artifact.id)
}

/// Marks work as erased, and empties the log entries of operations waiting for it.
fn mark_erased_artifact(txn: &WriteTransaction, id: ArtifactId) -> Result<(), StoreError> {
    txn.open_table(ERASED_ARTIFACT)?.insert(id.bytes(), 1)?;
    for waiting in take_waiting(txn, id.bytes())? {
        if let Some(op) = logged(txn, waiting)? {
            txn.open_table(OPLOG)?.insert((waiting.replica.bytes(), waiting.seq), encode(&redacted(&op)).as_slice())?;
        }
    }
    Ok(())
}

/// Removes everything about a person and leaves a marker. Group work they shared stays with
/// the other students, without them; work only erased people owned goes entirely.
pub(super) fn erase_user(txn: &WriteTransaction, user: UserId, hlc: Hlc) -> Result<(), StoreError> {
    {
        let mut erased = txn.open_table(ERASED_USER_TO_HLC)?;
        let before = erased.get(user.bytes())?.map(|v| decode::<Hlc>(v.value())).transpose()?;
        // Two admins may erase the same person on two boxes: every box keeps the earlier.
        erased.insert(user.bytes(), encode(&before.map_or(hlc, |b| b.min(hlc))).as_slice())?;
        if before.is_some() {
            return Ok(());
        }
    }
    // Every artifact they own, tombstones too (a full scan: erasure is rare, and a tombstone
    // has no index rows).
    let all: Vec<Artifact> = {
        let table = txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?;
        let mut found = Vec::new();
        for row in table.range::<IdKey>(..)? {
            let a: Artifact = decode(row?.1.value())?;
            if a.owners.contains(&user) {
                found.push(a);
            }
        }
        found
    };
    let mut gone = Vec::new();
    for mut artifact in all {
        txn.open_table(OWNER_ARTIFACT)?.remove((user.bytes(), artifact.id.bytes()))?;
        artifact.owners.retain(|o| *o != user);
        if artifact.owners.is_empty() {
            gone.push(artifact);
        } else {
            txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.insert(artifact.id.bytes(), encode(&artifact).as_slice())?;
        }
    }
    // Their comments on others' work.
    let theirs: Vec<Comment> = {
        let comments = txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?;
        let mut found = Vec::new();
        for row in comments.range::<(IdKey, IdKey)>(..)? {
            let c: Comment = decode(row?.1.value())?;
            if c.author == user {
                found.push(c);
            }
        }
        found
    };
    for c in theirs {
        if let Some(audio) = &c.audio {
            release_file(txn, audio)?;
        }
        txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?.remove((c.artifact.bytes(), c.id.bytes()))?;
    }
    // Their ratings of their own (group) work.
    for key in self_assessments(txn, user)? {
        txn.open_table(ARTIFACT_VERSION_SKILL_RATER_TO_RATING)?.remove(key)?;
    }
    // Class places and family links, removed ones too (full scans, for the same reason).
    let places: Vec<(IdKey, IdKey)> = txn
        .open_table(CLASS_USER_TO_MEMBERSHIP)?
        .range::<(IdKey, IdKey)>(..)?
        .map(|row| Ok(row?.0.value()))
        .filter(|k: &Result<(IdKey, IdKey), StoreError>| k.as_ref().map_or(true, |(_, u)| *u == user.bytes()))
        .collect::<Result<_, _>>()?;
    for (class, _) in places {
        txn.open_table(CLASS_USER_TO_MEMBERSHIP)?.remove((class, user.bytes()))?;
        txn.open_table(USER_CLASS_TO_ROLE)?.remove((user.bytes(), class))?;
    }
    let links: Vec<(IdKey, IdKey)> = txn
        .open_table(FAMILY_STUDENT_TO_LINK)?
        .range::<(IdKey, IdKey)>(..)?
        .map(|row| Ok(row?.0.value()))
        .filter(|k: &Result<(IdKey, IdKey), StoreError>| {
            k.as_ref().map_or(true, |(f, s)| *f == user.bytes() || *s == user.bytes())
        })
        .collect::<Result<_, _>>()?;
    for (family, student) in links {
        txn.open_table(FAMILY_STUDENT_TO_LINK)?.remove((family, student))?;
        txn.open_table(STUDENT_FAMILY)?.remove((student, family))?;
    }
    // When they last opened each piece of work (local bookkeeping, `store::lazy`, written by
    // whichever write came after the view). Marks still in memory are dropped at their flush,
    // which finds no account.
    let seen: Vec<(IdKey, IdKey)> = txn
        .open_table(USER_ARTIFACT_SEEN_MS)?
        .range::<(IdKey, IdKey)>((user.bytes(), [0; 16])..=(user.bytes(), [0xff; 16]))?
        .map(|row| Ok(row?.0.value()))
        .collect::<Result<_, StoreError>>()?;
    for key in seen {
        txn.open_table(USER_ARTIFACT_SEEN_MS)?.remove(key)?;
    }
    redact_log(txn, user, &gone.iter().map(|a| a.id).collect())?;
    for artifact in &gone {
        forget_artifact(txn, artifact)?;
    }
    if let Some(person) = txn.user(user)? {
        release_name(txn, SCHOOL_USERNAME_TO_USER_ID, (person.school.bytes(), person.username.as_str()), user)?;
        if let Some(ext) = &person.external_id {
            let key = ExternalKind::User.key(ext);
            release_name(txn, SCHOOL_EXTERNAL_ID_TO_ID, (person.school.bytes(), key.as_str()), user)?;
        }
        if let Some(card) = person.qr_token_hash.as_deref().and_then(hash_key) {
            release_card(txn, card, user)?;
        }
        // No stub stays: a box that receives the person's account only after the erasure
        // never has one either.
        txn.open_table(USER_ID_TO_USER)?.remove(user.bytes())?;
        reclaim_names(txn, &person)?;
    }
    for waiting in take_waiting(txn, user.bytes())? {
        if let Some(op) = logged(txn, waiting)? {
            txn.open_table(OPLOG)?.insert((waiting.replica.bytes(), waiting.seq), encode(&redacted(&op)).as_slice())?;
        }
    }
    Ok(())
}

/// Removes a name's row if it points at `user`.
fn release_name(
    txn: &WriteTransaction,
    table: redb::TableDefinition<'static, (IdKey, &'static str), IdKey>,
    key: (IdKey, &str),
    user: UserId,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(table)?;
    if t.get(key)?.is_some_and(|v| v.value() == user.bytes()) {
        t.remove(key)?;
    }
    Ok(())
}

pub(super) fn release_card(txn: &WriteTransaction, card: [u8; 32], user: UserId) -> Result<(), StoreError> {
    let mut cards = txn.open_table(QR_TOKEN_HASH_TO_USER_ID)?;
    if cards.get(card)?.is_some_and(|v| v.value() == user.bytes()) {
        cards.remove(card)?;
    }
    Ok(())
}

/// After an erased person's names were released: another account that asked for the same
/// username or external id (made at the same time on another box) gets it.
fn reclaim_names(txn: &WriteTransaction, erased: &User) -> Result<(), StoreError> {
    let others: Vec<User> = {
        let users = txn.open_table(USER_ID_TO_USER)?;
        let mut found = Vec::new();
        for row in users.range::<IdKey>(..)? {
            let u: User = decode(row?.1.value())?;
            if u.school == erased.school
                && (u.username == erased.username || (u.external_id.is_some() && u.external_id == erased.external_id))
            {
                found.push(u);
            }
        }
        found
    };
    for u in others {
        if u.username == erased.username {
            claim_name(txn, SCHOOL_USERNAME_TO_USER_ID, (u.school.bytes(), u.username.as_str()), u.id.bytes())?;
        }
        if let Some(ext) = &u.external_id
            && erased.external_id.as_ref() == Some(ext)
        {
            let key = ExternalKind::User.key(ext);
            claim_name(txn, SCHOOL_EXTERNAL_ID_TO_ID, (u.school.bytes(), key.as_str()), u.id.bytes())?;
        }
    }
    Ok(())
}

/// Empties the op log's entries about an erased person (their account, credentials, class
/// places, family links, comments) and about work only erased people owned, so the database
/// file and sync carry nothing of them any more. Entries keep their id, clock and scope.
pub(super) fn redact_log(
    txn: &WriteTransaction,
    user: UserId,
    artifacts: &HashSet<ArtifactId>,
) -> Result<(), StoreError> {
    let mut log = txn.open_table(OPLOG)?;
    let mut rewrite = Vec::new();
    for row in log.range::<(IdKey, u64)>(..)? {
        let (k, v) = row?;
        let op: Op = decode(v.value())?;
        if matches!(op.change, Change::Redacted { .. } | Change::UserErased { .. }) {
            continue;
        }
        let about_them = subjects(&op).contains(&user) || op.change.artifact().is_some_and(|a| artifacts.contains(&a));
        if about_them {
            rewrite.push((k.value(), redacted(&op)));
        }
    }
    for (key, op) in rewrite {
        log.insert(key, encode(&op).as_slice())?;
    }
    Ok(())
}

/// The keys of every self-assessment `user` made (an erasure removes them all, on whatever
/// work they are: the reports' rows of that work change with them).
pub(super) fn self_assessments(
    txn: &WriteTransaction,
    user: UserId,
) -> Result<Vec<(IdKey, IdKey, IdKey, IdKey)>, StoreError> {
    let ratings = txn.open_table(ARTIFACT_VERSION_SKILL_RATER_TO_RATING)?;
    let mut found = Vec::new();
    for row in ratings.range::<(IdKey, IdKey, IdKey, IdKey)>(..)? {
        let (k, v) = row?;
        if k.value().3 == user.bytes() && decode::<crate::domain::skills::Rating>(v.value())?.self_assessment {
            found.push(k.value());
        }
    }
    Ok(found)
}
