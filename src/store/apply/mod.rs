//! Applying an operation to the tables. This is the only code that changes shared rows, and
//! it is the same for operations made here and operations that arrive from other boxes.
//!
//! Boxes receive each other's operations in any order, twice, and after restarts, so every
//! arm obeys these laws, which together make the tables a function of the *set* of
//! operations a box holds, whatever order they came in:
//!
//! - **Idempotent**: applying an operation twice changes nothing.
//! - **Commutative**: two operations applied in either order leave the same rows. Fields are
//!   last-writer-wins by HLC (`newer`), with a clock per field; sets are unions (versions,
//!   comments, add-wins memberships whose removal is a tombstone); creations are
//!   first-one-wins, and there is only ever one creation per id.
//! - **Nothing before its record**: an operation that changes a record this box does not have
//!   yet (an edit of work whose creation is still on its way) waits in
//!   `TARGET_ORIGIN_SEQ_WAITING` and is applied the moment the record is made (`apply_logged`).
//! - **Deletes win**: a deleted artifact becomes a tombstone that depends only on its
//!   creation, and nothing applies to a tombstone, so an edit arriving after the delete does
//!   not bring it back.
//! - **Erasure is final and complete**: the erasure removes every effect of the operations
//!   *about* the person (`subjects`) and of operations on work only they owned, and empties
//!   those operations in the log; the same operations arriving later are refused and stored
//!   emptied. Both ways end in the same rows and the same log.
//! - Decisions that depend on what the author saw (did this edit change the words? which
//!   reflection was it written over?) are made once, where the operation is made
//!   (`stamp_origin_facts`), and travel in the operation.

mod erasure;
mod people;
mod school;
mod work;

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode};
use super::file_index::{self, Holder};
use super::tables::*;
use super::{Queries, StoreError};
use crate::domain::partition::{self, Rule};
use crate::domain::{Artifact, ArtifactId, Change, Comment, FileRef, Hlc, Op, OpId};
use erasure::{erase_user, note_erased_artifact, refused_as_erased};
pub use work::ReflectionEdit;

/// What became of an operation.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// About an erased person, or work only erased people owned: not applied, and its log
    /// entry is emptied.
    RefusedErased,
    /// Changes a record this box does not have yet; applied when that record arrives.
    Waiting,
    /// Claims a partition that what it changes is not in: a forged operation, not applied.
    Misfiled,
}

/// Fills in what only the box where a change is made can know, against the rows as they
/// stand, before the operation is logged: which reflection an edit was written over, and
/// whether it changes what others see.
pub fn stamp_origin_facts(txn: &WriteTransaction, change: &mut Change) -> Result<(), StoreError> {
    if let Change::ArtifactEdited {
        artifact, title, reflection, tags, visibility, reflection_base, needs_review, ..
    } = change
        && let Some(a) = txn.artifact(*artifact)?
    {
        if reflection.is_some() {
            *reflection_base = Some(a.field_clock.get("reflection").copied().unwrap_or(Hlc::ZERO));
        }
        *needs_review = title.as_ref().is_some_and(|t| *t != a.title)
            || reflection.as_ref().is_some_and(|r| *r != a.reflection)
            || tags.as_ref().is_some_and(|t| *t != a.tags)
            || visibility.is_some_and(|v| v > a.visibility);
    }
    Ok(())
}

/// Applies an operation already written to the op log, and what it unblocks: operations
/// waiting for the record it makes. A refused operation's log entry is emptied; one that
/// must wait is noted.
pub fn apply_logged(txn: &WriteTransaction, op: &Op) -> Result<Outcome, StoreError> {
    let outcome = apply(txn, op)?;
    settle(txn, op, &outcome)?;
    let mut made: Vec<IdKey> = if outcome == Outcome::Applied { made_by(op).into_iter().collect() } else { vec![] };
    // Each record made may unblock operations, which may make records in turn (a comment
    // waiting for its artifact, and that comment's approval waiting for the comment).
    while let Some(target) = made.pop() {
        for id in take_waiting(txn, target)? {
            let Some(waiting) = logged(txn, id)? else { continue };
            let outcome = apply(txn, &waiting)?;
            settle(txn, &waiting, &outcome)?;
            if outcome == Outcome::Applied {
                made.extend(made_by(&waiting));
            }
        }
    }
    Ok(outcome)
}

