//! Work as operations change it: artifacts with their versions, edits, reviews and
//! tombstones; reflections merged so a losing edit is kept; comments; activities (see the
//! laws in `apply`).

use redb::{ReadableTable, WriteTransaction};

use super::{newer, reference_file, release_file, update_record};
use crate::domain::skills::Rating;
use crate::domain::{Activity, Artifact, ArtifactId, Change, Comment, Hlc, Op, UserId, Visibility};
use crate::store::codec::{decode, encode};
use crate::store::file_index::Holder;
use crate::store::tables::*;
use crate::store::{Queries, StoreError};

/// A reflection as one edit wrote it (see `ARTIFACT_HLC_TO_REFLECTION_EDIT`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReflectionEdit {
    pub author: Option<UserId>,
    pub text: String,
}

/// A piece of work: created once, fields last writer wins, versions an append-only set,
/// and a delete that leaves a tombstone nothing applies to.
pub(super) fn artifact(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
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
        other => unreachable!("not a change of this record: {other:?}"),
    }
    Ok(())
}

/// A comment or feedback: appended once to live work; approval only ever sets the flag.
pub(super) fn comment(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
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
        other => unreachable!("not a change of this record: {other:?}"),
    }
    Ok(())
}

/// Ratings of one version of live work: each (version, skill, rater) last writer wins. The
/// version is not looked up: a rating may arrive before the version it rates (from another
/// box), and a deleted artifact drops them all.
pub(super) fn rating(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    let Change::ArtifactRated { artifact, version, ratings, self_assessment } = &op.change else {
        unreachable!("not a rating: {:?}", op.change)
    };
    let (Some(rater), true) = (op.author, txn.artifact(*artifact)?.is_some_and(|a| !a.deleted)) else {
        return Ok(());
    };
    let mut table = txn.open_table(ARTIFACT_VERSION_SKILL_RATER_TO_RATING)?;
    for r in ratings {
        let key = (artifact.bytes(), version.bytes(), r.skill_id.bytes(), rater.bytes());
        let held = table.get(key)?.map(|v| decode::<Rating>(v.value())).transpose()?;
        if held.is_none_or(|h| h.clock < op.hlc) {
            let rating = Rating {
                artifact: *artifact,
                version: *version,
                skill: r.skill_id,
                rater,
                level: r.level,
                self_assessment: *self_assessment,
                clock: op.hlc,
            };
            table.insert(key, encode(&rating).as_slice())?;
        }
    }
    Ok(())
}

/// An activity a teacher posted: created once; its title, prompt, due date and skills each
/// last writer wins.
pub(super) fn activity(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
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
        Change::ActivityEdited { activity, class, title, prompt, due, skills } => {
            let mut activities = txn.open_table(ACTIVITY_ID_TO_ACTIVITY)?;
            let found = activities.get(activity.bytes())?.map(|v| decode::<Activity>(v.value())).transpose()?;
            // An edit naming another class than the activity's changes nothing (a forged one).
            let Some(mut a) = found.filter(|a| a.class == *class) else { return Ok(()) };
            if let Some(v) = title
                && newer(&mut a.field_clock, "title", op.hlc)
            {
                a.title = v.clone();
            }
            if let Some(v) = prompt
                && newer(&mut a.field_clock, "prompt", op.hlc)
            {
                a.prompt = v.clone();
            }
            if let Some(v) = due
                && newer(&mut a.field_clock, "due", op.hlc)
            {
                a.due = Some(v.clone()).filter(|d| !d.is_empty());
            }
            if let Some(v) = skills
                && newer(&mut a.field_clock, "skills", op.hlc)
            {
                a.skills = v.clone();
            }
            activities.insert(activity.bytes(), encode(&a).as_slice())?;
        }
        other => unreachable!("not a change of this record: {other:?}"),
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

/// Content changed: the work waits for a teacher again (unless a review came later).
fn withdraw_approval(a: &mut Artifact, hlc: Hlc) {
    if newer(&mut a.field_clock, "approved", hlc) {
        a.approved = false;
    }
    if newer(&mut a.field_clock, "reviewed", hlc) {
        a.reviewed = false;
    }
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
    let mut ratings = txn.open_table(ARTIFACT_VERSION_SKILL_RATER_TO_RATING)?;
    let keys: Vec<_> = ratings
        .range((id.bytes(), [0u8; 16], [0u8; 16], [0u8; 16])..=(id.bytes(), [0xff; 16], [0xff; 16], [0xff; 16]))?
        .map(|row| Ok(row?.0.value()))
        .collect::<Result<_, StoreError>>()?;
    for key in keys {
        ratings.remove(key)?;
    }
    drop(ratings);
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
