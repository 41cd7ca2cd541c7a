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

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode};
use super::erasure::{erase_user, note_erased_artifact, refused_as_erased, release_card};
use super::file_index::{self, Holder};
use super::tables::*;
use super::{Queries, StoreError};
use crate::domain::partition::{self, Rule};
use crate::domain::{
    Artifact, ArtifactId, Change, Class, Comment, FileRef, Hlc, Membership, Op, OpId, Role, School, User, UserId,
    Visibility,
};

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

/// A reflection as one edit wrote it (see `ARTIFACT_HLC_TO_REFLECTION_EDIT`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReflectionEdit {
    pub author: Option<UserId>,
    pub text: String,
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
    apply_change(txn, op)?;
    queue_for_search(txn, &reindex)?;
    Ok(Outcome::Applied)
}

/// The record an operation changes, if this box does not have it yet.
fn missing_target(txn: &WriteTransaction, op: &Op) -> Result<Option<IdKey>, StoreError> {
    let missing = |present: bool, id: IdKey| if present { None } else { Some(id) };
    Ok(match &op.change {
        Change::UserRenamed { user, .. }
        | Change::UserDisabled { user, .. }
        | Change::PasswordSet { user, .. }
        | Change::PicturesSet { user, .. }
        | Change::QrCardIssued { user, .. } => missing(txn.user(*user)?.is_some(), user.bytes()),
        Change::ClassSettingsChanged { class, .. } => missing(txn.class(*class)?.is_some(), class.bytes()),
        Change::SearchLanguageSet { .. } | Change::SkillsSet { .. } => {
            missing(txn.school(op.school)?.is_some(), op.school.bytes())
        }
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

fn apply_change(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
        Change::SchoolCreated { name } => {
            let mut schools = txn.open_table(SCHOOL_ID_TO_SCHOOL)?;
            if schools.get(op.school.bytes())?.is_none() {
                let school = School {
                    id: op.school,
                    name: name.clone(),
                    skills: Vec::new(),
                    search_language: Default::default(),
                    field_clock: Default::default(),
                };
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
        Change::ClassCreated { class, name, join_code, external_id } => {
            let mut classes = txn.open_table(CLASS_ID_TO_CLASS)?;
            if classes.get(class.bytes())?.is_none() {
                let record = Class {
                    id: *class,
                    school: op.school,
                    name: name.clone(),
                    join_code: join_code.clone(),
                    external_id: external_id.clone(),
                    require_approval: true,
                    comments_allowed: true,
                    field_clock: Default::default(),
                };
                classes.insert(class.bytes(), encode(&record).as_slice())?;
                drop(classes);
                claim_join_code(txn, join_code, class.bytes())?;
                if let Some(ext) = external_id {
                    let key = ExternalKind::Class.key(ext);
                    claim_name(txn, SCHOOL_EXTERNAL_ID_TO_ID, (op.school.bytes(), key.as_str()), class.bytes())?;
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
                let mut m = m.unwrap_or(Membership { role: Role::Student, added: Hlc::ZERO, removed: None });
                m.removed = Some(m.removed.map_or(op.hlc, |r| r.max(op.hlc)));
                Some(m)
            })?;
        }
        Change::ClassSettingsChanged { class, require_approval, comments_allowed } => {
            update_record(txn, CLASS_ID_TO_CLASS, class.bytes(), |c: &mut Class| {
                if let Some(v) = require_approval
                    && newer(&mut c.field_clock, "require_approval", op.hlc)
                {
                    c.require_approval = *v;
                }
                if let Some(v) = comments_allowed
                    && newer(&mut c.field_clock, "comments_allowed", op.hlc)
                {
                    c.comments_allowed = *v;
                }
            })?;
        }
        Change::SearchLanguageSet { language } => {
            update_record(txn, SCHOOL_ID_TO_SCHOOL, op.school.bytes(), |s: &mut School| {
                if newer(&mut s.field_clock, "search_language", op.hlc) {
                    s.search_language = *language;
                }
            })?;
        }
        Change::SkillsSet { skills } => {
            update_record(txn, SCHOOL_ID_TO_SCHOOL, op.school.bytes(), |s: &mut School| {
                if newer(&mut s.field_clock, "skills", op.hlc) {
                    s.skills = skills.clone();
                }
            })?;
        }
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
        Change::ArtifactCreated { artifact } => {
            if txn.has_artifact(artifact.id)? {
                return Ok(());
            }
            // Owners erased before this arrived are left out, as the erasure left them out
            // where it came first.
            let erased = txn.open_table(ERASED_USER_TO_HLC)?;
            let mut owners = Vec::new();
            for owner in &artifact.owners {
                if erased.get(owner.bytes())?.is_none() {
                    owners.push(*owner);
                }
            }
            drop(erased);
            let record = Artifact {
                owners,
                scope: Some(op.scope),
                reflection_conflicts: Vec::new(),
                field_clock: Default::default(),
                deleted: false,
                ..artifact.as_ref().clone()
            };
            txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.insert(record.id.bytes(), encode(&record).as_slice())?;
            let id = record.id.bytes();
            let mut owner_index = txn.open_table(OWNER_ARTIFACT)?;
            for owner in &record.owners {
                owner_index.insert((owner.bytes(), id), 1)?;
            }
            drop(owner_index);
            if let Some(class) = record.class {
                txn.open_table(CLASS_ARTIFACT)?.insert((class.bytes(), id), 1)?;
            }
            if let Some(activity) = record.activity {
                txn.open_table(ACTIVITY_ARTIFACT)?.insert((activity.bytes(), id), 1)?;
            }
            for file in record.files() {
                reference_file(txn, file, &Holder::of_artifact(&record, file))?;
            }
            let mut versions = txn.open_table(VERSION_ID_TO_ARTIFACT_ID)?;
            for version in &artifact.versions {
                versions.insert(version.id.bytes(), id)?;
            }
        }
        Change::ArtifactEdited {
            artifact,
            title,
            reflection,
            tags,
            skills,
            visibility,
            reflection_base,
            needs_review,
        } => {
            let Some(mut a) = txn.artifact(*artifact)?.filter(|a| !a.deleted) else { return Ok(()) };
            if let Some(v) = title
                && newer(&mut a.field_clock, "title", op.hlc)
            {
                a.title = v.clone();
            }
            if let Some(text) = reflection {
                merge_reflection(txn, &mut a, op, text, *reflection_base)?;
            }
            if let Some(v) = tags
                && newer(&mut a.field_clock, "tags", op.hlc)
            {
                a.tags = v.clone();
            }
            if let Some(v) = skills
                && newer(&mut a.field_clock, "skills", op.hlc)
            {
                a.skills = v.clone();
            }
            if let Some(v) = visibility
                && newer(&mut a.field_clock, "visibility", op.hlc)
            {
                a.visibility = *v;
            }
            a.updated_ms = a.updated_ms.max(op.hlc.ms);
            // What a teacher approved is what others see: new words or a wider audience go
            // back to the teacher first.
            if *needs_review {
                withdraw_approval(&mut a, op.hlc);
            }
            txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.insert(a.id.bytes(), encode(&a).as_slice())?;
        }
        Change::VersionAdded { artifact, version } => {
            let mut added = None;
            update_record(txn, ARTIFACT_ID_TO_ARTIFACT, artifact.bytes(), |a: &mut Artifact| {
                if a.deleted || a.versions.iter().any(|v| v.id == version.id) {
                    return;
                }
                a.versions.push(version.clone());
                // Versions made on different boxes arrive in any order; all boxes list them
                // the same way.
                a.versions.sort_by_key(|v| (v.created_ms, v.id));
                a.updated_ms = a.updated_ms.max(version.created_ms);
                withdraw_approval(a, op.hlc);
                added = Some(a.clone());
            })?;
            if let Some(a) = added {
                for file in &version.files {
                    reference_file(txn, file, &Holder::of_artifact(&a, file))?;
                }
                txn.open_table(VERSION_ID_TO_ARTIFACT_ID)?.insert(version.id.bytes(), artifact.bytes())?;
            }
        }
        Change::ArtifactReviewed { artifact, approved } => {
            update_record(txn, ARTIFACT_ID_TO_ARTIFACT, artifact.bytes(), |a: &mut Artifact| {
                if a.deleted {
                    return;
                }
                if newer(&mut a.field_clock, "reviewed", op.hlc) {
                    a.reviewed = true;
                }
                if let Some(v) = approved
                    && newer(&mut a.field_clock, "approved", op.hlc)
                {
                    a.approved = *v;
                }
            })?;
        }
        Change::ArtifactDeleted { artifact } => {
            remove_artifact(txn, *artifact)?;
        }
        Change::CommentAdded { comment } => {
            let live = txn.artifact(comment.artifact)?.filter(|a| !a.deleted);
            let mut comments = txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?;
            let key = (comment.artifact.bytes(), comment.id.bytes());
            if let Some(a) = live
                && comments.get(key)?.is_none()
            {
                comments.insert(key, encode(comment).as_slice())?;
                drop(comments);
                txn.open_table(COMMENT_ID_TO_ARTIFACT_ID)?.insert(comment.id.bytes(), comment.artifact.bytes())?;
                if let Some(audio) = &comment.audio {
                    reference_file(txn, audio, &Holder::of_artifact(&a, audio))?;
                }
            }
        }
        Change::CommentApproved { artifact, comment } => {
            let mut comments = txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?;
            let key = (artifact.bytes(), comment.bytes());
            let found = comments.get(key)?.map(|v| decode::<Comment>(v.value())).transpose()?;
            if let Some(mut c) = found {
                c.approved = true;
                comments.insert(key, encode(&c).as_slice())?;
            }
        }
        Change::ActivityCreated { activity } => {
            let mut activities = txn.open_table(ACTIVITY_ID_TO_ACTIVITY)?;
            if activities.get(activity.id.bytes())?.is_none() {
                activities.insert(activity.id.bytes(), encode(activity).as_slice())?;
                drop(activities);
                txn.open_table(CLASS_ACTIVITY)?.insert((activity.class.bytes(), activity.id.bytes()), 1)?;
                for file in &activity.files {
                    reference_file(txn, file, &Holder::of_activity(activity, file))?;
                }
            }
        }
        Change::UserErased { user } => {
            erase_user(txn, *user, op.hlc)?;
        }
        Change::Redacted { .. } => {}
    }
    Ok(())
}

/// A reflection edit: last writer wins for the text; edits nobody has written on top of yet
/// are kept, so one that lost to a concurrent edit on another box can be shown to its author.
///
/// An edit is *superseded* once some edit was written over a reflection at least as new as
/// it (its `reflection_base` is at or after it): its author's words were seen. The rows
/// kept are the edits newer than every base seen so far. That set, and so the conflicts
/// derived from it, depends only on which edits arrived, not on their order.
fn merge_reflection(
    txn: &WriteTransaction,
    a: &mut Artifact,
    op: &Op,
    text: &str,
    base: Option<Hlc>,
) -> Result<(), StoreError> {
    // An edit without a base was made before sync existed, over whatever came before it. An
    // edit written over a reflection stamped later than itself (the other box's clock ran
    // ahead) counts as written just before itself, so it is kept when it loses.
    let base = base.map_or(op.hlc.just_before(), |b| b.min(op.hlc.just_before()));
    let seen = a.field_clock.get("reflection_base").copied().unwrap_or(Hlc::ZERO).max(base);
    a.field_clock.insert("reflection_base".to_string(), seen);
    let id = a.id.bytes();
    let mut edits = txn.open_table(ARTIFACT_HLC_TO_REFLECTION_EDIT)?;
    if op.hlc > seen {
        let edit = ReflectionEdit { author: op.author, text: text.to_string() };
        edits.insert(reflection_key(a.id, op.hlc), encode(&edit).as_slice())?;
    }
    let superseded: Vec<_> = edits
        .range(reflection_key(a.id, Hlc::ZERO)..=reflection_key(a.id, seen))?
        .map(|row| Ok(row?.0.value()))
        .collect::<Result<_, StoreError>>()?;
    for key in superseded {
        edits.remove(key)?;
    }
    if newer(&mut a.field_clock, "reflection", op.hlc) {
        a.reflection = text.to_string();
    }
    let winner = a.field_clock.get("reflection").copied();
    let mut conflicts = Vec::new();
    for row in edits.range((id, 0u64, 0u32, [0u8; 16])..=(id, u64::MAX, u32::MAX, [0xffu8; 16]))? {
        let (k, v) = row?;
        let (_, ms, counter, replica) = k.value();
        let hlc = Hlc { ms, counter, replica: crate::domain::ReplicaId(uuid::Uuid::from_bytes(replica)) };
        let edit: ReflectionEdit = decode(v.value())?;
        if Some(hlc) != winner && edit.text != a.reflection && !conflicts.contains(&edit.text) {
            conflicts.push(edit.text);
        }
    }
    a.reflection_conflicts = conflicts;
    Ok(())
}

pub(super) fn reflection_key(artifact: ArtifactId, hlc: Hlc) -> (IdKey, u64, u32, IdKey) {
    (artifact.bytes(), hlc.ms, hlc.counter, hlc.replica.bytes())
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

/// Content changed: the work waits for a teacher again (unless a review came later).
fn withdraw_approval(a: &mut Artifact, hlc: Hlc) {
    if newer(&mut a.field_clock, "approved", hlc) {
        a.approved = false;
    }
    if newer(&mut a.field_clock, "reviewed", hlc) {
        a.reviewed = false;
    }
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

/// The same for join codes (unique on the box, not per school).
fn claim_join_code(txn: &WriteTransaction, code: &str, class: IdKey) -> Result<(), StoreError> {
    let mut t = txn.open_table(JOIN_CODE_TO_CLASS_ID)?;
    let holder = t.get(code)?.map(|v| v.value());
    if holder.is_none_or(|h| class < h) {
        t.insert(code, class)?;
    }
    Ok(())
}

/// Records that a file uses a blob (so the blob is kept), and queues a thumbnail for images.
fn reference_file(txn: &WriteTransaction, file: &FileRef, holder: &Holder) -> Result<(), StoreError> {
    txn.open_table(BLOB_HASH_FILE)?.insert((file.hash.as_str(), file.id.bytes()), 1)?;
    file_index::put_holder(txn, file, holder)?;
    if file.content_type.starts_with("image/") && file.content_type != "image/svg+xml" {
        txn.open_table(THUMBNAIL_TODO)?.insert(file.hash.as_str(), file.content_type.as_str())?;
    }
    Ok(())
}

pub(super) fn release_file(txn: &WriteTransaction, file: &FileRef) -> Result<(), StoreError> {
    txn.open_table(BLOB_HASH_FILE)?.remove((file.hash.as_str(), file.id.bytes()))?;
    file_index::remove_holder(txn, file)?;
    Ok(())
}

/// Everything an artifact holds besides its row: files, comments, index rows, reflection
/// edits. Left: the row itself.
pub(super) fn empty_artifact(txn: &WriteTransaction, artifact: &Artifact) -> Result<(), StoreError> {
    let id = artifact.id;
    for file in artifact.files() {
        release_file(txn, file)?;
    }
    for comment in txn.comments(id)? {
        if let Some(audio) = &comment.audio {
            release_file(txn, audio)?;
        }
        txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?.remove((id.bytes(), comment.id.bytes()))?;
    }
    let mut owners = txn.open_table(OWNER_ARTIFACT)?;
    for owner in &artifact.owners {
        owners.remove((owner.bytes(), id.bytes()))?;
    }
    drop(owners);
    if let Some(class) = artifact.class {
        txn.open_table(CLASS_ARTIFACT)?.remove((class.bytes(), id.bytes()))?;
    }
    if let Some(activity) = artifact.activity {
        txn.open_table(ACTIVITY_ARTIFACT)?.remove((activity.bytes(), id.bytes()))?;
    }
    let mut edits = txn.open_table(ARTIFACT_HLC_TO_REFLECTION_EDIT)?;
    let keys: Vec<_> = edits
        .range(reflection_key(id, Hlc::ZERO)..=(id.bytes(), u64::MAX, u32::MAX, [0xffu8; 16]))?
        .map(|row| Ok(row?.0.value()))
        .collect::<Result<_, StoreError>>()?;
    for key in keys {
        edits.remove(key)?;
    }
    Ok(())
}

/// Empties an artifact to a tombstone: its text, files and comments are gone; the id stays.
/// The tombstone holds only what the creation said (and the owners still there), so it is the
/// same on every box however many edits each had seen before the delete.
fn remove_artifact(txn: &WriteTransaction, id: ArtifactId) -> Result<(), StoreError> {
    let Some(artifact) = txn.artifact(id)? else { return Ok(()) };
    if artifact.deleted {
        return Ok(());
    }
    empty_artifact(txn, &artifact)?;
    let tombstone = Artifact {
        title: String::new(),
        reflection: String::new(),
        tags: Default::default(),
        skills: Default::default(),
        visibility: Visibility::default(),
        approved: false,
        reviewed: false,
        versions: Vec::new(),
        updated_ms: artifact.created_ms,
        deleted: true,
        reflection_conflicts: Vec::new(),
        field_clock: Default::default(),
        ..artifact
    };
    txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.insert(id.bytes(), encode(&tombstone).as_slice())?;
    Ok(())
}

pub(super) fn hash_key(hex: &str) -> Option<[u8; 32]> {
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