/// What an outcome leaves behind: an emptied log entry, or a note of what the operation
/// waits for.
fn settle(txn: &WriteTransaction, op: &Op, outcome: &Outcome) -> Result<(), StoreError> {
    match outcome {
        Outcome::RefusedErased => {
            txn.open_table(OPLOG)?.insert((op.id.replica.bytes(), op.id.seq), encode(&redacted(op)).as_slice())?;
        }
        Outcome::Waiting => {
            if let Some(target) = missing_target(txn, op)? {
                txn.open_table(TARGET_ORIGIN_SEQ_WAITING)?.insert((target, op.id.replica.bytes(), op.id.seq), 1)?;
            }
        }
        Outcome::Applied | Outcome::Misfiled => {}
    }
    Ok(())
}

/// The record an operation makes, which operations may be waiting for.
fn made_by(op: &Op) -> Option<IdKey> {
    match &op.change {
        Change::SchoolCreated { .. } => Some(op.school.bytes()),
        Change::UserCreated { user, .. } => Some(user.bytes()),
        Change::ClassCreated { class, .. } => Some(class.bytes()),
        Change::ArtifactCreated { artifact } => Some(artifact.id.bytes()),
        Change::ActivityCreated { activity } => Some(activity.id.bytes()),
        Change::CommentAdded { comment } => Some(comment.id.bytes()),
        _ => None,
    }
}

pub(super) fn take_waiting(txn: &WriteTransaction, target: IdKey) -> Result<Vec<OpId>, StoreError> {
    let mut table = txn.open_table(TARGET_ORIGIN_SEQ_WAITING)?;
    let keys: Vec<(IdKey, IdKey, u64)> = table
        .range((target, [0u8; 16], 0)..=(target, [0xffu8; 16], u64::MAX))?
        .map(|row| Ok(row?.0.value()))
        .collect::<Result<_, StoreError>>()?;
    for key in &keys {
        table.remove(key)?;
    }
    Ok(keys
        .into_iter()
        .map(|(_, r, seq)| OpId { replica: crate::domain::ReplicaId(uuid::Uuid::from_bytes(r)), seq })
        .collect())
}

pub(super) fn logged(txn: &WriteTransaction, id: OpId) -> Result<Option<Op>, StoreError> {
    txn.open_table(OPLOG)?.get((id.replica.bytes(), id.seq))?.map(|v| decode(v.value())).transpose()
}

/// The emptied form of an operation, the same on every box: the creation of work whose every
/// owner was erased keeps the work's id (see `Change::Redacted`), everything else keeps
/// nothing.
pub fn redacted(op: &Op) -> Op {
    let erased_artifact = match &op.change {
        Change::ArtifactCreated { artifact } => Some(artifact.id),
        Change::Redacted { erased_artifact } => *erased_artifact,
        _ => None,
    };
    Op { change: Change::Redacted { erased_artifact }, author: None, ..op.clone() }
}

/// Applies one operation, without what it unblocks (see [`apply_logged`]).
pub fn apply(txn: &WriteTransaction, op: &Op) -> Result<Outcome, StoreError> {
    if let Change::Redacted { erased_artifact: Some(artifact) } = &op.change {
        note_erased_artifact(txn, *artifact)?;
        super::weekly::refresh(txn, &[*artifact])?;
        super::summaries::refresh(txn, &[*artifact])?;
        return Ok(Outcome::Applied);
    }
    if refused_as_erased(txn, op)? {
        if let Change::ArtifactCreated { artifact } = &op.change {
            note_erased_artifact(txn, artifact.id)?;
        }
        return Ok(Outcome::RefusedErased);
    }
    if missing_target(txn, op)?.is_some() {
        return Ok(Outcome::Waiting);
    }
    if let Rule::OfArtifact(id) = partition::rule(&op.change)
        && let Some(artifact) = txn.artifact(id)?
        && (artifact.partition() != op.scope || artifact.school != op.school)
    {
        tracing::warn!(op = ?op.id, "an operation claims a partition its artifact is not in; not applied");
        return Ok(Outcome::Misfiled);
    }
    // Found before applying: an erasure removes the very rows that say what it touches.
    let reindex = search_targets(txn, op)?;
    // The reports' rows and the work summaries change with the work itself, its comments and ratings, and an
    // erasure (which removes the person's work, comments and every self-assessment they made,
    // on any work: found before it runs); never with who may see it.
    let recount: Vec<ArtifactId> = match &op.change {
        Change::UserErased { user } => {
            let mut ids = reindex.clone();
            ids.extend(erasure::self_assessments(txn, *user)?.into_iter().map(|k| ArtifactId::from_bytes(k.0)));
            ids.sort();
            ids.dedup();
            ids
        }
        change if change.artifact().is_some() => reindex.clone(),
        _ => Vec::new(),
    };
    let comment_was_new = match &op.change {
        Change::CommentAdded { comment } => !has_comment(txn, comment)?,
        _ => false,
    };
    apply_change(txn, op)?;
    match &op.change {
        // A comment appended changes the work's summary and contribution by itself alone:
        // moving them by it keeps a comment's cost the same on work with thousands of
        // comments (working them out again read and decoded every one, on every comment).
        Change::CommentAdded { comment } if comment_was_new && has_comment(txn, comment)? => {
            super::weekly::add_comment(txn, comment)?;
            super::summaries::add_comment(txn, comment)?;
        }
        _ => {
            super::weekly::refresh(txn, &recount)?;
            super::summaries::refresh(txn, &recount)?;
        }
    }
    queue_for_search(txn, &reindex)?;
    Ok(Outcome::Applied)
}

