//! Work summaries (`domain::summary`) and the indexes made from them, kept by `apply` in each
//! operation's transaction, so the pages that list work (a portfolio, a student's home, the
//! review queue, comments waiting for a teacher) read one small record per piece instead of
//! decoding the artifact and every comment on it.
//!
//! Like the school report's counts (`store::weekly`), a summary is worked out again from the
//! rows as they stand whenever an operation touches the artifact, its comments or its owners
//! (an erasure), and the indexes move with it: a summary and its index rows are a function of
//! the rows, which are a function of the set of operations, so sync, deletion and erasure
//! leave them right on every box whatever order operations came in.
//!
//! - `ARTIFACT_TO_SUMMARY`: live work only; a tombstone or erased work has none.
//! - `OWNER_ARTIFACT_UNREVIEWED`: per owner, live work no teacher has looked at yet. The
//!   review queue reads it for the students of a teacher's classes, so it follows
//!   memberships as they are now without being touched when they change.
//! - `CLASS_ARTIFACT_HELD`: per class, live work with comments held for a teacher.

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode_compact};
use super::tables::{
    ARTIFACT_ID_TO_ARTIFACT, ARTIFACT_TO_SUMMARY, CLASS_ARTIFACT_HELD, CLASS_USER_TO_MEMBERSHIP, IdKey, OWNER_ARTIFACT,
    OWNER_ARTIFACT_UNREVIEWED, USER_CLASS_TO_ROLE,
};
use super::{Queries, ReadTables, StoreError};
use crate::domain::summary::Summary;
use crate::domain::{ArtifactId, ClassId, Comment, Membership, Role, UserId};

/// Works the summaries of `artifacts` out again, with their index rows.
pub(super) fn refresh(txn: &WriteTransaction, artifacts: &[ArtifactId]) -> Result<(), StoreError> {
    for id in artifacts {
        replace(txn, *id, summary(txn, *id)?, scanned(txn, *id)?)?;
    }
    Ok(())
}

/// Moves the summary of the work `comment` was just added to by that comment alone
/// (`Summary::with_comment`), or works it out again where none is kept.
pub(super) fn add_comment(txn: &WriteTransaction, comment: &Comment) -> Result<(), StoreError> {
    let id = comment.artifact;
    match summary(txn, id)? {
        Some(before) => replace(txn, id, Some(before.clone()), Some(before.with_comment(comment))),
        None => refresh(txn, &[id]),
    }
}

/// Keeps `now` as the summary of `id` in place of `before`, with the index rows.
fn replace(
    txn: &WriteTransaction,
    id: ArtifactId,
    before: Option<Summary>,
    now: Option<Summary>,
) -> Result<(), StoreError> {
    if before == now {
        return Ok(());
    }
    let key = id.bytes();
    if let Some(old) = &before {
        let mut unreviewed = txn.open_table(OWNER_ARTIFACT_UNREVIEWED)?;
        for owner in &old.owners {
            unreviewed.remove((owner.bytes(), key))?;
        }
        if let Some(class) = old.class {
            txn.open_table(CLASS_ARTIFACT_HELD)?.remove((class.bytes(), key))?;
        }
    }
    let mut table = txn.open_table(ARTIFACT_TO_SUMMARY)?;
    match &now {
        Some(new) => {
            table.insert(key, encode_compact(new).as_slice())?;
            if !new.reviewed {
                let mut unreviewed = txn.open_table(OWNER_ARTIFACT_UNREVIEWED)?;
                for owner in &new.owners {
                    unreviewed.insert((owner.bytes(), key), new.created_ms)?;
                }
            }
            if let Some(class) = new.class.filter(|_| new.held > 0) {
                txn.open_table(CLASS_ARTIFACT_HELD)?.insert((class.bytes(), key), new.held)?;
            }
        }
        None => {
            table.remove(key)?;
        }
    }
    Ok(())
}

/// The summary of an artifact worked out from its rows: what the kept one must equal.
pub fn scanned(r: &impl ReadTables, id: ArtifactId) -> Result<Option<Summary>, StoreError> {
    let Some(artifact) = r.artifact(id)? else { return Ok(None) };
    if artifact.deleted {
        return Ok(None);
    }
    Ok(Some(Summary::of(&artifact, &r.comments(id)?)))
}

/// The kept summary of live work.
pub fn summary(r: &impl ReadTables, id: ArtifactId) -> Result<Option<Summary>, StoreError> {
    r.table(ARTIFACT_TO_SUMMARY)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
}

