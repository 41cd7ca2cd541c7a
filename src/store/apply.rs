//! Applying an operation to the tables. This is the only code that changes shared rows, and
//! it is the same for operations made here and operations that arrive from other boxes, so
//! each arm must be idempotent (applying an op twice changes nothing) and must merge by the
//! rules in DESIGN.md: last-writer-wins per field by HLC, add-wins memberships.

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode};
use super::tables::*;
use super::{Queries, StoreError};
use crate::domain::{
    Artifact, ArtifactId, Change, Class, Comment, FileRef, Hlc, Membership, Op, Role, School, User, UserId,
};

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// The operation is about an erased person and was not applied.
    RefusedErased,
}

pub fn apply(txn: &WriteTransaction, op: &Op) -> Result<Outcome, StoreError> {
    if !matches!(op.change, Change::UserErased { .. }) && about_erased_person(txn, op)? {
        // Erasure is final: nothing more about an erased person is stored, whatever arrives.
        return Ok(Outcome::RefusedErased);
    }
    // Found before applying: an erasure removes the very rows that say what it touches.
    let reindex = search_targets(txn, op)?;
    apply_change(txn, op)?;
    queue_for_search(txn, &reindex)?;
    Ok(Outcome::Applied)
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
                    require_approval: true,
                    comments_allowed: true,
                    field_clock: Default::default(),
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
                let mut m =
                    m.unwrap_or(Membership { role: Role::Family, added: Hlc::zero(op.hlc.replica), removed: None });
                m.removed = Some(m.removed.map_or(op.hlc, |r| r.max(op.hlc)));
                Some(m)
            })?;
        }
        Change::ArtifactCreated { artifact } => {
            let mut artifacts = txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?;
            if artifacts.get(artifact.id.bytes())?.is_some() {
                return Ok(());
            }
            artifacts.insert(artifact.id.bytes(), encode(artifact.as_ref()).as_slice())?;
            drop(artifacts);
            let id = artifact.id.bytes();
            let mut owners = txn.open_table(OWNER_ARTIFACT)?;
            for owner in &artifact.owners {
                owners.insert((owner.bytes(), id), 1)?;
            }
            if let Some(class) = artifact.class {
                txn.open_table(CLASS_ARTIFACT)?.insert((class.bytes(), id), 1)?;
            }
            if let Some(activity) = artifact.activity {
                txn.open_table(ACTIVITY_ARTIFACT)?.insert((activity.bytes(), id), 1)?;
            }
            for file in artifact.files() {
                reference_file(txn, file)?;
            }
            let mut versions = txn.open_table(VERSION_ID_TO_ARTIFACT_ID)?;
            for version in &artifact.versions {
                versions.insert(version.id.bytes(), id)?;
            }
        }
        Change::ArtifactEdited { artifact, title, reflection, tags, skills, visibility } => {
            update_record(txn, ARTIFACT_ID_TO_ARTIFACT, artifact.bytes(), |a: &mut Artifact| {
                if a.deleted {
                    return;
                }
                // Whether what classmates and families would see changed.
                let mut changed = false;
                if let Some(v) = title
                    && newer(&mut a.field_clock, "title", op.hlc)
                {
                    changed |= a.title != *v;
                    a.title = v.clone();
                }
                if let Some(v) = reflection {
                    if newer(&mut a.field_clock, "reflection", op.hlc) {
                        changed |= a.reflection != *v;
                        a.reflection = v.clone();
                    } else if *v != a.reflection && !a.reflection_conflicts.contains(v) {
                        // A concurrent edit that lost: kept, so its author can see and reuse it.
                        a.reflection_conflicts.push(v.clone());
                    }
                }
                if let Some(v) = tags
                    && newer(&mut a.field_clock, "tags", op.hlc)
                {
                    changed |= a.tags != *v;
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
                    changed |= *v > a.visibility;
                    a.visibility = *v;
                }
                a.updated_ms = a.updated_ms.max(op.hlc.ms);
                // What a teacher approved is what others see: new words or a wider audience go
                // back to the teacher first.
                if changed {
                    withdraw_approval(a, op.hlc);
                }
            })?;
        }
        Change::VersionAdded { artifact, version } => {
            let mut added = false;
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
                added = true;
            })?;
            if added {
                for file in &version.files {
                    reference_file(txn, file)?;
                }
                txn.open_table(VERSION_ID_TO_ARTIFACT_ID)?.insert(version.id.bytes(), artifact.bytes())?;
            }
        }
        Change::ArtifactReviewed { artifact, approved } => {
            update_record(txn, ARTIFACT_ID_TO_ARTIFACT, artifact.bytes(), |a: &mut Artifact| {
                a.reviewed = true;
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
            let live = match txn.artifact(comment.artifact)? {
                Some(a) => !a.deleted,
                None => false,
            };
            let mut comments = txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?;
            let key = (comment.artifact.bytes(), comment.id.bytes());
            if live && comments.get(key)?.is_none() {
                comments.insert(key, encode(comment).as_slice())?;
                drop(comments);
                txn.open_table(COMMENT_ID_TO_ARTIFACT_ID)?.insert(comment.id.bytes(), comment.artifact.bytes())?;
                if let Some(audio) = &comment.audio {
                    reference_file(txn, audio)?;
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
                    reference_file(txn, file)?;
                }
            }
        }
        Change::UserErased { user } => {
            erase_user(txn, *user, op.hlc)?;
        }
        Change::Redacted => {}
    }
    Ok(())
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

/// Content changed after a review: the work waits for a teacher again.
fn withdraw_approval(a: &mut Artifact, hlc: Hlc) {
    if newer(&mut a.field_clock, "approved", hlc) {
        a.approved = false;
    }
    a.reviewed = false;
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

/// Records that a file uses a blob (so the blob is kept), and queues a thumbnail for images.
fn reference_file(txn: &WriteTransaction, file: &FileRef) -> Result<(), StoreError> {
    txn.open_table(BLOB_HASH_FILE)?.insert((file.hash.as_str(), file.id.bytes()), 1)?;
    if file.content_type.starts_with("image/") && file.content_type != "image/svg+xml" {
        txn.open_table(THUMBNAIL_TODO)?.insert(file.hash.as_str(), file.content_type.as_str())?;
    }
    Ok(())
}

fn release_file(txn: &WriteTransaction, file: &FileRef) -> Result<(), StoreError> {
    txn.open_table(BLOB_HASH_FILE)?.remove((file.hash.as_str(), file.id.bytes()))?;
    Ok(())
}

/// Empties an artifact to a tombstone: its text, files and comments are gone; the id stays.
fn remove_artifact(txn: &WriteTransaction, id: crate::domain::ArtifactId) -> Result<(), StoreError> {
    let Some(artifact) = txn.artifact(id)? else { return Ok(()) };
    if artifact.deleted {
        return Ok(());
    }
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
    let tombstone = Artifact {
        title: String::new(),
        reflection: String::new(),
        tags: Default::default(),
        skills: Default::default(),
        versions: Vec::new(),
        reflection_conflicts: Vec::new(),
        deleted: true,
        ..artifact
    };
    txn.open_table(ARTIFACT_ID_TO_ARTIFACT)?.insert(id.bytes(), encode(&tombstone).as_slice())?;
    Ok(())
}

/// The people an operation is about (its author and its subjects).
fn people_in(op: &Op) -> Vec<UserId> {
    let mut people: Vec<UserId> = op.author.into_iter().collect();
    match &op.change {
        Change::UserCreated { user, .. }
        | Change::UserRenamed { user, .. }
        | Change::UserDisabled { user, .. }
        | Change::PasswordSet { user, .. }
        | Change::PicturesSet { user, .. }
        | Change::QrCardIssued { user, .. }
        | Change::MemberAdded { user, .. }
        | Change::MemberRemoved { user, .. } => people.push(*user),
        Change::FamilyLinked { family, student } | Change::FamilyUnlinked { family, student } => {
            people.extend([*family, *student])
        }
        Change::ArtifactCreated { artifact } => people.extend(artifact.owners.iter().copied()),
        Change::CommentAdded { comment } => people.push(comment.author),
        _ => {}
    }
    people
}

fn about_erased_person(txn: &WriteTransaction, op: &Op) -> Result<bool, StoreError> {
    let erased = txn.open_table(ERASED_USER_TO_HLC)?;
    for person in people_in(op) {
        if erased.get(person.bytes())?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Removes everything about a person and leaves a marker. Group work they shared stays with
/// the other students, without them.
fn erase_user(txn: &WriteTransaction, user: UserId, hlc: Hlc) -> Result<(), StoreError> {
    txn.open_table(ERASED_USER_TO_HLC)?.insert(user.bytes(), encode(&hlc).as_slice())?;
    let mut erased_artifacts = std::collections::HashSet::new();
    for artifact in txn.artifacts_of_owner(user)? {
        if artifact.owners.len() <= 1 {
            erased_artifacts.insert(artifact.id);
        }
        if artifact.owners.len() > 1 {
            update_record(txn, ARTIFACT_ID_TO_ARTIFACT, artifact.id.bytes(), |a: &mut Artifact| {
                a.owners.retain(|o| *o != user)
            })?;
            txn.open_table(OWNER_ARTIFACT)?.remove((user.bytes(), artifact.id.bytes()))?;
        } else {
            remove_artifact(txn, artifact.id)?;
        }
    }
    // Their comments on others' work.
    let theirs: Vec<Comment> = {
        let comments = txn.open_table(ARTIFACT_COMMENT_TO_COMMENT)?;
        let mut found = Vec::new();
        for row in comments.range::<(IdKey, IdKey)>(..)? {
            let (_, v) = row?;
            let c: Comment = decode(v.value())?;
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
    for (class, _) in txn.classes_of(user)? {
        txn.open_table(CLASS_USER_TO_MEMBERSHIP)?.remove((class.id.bytes(), user.bytes()))?;
        txn.open_table(USER_CLASS_TO_ROLE)?.remove((user.bytes(), class.id.bytes()))?;
    }
    for family in txn.families_of(user)? {
        txn.open_table(FAMILY_STUDENT_TO_LINK)?.remove((family.bytes(), user.bytes()))?;
        txn.open_table(STUDENT_FAMILY)?.remove((user.bytes(), family.bytes()))?;
    }
    for family in txn.students_of_family(user)? {
        txn.open_table(FAMILY_STUDENT_TO_LINK)?.remove((user.bytes(), family.id.bytes()))?;
        txn.open_table(STUDENT_FAMILY)?.remove((family.id.bytes(), user.bytes()))?;
    }
    redact_log(txn, user, &erased_artifacts)?;
    if let Some(person) = txn.user(user)? {
        txn.open_table(SCHOOL_USERNAME_TO_USER_ID)?.remove((person.school.bytes(), person.username.as_str()))?;
        if let Some(ext) = &person.external_id {
            txn.open_table(SCHOOL_EXTERNAL_ID_TO_ID)?
                .remove((person.school.bytes(), ExternalKind::User.key(ext).as_str()))?;
        }
        if let Some(card) = person.qr_token_hash.as_deref().and_then(hash_key) {
            txn.open_table(QR_TOKEN_HASH_TO_USER_ID)?.remove(card)?;
        }
        let stub = User {
            id: person.id,
            school: person.school,
            username: String::new(),
            display_name: "(erased)".into(),
            role: person.role,
            disabled: true,
            external_id: None,
            password_hash: None,
            pictures_hash: None,
            qr_token_hash: None,
            field_clock: Default::default(),
        };
        txn.open_table(USER_ID_TO_USER)?.insert(user.bytes(), encode(&stub).as_slice())?;
    }
    Ok(())
}

/// Empties the op log's entries about an erased person (their account, credentials, class
/// places, comments, and their own work), so the database file and sync carry nothing of
/// them any more. Entries keep their id, clock and scope.
fn redact_log(
    txn: &WriteTransaction,
    user: UserId,
    artifacts: &std::collections::HashSet<crate::domain::ArtifactId>,
) -> Result<(), StoreError> {
    let mut log = txn.open_table(OPLOG)?;
    let mut rewrite = Vec::new();
    for row in log.range::<(IdKey, u64)>(..)? {
        let (k, v) = row?;
        let op: Op = decode(v.value())?;
        if matches!(op.change, Change::Redacted | Change::UserErased { .. }) {
            continue;
        }
        let about_them = people_in(&op).contains(&user) || op.change.artifact().is_some_and(|a| artifacts.contains(&a));
        if about_them {
            rewrite.push((k.value(), Op { change: Change::Redacted, author: None, ..op }));
        }
    }
    for (key, op) in rewrite {
        log.insert(key, encode(&op).as_slice())?;
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