/// Whether the work `comment` is on holds it.
fn has_comment(txn: &WriteTransaction, comment: &Comment) -> Result<bool, StoreError> {
    Ok(txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?.get((comment.artifact.bytes(), comment.id.bytes()))?.is_some())
}

/// The record an operation changes, if this box does not have it yet.
fn missing_target(txn: &WriteTransaction, op: &Op) -> Result<Option<IdKey>, StoreError> {
    let missing = |present: bool, id: IdKey| if present { None } else { Some(id) };
    Ok(match &op.change {
        Change::UserRenamed { user, .. }
        | Change::UserDisabled { user, .. }
        | Change::PasswordSet { user, .. }
        | Change::PicturesSet { user, .. }
        | Change::UserLanguageSet { user, .. }
        | Change::QrCardIssued { user, .. } => missing(txn.user(*user)?.is_some(), user.bytes()),
        Change::ClassSettingsChanged { class, .. } => missing(txn.class(*class)?.is_some(), class.bytes()),
        Change::ActivityEdited { activity, .. } => missing(txn.activity(*activity)?.is_some(), activity.bytes()),
        Change::SearchLanguageSet { .. }
        | Change::SkillsSet { .. }
        | Change::SkillSaved { .. }
        | Change::LevelsSet { .. }
        | Change::SchoolLanguageSet { .. } => missing(txn.school(op.school)?.is_some(), op.school.bytes()),
        Change::CommentApproved { artifact, comment } => match txn.artifact(*artifact)? {
            None => Some(artifact.bytes()),
            Some(a) if a.deleted => None,
            Some(_) => {
                let found =
                    txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?.get((artifact.bytes(), comment.bytes()))?.is_some();
                missing(found, comment.bytes())
            }
        },
        change => match change.artifact() {
            Some(artifact) if !matches!(change, Change::ArtifactCreated { .. }) => {
                missing(txn.has_artifact(artifact)?, artifact.bytes())
            }
            _ => None,
        },
    })
}

/// Applies a change to the rows of the record it is about, one function per kind of record.
fn apply_change(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
        Change::SchoolCreated { .. }
        | Change::SearchLanguageSet { .. }
        | Change::SkillsSet { .. }
        | Change::SkillSaved { .. }
        | Change::LevelsSet { .. }
        | Change::SchoolLanguageSet { .. } => school::school(txn, op),
        Change::ClassCreated { .. }
        | Change::MemberAdded { .. }
        | Change::MemberRemoved { .. }
        | Change::ClassSettingsChanged { .. } => school::class(txn, op),
        Change::UserCreated { .. }
        | Change::UserRenamed { .. }
        | Change::UserDisabled { .. }
        | Change::PasswordSet { .. }
        | Change::PicturesSet { .. }
        | Change::UserLanguageSet { .. }
        | Change::QrCardIssued { .. } => people::user(txn, op),
        Change::FamilyLinked { .. } | Change::FamilyUnlinked { .. } => people::family_link(txn, op),
        Change::ArtifactCreated { .. }
        | Change::ArtifactEdited { .. }
        | Change::VersionAdded { .. }
        | Change::ArtifactReviewed { .. }
        | Change::ArtifactDeleted { .. } => work::artifact(txn, op),
        Change::CommentAdded { .. } | Change::CommentApproved { .. } => work::comment(txn, op),
        Change::ArtifactRated { .. } => work::rating(txn, op),
        Change::ActivityCreated { .. } | Change::ActivityEdited { .. } => work::activity(txn, op),
        Change::UserErased { user } => erase_user(txn, *user, op.hlc),
        Change::Redacted { .. } => Ok(()),
    }
}