fn ids(r: &impl ReadTables, rows: impl Iterator<Item = Result<IdKey, StoreError>>) -> Result<Vec<Summary>, StoreError> {
    let table = r.table(ARTIFACT_TO_SUMMARY)?;
    let mut found = Vec::new();
    for id in rows {
        if let Some(v) = table.get(id?)? {
            found.push(decode(v.value())?);
        }
    }
    Ok(found)
}

/// A student's live work, newest first (as `Queries::artifacts_of_owner` lists it).
pub fn of_owner(r: &impl ReadTables, owner: UserId) -> Result<Vec<Summary>, StoreError> {
    let o = owner.bytes();
    let index = r.table(OWNER_ARTIFACT)?;
    let rows = index.range((o, [0u8; 16])..=(o, [0xffu8; 16]))?.map(|row| Ok(row?.0.value().1));
    let mut found = ids(r, rows)?;
    found.sort_by_key(|s| std::cmp::Reverse(s.updated_ms));
    Ok(found)
}

/// Work no teacher has looked at yet, by the students of the classes `teacher` teaches,
/// oldest first: the review queue.
pub fn waiting_for_review(r: &impl ReadTables, teacher: UserId) -> Result<Vec<Summary>, StoreError> {
    let mut students = std::collections::BTreeSet::new();
    for class in taught(r, teacher)? {
        let c = class.bytes();
        for row in r.table(CLASS_USER_TO_MEMBERSHIP)?.range((c, [0u8; 16])..=(c, [0xffu8; 16]))? {
            let (k, v) = row?;
            let membership: Membership = decode(v.value())?;
            if membership.is_present() && membership.role == Role::Student {
                students.insert(k.value().1);
            }
        }
    }
    let mut waiting = std::collections::BTreeSet::new();
    let index = r.table(OWNER_ARTIFACT_UNREVIEWED)?;
    for s in students {
        for row in index.range((s, [0u8; 16])..=(s, [0xffu8; 16]))? {
            waiting.insert(row?.0.value().1);
        }
    }
    let mut found = ids(r, waiting.into_iter().map(Ok))?;
    found.sort_by_key(|s| (s.created_ms, s.id));
    Ok(found)
}

/// Live work in the classes `teacher` teaches with comments held for a teacher.
pub fn with_held_comments(r: &impl ReadTables, teacher: UserId) -> Result<Vec<ArtifactId>, StoreError> {
    let mut found = Vec::new();
    let index = r.table(CLASS_ARTIFACT_HELD)?;
    for class in taught(r, teacher)? {
        let c = class.bytes();
        for row in index.range((c, [0u8; 16])..=(c, [0xffu8; 16]))? {
            found.push(ArtifactId::from_bytes(row?.0.value().1));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// The classes `teacher` teaches, from the membership index alone.
fn taught(r: &impl ReadTables, teacher: UserId) -> Result<Vec<ClassId>, StoreError> {
    let t = teacher.bytes();
    let mut found = Vec::new();
    for row in r.table(USER_CLASS_TO_ROLE)?.range((t, [0u8; 16])..=(t, [0xffu8; 16]))? {
        let (k, v) = row?;
        if v.value() == Role::Teacher.as_str() {
            found.push(ClassId::from_bytes(k.value().1));
        }
    }
    Ok(found)
}

/// Fills the summaries for every artifact the box holds (the migration to schema 5).
pub(super) fn rebuild(txn: &WriteTransaction) -> Result<u64, StoreError> {
    let ids: Vec<ArtifactId> = txn
        .open_table(ARTIFACT_ID_TO_ARTIFACT)?
        .iter()?
        .map(|row| Ok(ArtifactId::from_bytes(row?.0.value())))
        .collect::<Result<_, StoreError>>()?;
    refresh(txn, &ids)?;
    Ok(ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Artifact, Change, Comment, CommentId, CommentKind, FileId, FileRef, Op, Role, SchoolId, Scope, Version,
        VersionId,
    };
    use crate::store::Store;
    use crate::store::tables::OPLOG;

    /// The three tables' rows as they stand.
    fn rows(r: &impl ReadTables) -> Result<Vec<String>, StoreError> {
        let mut rows = Vec::new();
        for row in r.table(ARTIFACT_TO_SUMMARY)?.iter()? {
            let (k, v) = row?;
            rows.push(format!("{:?} {:?}", k.value(), decode::<Summary>(v.value())?));
        }
        for row in r.table(OWNER_ARTIFACT_UNREVIEWED)?.iter()? {
            let (k, v) = row?;
            rows.push(format!("unreviewed {:?} {}", k.value(), v.value()));
        }
        for row in r.table(CLASS_ARTIFACT_HELD)?.iter()? {
            let (k, v) = row?;
            rows.push(format!("held {:?} {}", k.value(), v.value()));
        }
        Ok(rows)
    }

    fn kept_rows(store: &Store) -> Vec<String> {
        store.read(rows).unwrap()
    }

    /// What the tables hold when worked out from scratch from every artifact (the
    /// migration's way), in a transaction that is thrown away.
    fn from_scratch(store: &Store) -> Vec<String> {
        let txn = store.db.begin_write().unwrap();
        txn.delete_table(ARTIFACT_TO_SUMMARY).unwrap();
        txn.delete_table(OWNER_ARTIFACT_UNREVIEWED).unwrap();
        txn.delete_table(CLASS_ARTIFACT_HELD).unwrap();
        rebuild(&txn).unwrap();
        let found = rows(&txn).unwrap();
        txn.abort().unwrap();
        found
    }

    fn log(store: &Store) -> Vec<Op> {
        store
            .read(|r| {
                r.open_table(OPLOG)?.iter()?.map(|row| decode(row?.1.value())).collect::<Result<Vec<Op>, StoreError>>()
            })
            .unwrap()
    }

    fn comment(artifact: ArtifactId, author: UserId, kind: CommentKind, approved: bool, at: u64) -> Comment {
        Comment {
            id: CommentId::new(),
            artifact,
            version: None,
            author,
            kind,
            body: "Well built".into(),
            audio: None,
            approved,
            created_ms: at,
        }
    }

    fn picture() -> FileRef {
        FileRef {
            id: FileId::new(),
            name: "bridge.png".into(),
            size: 10,
            content_type: "image/png".into(),
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn kept_summaries_equal_summaries_from_scratch_after_sync_deletion_and_erasure() {
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (Store::open(dir_a.path()).unwrap(), Store::open(dir_b.path()).unwrap());
        let school = SchoolId::new();
        let (teacher, ana, ben) = (UserId::new(), UserId::new(), UserId::new());
        let class = ClassId::new();
        let rec = |store: &Store, author: Option<UserId>, change: Change| {
            let scope = match &change {
                Change::SchoolCreated { .. } | Change::UserErased { .. } => Scope::School,
                Change::UserCreated { user, .. } => Scope::Person(*user),
                _ => Scope::Class(class),
            };
            store.write(|tx| tx.record(school, scope, author, change.clone())).unwrap();
        };

        // Box A: the school, a class, two students' work with feedback and comments.
        rec(&a, None, Change::SchoolCreated { name: "Hillside".into() });
        for (user, name, role) in
            [(teacher, "t", Role::Teacher), (ana, "ana", Role::Student), (ben, "ben", Role::Student)]
        {
            let change =
                Change::UserCreated { user, username: name.into(), display_name: name.into(), role, external_id: None };
            rec(&a, None, change);
        }
        rec(&a, None, Change::ClassCreated { class, name: "X".into(), join_code: "JX".into(), external_id: None });
        rec(&a, None, Change::MemberAdded { class, user: teacher, role: Role::Teacher });
        for user in [ana, ben] {
            rec(&a, None, Change::MemberAdded { class, user, role: Role::Student });
        }
        let solo = crate::samples::artifact(school, ana, Some(class), "Bridge", vec![picture()]);
        let group = Artifact {
            owners: vec![ben, ana],
            ..crate::samples::artifact(school, ben, Some(class), "Tower", Vec::new())
        };
        let gone = crate::samples::artifact(school, ben, Some(class), "Boat", Vec::new());
        for work in [&solo, &group, &gone] {
            rec(&a, Some(work.owners[0]), Change::ArtifactCreated { artifact: Box::new(work.clone()) });
        }
        rec(
            &a,
            Some(teacher),
            Change::CommentAdded { comment: comment(solo.id, teacher, CommentKind::Feedback, true, 5) },
        );
        rec(&a, Some(teacher), Change::ArtifactReviewed { artifact: solo.id, approved: Some(true) });
        let held = comment(group.id, ana, CommentKind::Comment, false, 6);
        rec(&a, Some(ana), Change::CommentAdded { comment: held.clone() });
        rec(&a, Some(ben), Change::CommentAdded { comment: comment(solo.id, ben, CommentKind::Comment, false, 7) });
        rec(&a, Some(ben), Change::ArtifactDeleted { artifact: gone.id });

        // Box B takes A's operations newest first (each waits for its record), then adds a
        // version and feedback of its own, which A takes in.
        for op in log(&a).into_iter().rev() {
            b.write(|tx| tx.receive(&op)).unwrap();
        }
        let version =
            Version { id: VersionId::new(), note: "v2".into(), files: vec![picture()], author: ana, created_ms: 9 };
        rec(&b, Some(ana), Change::VersionAdded { artifact: group.id, version });
        rec(
            &b,
            Some(teacher),
            Change::CommentAdded { comment: comment(group.id, teacher, CommentKind::Feedback, true, 10) },
        );
        rec(&b, Some(teacher), Change::CommentApproved { artifact: group.id, comment: held.id });
        let ops_a = log(&a);
        for op in log(&b).into_iter().filter(|op| !ops_a.contains(op)) {
            a.write(|tx| tx.receive(&op)).unwrap();
        }
        assert_eq!(kept_rows(&a), kept_rows(&b), "both boxes keep the same summaries");
        let group_now = a.read(|r| summary(r, group.id)).unwrap().unwrap();
        assert_eq!((group_now.versions, group_now.held, group_now.comments), (2, 0, 1), "{group_now:?}");
        assert!(group_now.thumbnail.is_some(), "the new version's picture");
        assert!(a.read(|r| summary(r, gone.id)).unwrap().is_none(), "deleted work has none");
        let queue: Vec<ArtifactId> = a.read(|r| waiting_for_review(r, teacher)).unwrap().iter().map(|s| s.id).collect();
        assert_eq!(queue, [group.id], "the group work is not reviewed; ana's solo work is");
        assert_eq!(a.read(|r| with_held_comments(r, teacher)).unwrap(), [solo.id], "ben's comment waits");

        // Ben is erased: his comment goes, and the group work is ana's alone.
        rec(&a, None, Change::UserErased { user: ben });
        let solo_now = a.read(|r| summary(r, solo.id)).unwrap().unwrap();
        assert_eq!(solo_now.held, 0);
        assert!(a.read(|r| with_held_comments(r, teacher)).unwrap().is_empty());
        assert_eq!(a.read(|r| summary(r, group.id)).unwrap().unwrap().owners, [ana]);

        for store in [&a, &b] {
            let kept = kept_rows(store);
            assert!(kept.len() >= 2, "{kept:?}");
            assert_eq!(kept, from_scratch(store), "what apply kept is what a rebuild makes");
        }
    }
    /// Posting a comment moves the summary and the reports' rows by that comment alone: the
    /// others are not read (each comment used to decode all the comments before it, so
    /// comments on busy work slowed down without bound). An unreadable old comment proves it.
    #[test]
    fn a_comment_is_counted_without_reading_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, ana, teacher) = (SchoolId::new(), UserId::new(), UserId::new());
        let work = crate::samples::artifact(school, ana, None, "Bridge", vec![picture()]);
        let rec = |scope: Scope, author: Option<UserId>, change: Change| {
            store.write(|tx| tx.record(school, scope, author, change.clone())).unwrap();
        };
        rec(Scope::School, None, Change::SchoolCreated { name: "Hillside".into() });
        for (user, role) in [(ana, Role::Student), (teacher, Role::Teacher)] {
            let change = Change::UserCreated {
                user,
                username: format!("{user:?}"),
                display_name: "x".into(),
                role,
                external_id: None,
            };
            rec(Scope::Person(user), None, change);
        }
        rec(work.partition(), Some(ana), Change::ArtifactCreated { artifact: Box::new(work.clone()) });
        let first = comment(work.id, ana, CommentKind::Comment, true, 5);
        rec(work.partition(), Some(ana), Change::CommentAdded { comment: first.clone() });

        let txn = store.db.begin_write().unwrap();
        txn.open_table(crate::store::tables::ARTIFACT_COMMENT_TO_COMMENT)
            .unwrap()
            .insert((work.id.bytes(), first.id.bytes()), b"not a comment".as_slice())
            .unwrap();
        txn.commit().unwrap();

        rec(
            work.partition(),
            Some(teacher),
            Change::CommentAdded { comment: comment(work.id, teacher, CommentKind::Feedback, true, 6) },
        );
        rec(
            work.partition(),
            Some(ana),
            Change::CommentAdded { comment: comment(work.id, ana, CommentKind::Comment, false, 7) },
        );
        let kept = store.read(|r| summary(r, work.id)).unwrap().unwrap();
        assert_eq!((kept.comments, kept.held, kept.feedback), (1, 1, vec![(teacher, 6)]));
    }
}