/// The artifacts whose search documents an operation changes: their own content, or who may
/// read them (class places, class settings), or the names shown with them.
fn search_targets(txn: &WriteTransaction, op: &Op) -> Result<Vec<ArtifactId>, StoreError> {
    let ids = |artifacts: Vec<Artifact>| artifacts.into_iter().map(|a| a.id).collect::<Vec<_>>();
    if let Some(artifact) = op.change.artifact() {
        return Ok(vec![artifact]);
    }
    Ok(match &op.change {
        Change::MemberAdded { user, .. } | Change::MemberRemoved { user, .. } | Change::UserRenamed { user, .. } => {
            ids(txn.artifacts_of_owner(*user)?)
        }
        Change::ClassCreated { class, .. } | Change::ClassSettingsChanged { class, .. } => {
            ids(txn.artifacts_in_class(*class)?)
        }
        Change::ActivityCreated { activity } => ids(txn.artifacts_for_activity(activity.id)?),
        Change::ActivityEdited { activity, .. } => ids(txn.artifacts_for_activity(*activity)?),
        Change::SearchLanguageSet { .. } => ids(txn.artifacts_of_school(op.school)?),
        Change::UserErased { user } => {
            let mut found = ids(txn.artifacts_of_owner(*user)?);
            found.extend(txn.artifacts_commented_by(*user)?);
            found
        }
        _ => Vec::new(),
    })
}

/// Queues artifacts for the search indexer, in the transaction of the change.
fn queue_for_search(txn: &WriteTransaction, artifacts: &[ArtifactId]) -> Result<(), StoreError> {
    if artifacts.is_empty() {
        return Ok(());
    }
    let mut todo = txn.open_table(SEARCH_TODO)?;
    for artifact in artifacts {
        todo.insert(artifact.bytes(), rand::random::<u64>())?;
    }
    Ok(())
}

/// Whether `field` last written at a clock older than `hlc`; if so, records `hlc` for it.
fn newer(clock: &mut std::collections::BTreeMap<String, Hlc>, field: &str, hlc: Hlc) -> bool {
    if clock.get(field).is_some_and(|&held| held >= hlc) {
        return false;
    }
    clock.insert(field.to_string(), hlc);
    true
}

/// Loads, changes and stores one encoded record, if it exists.
fn update_record<T: serde::Serialize + serde::de::DeserializeOwned>(
    txn: &WriteTransaction,
    table: redb::TableDefinition<'static, IdKey, &'static [u8]>,
    key: IdKey,
    change: impl FnOnce(&mut T),
) -> Result<bool, StoreError> {
    let mut t = txn.open_table(table)?;
    let Some(mut record) = t.get(key)?.map(|v| decode::<T>(v.value())).transpose()? else {
        return Ok(false);
    };
    change(&mut record);
    t.insert(key, encode(&record).as_slice())?;
    Ok(true)
}

/// A unique name (username, external id) points at one record. Two boxes may hand out the
/// same name at once; every box then gives it to the smaller id, whatever order the two
/// arrive in.
pub(super) fn claim_name(
    txn: &WriteTransaction,
    table: redb::TableDefinition<'static, (IdKey, &'static str), IdKey>,
    key: (IdKey, &str),
    id: IdKey,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(table)?;
    let holder = t.get(key)?.map(|v| v.value());
    if holder.is_none_or(|h| id < h) {
        t.insert(key, id)?;
    }
    Ok(())
}

/// Records that a file uses a blob (so the blob is kept), and queues a thumbnail for images.
fn reference_file(txn: &WriteTransaction, file: &FileRef, holder: &Holder) -> Result<(), StoreError> {
    txn.open_table(BLOB_HASH_FILE)?.insert((file.hash.as_str(), file.id.bytes()), 1)?;
    file_index::put_holder(txn, file, holder)?;
    if crate::domain::work::thumbnailable(&file.content_type) {
        txn.open_table(THUMBNAIL_TODO)?.insert(file.hash.as_str(), file.content_type.as_str())?;
    }
    Ok(())
}

pub(super) fn release_file(txn: &WriteTransaction, file: &FileRef) -> Result<(), StoreError> {
    txn.open_table(BLOB_HASH_FILE)?.remove((file.hash.as_str(), file.id.bytes()))?;
    file_index::remove_holder(txn, file)?;
    Ok(())
}

pub(super) fn hash_key(hex: &str) -> Option<[u8; 32]> {
    blake3::Hash::from_hex(hex).ok().map(|h| *h.as_bytes())
}
