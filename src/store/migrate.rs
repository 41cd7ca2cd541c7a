//! Moving a database written by an older folio forward, inside the transaction that opens it
//! (so a failure leaves the file as it was).
//!
//! **1 → 2** (sync). Schema 1 had no partition index or positions, filed teachers' and admins'
//! accounts and erasures under the school, and work under its first owner even when it was
//! posted in a class; its merge rules also depended on the order operations were applied in.
//! No schema-1 box ever synced, so its op log holds only its own history (and that of the box
//! it was restored from) and nothing of it has left the box: the migration files every
//! operation in its partition (`domain::partition`), fills in the facts edits now carry
//! (`needs_review`, `reflection_base`) exactly as the box that made them would have, and
//! rebuilds every shared table by replaying the log in clock order through `apply`. Local
//! tables (settings, sessions, "last seen") are kept. The replay also fills the version and
//! comment id indexes (`VERSION_ID_TO_ARTIFACT_ID`, `COMMENT_ID_TO_ARTIFACT_ID`) that
//! exactly-once sends check.
//!
//! **2 → 3** (skills with levels). Skills were a flat list of codes in the school record,
//! set by `SkillsSet`; they now live in `SCHOOL_SKILL_TO_SKILL`, and `apply` turns each code
//! of a `SkillsSet` into a skill named by its code, with an id derived from it. The migration
//! applies the log's `SkillsSet` operations again (applying twice changes nothing in the
//! school record), so the skills a version 2 box had are there, with the same ids every other
//! box makes for them, and work tagged with them keeps its skills.
//!
//! **3 → 4** (the school report's counts). `apply` now keeps per class and week the counts
//! of the school report (`store::weekly`); the migration works them out for every piece of
//! work already there, as `apply` would have.
//!
//! **4 → 5** (the class and student reports' rows). Each artifact's contribution now carries
//! what those reports read (and exists for work in no class too), and `apply` keeps the class
//! report's rows beside the counts (`store::class_rows`). The old contributions are written in
//! the old shape, so the migration empties the kept rows and works them all out again, as
//! `apply` would have. A version 3 file, which had no rows, takes the same step (it was
//! `from_v3`, the same rebuild).
//!
//! Also at **4 → 5** (work summaries). `apply` now keeps a summary of each piece of live work and
//! the review and held-comment indexes made from them (`store::summaries`); the migration
//! works them out for every artifact already there, as `apply` would have.

use redb::{ReadableTable, WriteTransaction};

use super::codec::decode;
use super::tables::*;
use super::{Queries, StoreError, apply, replication};
use crate::domain::Op;
use crate::domain::partition::{self, Rule};

pub(super) fn from_v1(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut ops: Vec<Op> = Vec::new();
    for row in txn.open_table(OPLOG)?.range::<(IdKey, u64)>(..)? {
        ops.push(decode(row?.1.value())?);
    }
    // One box's history: clock order is the order things happened in.
    ops.sort_by_key(|op| op.hlc);
    for table in ALL.iter().filter(|t| t.kind().rebuilt_from_log()) {
        table.delete(txn)?;
    }
    create_all(txn)?;
    for mut op in ops {
        apply::stamp_origin_facts(txn, &mut op.change)?;
        op.scope = match partition::rule(&op.change) {
            Rule::Is(scope) => scope,
            Rule::OfArtifact(artifact) => txn.artifact(artifact)?.map_or(op.scope, |a| a.partition()),
            Rule::Unchecked => op.scope,
        };
        replication::log(txn, &op)?;
        replication::advance(txn, op.school, op.scope, op.id.replica, op.id.seq)?;
        apply::apply_logged(txn, &op)?;
    }
    tracing::info!("moved the data to format 2 (sync)");
    Ok(())
}

pub(super) fn from_v2(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut lists: Vec<Op> = Vec::new();
    for row in txn.open_table(OPLOG)?.range::<(IdKey, u64)>(..)? {
        let op: Op = decode(row?.1.value())?;
        if matches!(op.change, crate::domain::Change::SkillsSet { .. }) {
            lists.push(op);
        }
    }
    for op in &lists {
        apply::apply_logged(txn, op)?;
    }
    tracing::info!(lists = lists.len(), "moved the data to format 3 (skills with levels)");
    Ok(())
}

/// The reports' rows, worked out from nothing: what a version 4 file needs, and a version 3
/// file too (it had none), so both go through this one step.
pub(super) fn from_v4(txn: &WriteTransaction) -> Result<(), StoreError> {
    let counted = super::weekly::rebuild(txn)?;
    tracing::info!(artifacts = counted, "moved the data to format 5 (the class and student reports' rows)");
    Ok(())
}

pub(super) fn summaries_from_v4(txn: &WriteTransaction) -> Result<(), StoreError> {
    let summarised = super::summaries::rebuild(txn)?;
    tracing::info!(artifacts = summarised, "moved the data to format 5 (work summaries)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Artifact, ArtifactId, Change, ClassId, Role, SchoolId, Scope, UserId, Visibility};
    use crate::store::{Store, codec::encode};

    /// Makes `store` what a folio of schema `version` left (`undo` takes away what that
    /// version did not have), then opens it again as today's folio does, which must bring it
    /// to today's schema.
    fn reopened_from(
        dir: &std::path::Path,
        store: Store,
        version: u32,
        undo: impl Fn(&WriteTransaction) -> Result<(), StoreError>,
    ) -> Store {
        store
            .write(|tx| {
                undo(tx.txn())?;
                tx.meta_set(super::super::META_SCHEMA_VERSION, version.to_be_bytes().as_slice())
            })
            .unwrap();
        drop(store);
        let store = Store::open(dir).unwrap();
        assert_eq!(store.meta(super::super::META_SCHEMA_VERSION).unwrap().unwrap(), SCHEMA_VERSION.to_be_bytes());
        store
    }

    /// A schema-2 store turned back into what schema 1 wrote: old partitions, edits without
    /// their stamped facts, no sync tables.
    fn downgrade(store: &Store) {
        store
            .write(|tx| {
                let txn = tx.txn();
                let mut log = txn.open_table(OPLOG)?;
                let mut old = Vec::new();
                for row in log.range::<(IdKey, u64)>(..)? {
                    let (k, v) = row?;
                    let mut op: Op = decode(v.value())?;
                    op.scope = match &op.change {
                        Change::ArtifactCreated { artifact } => Scope::Person(artifact.owners[0]),
                        Change::UserErased { user } => Scope::Person(*user),
                        Change::UserCreated { role, .. } if *role != crate::domain::Role::Student => Scope::School,
                        _ => op.scope,
                    };
                    if let Change::ArtifactEdited { reflection_base, needs_review, .. } = &mut op.change {
                        *reflection_base = None;
                        *needs_review = false;
                    }
                    old.push((k.value(), op));
                }
                for (k, op) in old {
                    log.insert(k, encode(&op).as_slice())?;
                }
                drop(log);
                txn.delete_table(SCHOOL_PARTITION_ORIGIN_SEQ)?;
                txn.delete_table(SCHOOL_PARTITION_ORIGIN_TO_SEQ)?;
                tx.meta_set(super::super::META_SCHEMA_VERSION, 1u32.to_be_bytes().as_slice())?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    /// A school with a teacher, a class, two students, work in the class edited a few times,
    /// and one student erased.
    fn sample(store: &Store) -> (SchoolId, UserId, ArtifactId, ClassId) {
        let school = SchoolId::new();
        let (teacher, ana, ben, class, artifact) =
            (UserId::new(), UserId::new(), UserId::new(), ClassId::new(), ArtifactId::new());
        let rec =
            |scope: Scope, change: Change| store.write(|tx| tx.record(school, scope, None, change.clone())).unwrap();
        rec(Scope::School, Change::SchoolCreated { name: "Hillside".into() });
        for (user, name, role) in
            [(teacher, "t", Role::Teacher), (ana, "ana", Role::Student), (ben, "ben", Role::Student)]
        {
            rec(
                Scope::Person(user),
                Change::UserCreated { user, username: name.into(), display_name: name.into(), role, external_id: None },
            );
        }
        rec(
            Scope::Class(class),
            Change::ClassCreated { class, name: "X".into(), join_code: "JX".into(), external_id: None },
        );
        for user in [teacher, ana, ben] {
            rec(Scope::Class(class), Change::MemberAdded { class, user, role: Role::Student });
        }
        for (id, owner) in [(artifact, ana), (ArtifactId::new(), ben)] {
            let work = Artifact {
                id,
                versions: Vec::new(),
                ..crate::samples::artifact(school, owner, Some(class), "Bridge", Vec::new())
            };
            rec(Scope::Class(class), Change::ArtifactCreated { artifact: Box::new(work) });
            for text in ["first", "second"] {
                rec(
                    Scope::Class(class),
                    Change::ArtifactEdited {
                        artifact: id,
                        title: Some(format!("Bridge {text}")),
                        reflection: Some(text.into()),
                        tags: None,
                        skills: None,
                        visibility: Some(Visibility::Class),
                        reflection_base: None,
                        needs_review: false,
                    },
                );
            }
            rec(Scope::Class(class), Change::ArtifactReviewed { artifact: id, approved: Some(true) });
        }
        rec(Scope::School, Change::UserErased { user: ben });
        (school, ana, artifact, class)
    }

    #[test]
    fn a_schema_1_database_is_moved_forward_with_the_same_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, student, artifact, class) = sample(&store);
        let before = store.canonical_dump().unwrap();
        let positions = store.read(|r| crate::store::SyncReads::positions(r, school)).unwrap();
        downgrade(&store);
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.meta(super::super::META_SCHEMA_VERSION).unwrap().unwrap(), SCHEMA_VERSION.to_be_bytes());
        assert_eq!(store.canonical_dump().unwrap(), before);
        assert_eq!(store.read(|r| crate::store::SyncReads::positions(r, school)).unwrap(), positions);
        let a = store.read(|r| r.artifact(artifact)).unwrap().unwrap();
        assert_eq!(a.partition(), Scope::Class(class));
        assert!(store.read(|r| r.user(student)).unwrap().is_some());
    }

    #[test]
    fn a_schema_2_database_gets_its_flat_skill_lists_as_skills() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, student, artifact, _) = sample(&store);
        let list = |skills: &[&str]| Change::SkillsSet { skills: skills.iter().map(|s| s.to_string()).collect() };
        for skills in [&["Collaboration", "Creativity"][..], &["Collaboration"][..]] {
            store.write(|tx| tx.record(school, Scope::School, None, list(skills))).unwrap();
        }
        let before = store.canonical_dump().unwrap();
        // What a version 2 folio left: no skills table rows, schema 2.
        store
            .write(|tx| {
                tx.txn().delete_table(SCHOOL_SKILL_TO_SKILL)?;
                tx.meta_set(super::super::META_SCHEMA_VERSION, 2u32.to_be_bytes().as_slice())?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.meta(super::super::META_SCHEMA_VERSION).unwrap().unwrap(), SCHEMA_VERSION.to_be_bytes());
        let skills = store.read(|r| r.skills(school)).unwrap();
        let codes: Vec<&str> = skills.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["Collaboration", "Creativity"], "every code a list ever held, named by itself");
        let id = crate::domain::skills::derived_id(school, &crate::domain::skills::code_key("Collaboration"));
        assert_eq!(skills[0].id, id, "the id every box derives from the code");
        assert_eq!(store.canonical_dump().unwrap(), before, "the same rows as applying the lists made");
        assert!(store.read(|r| r.artifact(artifact)).unwrap().is_some());
        assert!(store.read(|r| r.user(student)).unwrap().is_some());
    }

    #[test]
    fn a_schema_3_database_gets_the_school_report_s_counts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, _, artifact, class) = sample(&store);
        let teacher = store.read(|r| r.members(class)).unwrap().into_iter().find(|(u, _)| u.username == "t").unwrap().0;
        let feedback = crate::domain::Comment {
            id: crate::domain::CommentId::new(),
            artifact,
            version: None,
            author: teacher.id,
            kind: crate::domain::CommentKind::Feedback,
            body: "Well built".into(),
            audio: None,
            approved: true,
            created_ms: crate::domain::hlc::wall_clock_ms(),
        };
        store
            .write(|tx| {
                tx.record(
                    school,
                    Scope::Class(class),
                    Some(teacher.id),
                    Change::CommentAdded { comment: feedback.clone() },
                )
            })
            .unwrap();
        let before = store.canonical_dump().unwrap();
        let counts = store.read(|r| crate::store::weekly::kept(r, school, 0, u64::MAX)).unwrap();
        let weeks = counts[&class].values();
        let (posts, feedback) = weeks.fold((0, 0), |(p, f), w| (p + w.posts, f + w.feedback));
        assert_eq!((posts, feedback), (1, 1), "ana's work (ben's went with him) and its feedback");
        // What a version 3 folio left: no counts, schema 3.
        let store = reopened_from(dir.path(), store, 3, |txn| {
            txn.delete_table(SCHOOL_CLASS_WEEK_TO_COUNTS)?;
            txn.delete_table(ARTIFACT_TO_CONTRIBUTION)?;
            Ok(())
        });
        assert_eq!(store.read(|r| crate::store::weekly::kept(r, school, 0, u64::MAX)).unwrap(), counts);
        assert_eq!(store.read(|r| crate::store::weekly::scanned(r, school)).unwrap(), counts);
        assert_eq!(store.canonical_dump().unwrap(), before, "the same rows as apply kept");
    }

    #[test]
    fn a_schema_4_database_gets_the_class_and_student_reports_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (school, ana, artifact, class) = sample(&store);
        let teacher = store.read(|r| r.members(class)).unwrap().into_iter().find(|(u, _)| u.username == "t").unwrap().0;
        let version = store.read(|r| r.artifact(artifact)).unwrap().unwrap().versions.first().map(|v| v.id);
        let rated = Change::ArtifactRated {
            artifact,
            version: version.unwrap_or_default(),
            ratings: vec![crate::domain::skills::SkillLevel { skill_id: crate::domain::SkillId::new(), level: 3 }],
            self_assessment: false,
        };
        store.write(|tx| tx.record(school, Scope::Class(class), Some(teacher.id), rated.clone())).unwrap();
        let before = store.canonical_dump().unwrap();
        let rows = store.read(crate::store::class_rows::kept).unwrap();
        assert_eq!(rows.ratings.len(), 1, "the rating is kept for ana: {rows:?}");
        assert!(rows.events.keys().any(|(_, who, ..)| *who == ana));
        // What a version 4 folio left: none of the class report's rows, a contribution in the
        // old shape, schema 4.
        let store = reopened_from(dir.path(), store, 4, |txn| {
            txn.delete_table(CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT)?;
            txn.delete_table(CLASS_MS_ARTIFACT_TO_TURNAROUND)?;
            txn.delete_table(CLASS_ACTIVITY_STUDENT_TO_ANSWERS)?;
            txn.delete_table(CLASS_STUDENT_SKILL_HLC_TO_LEVEL)?;
            let old = serde_json::json!({
                "school": school, "class": class, "week": 0, "owners": [ana],
                "turnaround_ms": null, "feedback_weeks": [], "ratings": [[0, 3]]
            });
            txn.open_table(ARTIFACT_TO_CONTRIBUTION)?.insert(artifact.bytes(), encode(&old).as_slice())?;
            Ok(())
        });
        assert_eq!(store.read(crate::store::class_rows::kept).unwrap(), rows);
        assert_eq!(store.read(crate::store::class_rows::scanned).unwrap(), rows);
        assert_eq!(store.canonical_dump().unwrap(), before, "the same rows as apply kept");
    }

    #[test]
    fn a_schema_4_database_gets_its_work_summaries() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (_, student, artifact, _) = sample(&store);
        let before = store.canonical_dump().unwrap();
        let kept = store.read(|r| crate::store::summaries::of_owner(r, student)).unwrap();
        assert_eq!(kept.iter().map(|s| s.id).collect::<Vec<_>>(), [artifact]);
        // What a version 4 folio left: no summaries, schema 4.
        let store = reopened_from(dir.path(), store, 4, |txn| {
            txn.delete_table(ARTIFACT_TO_SUMMARY)?;
            txn.delete_table(OWNER_ARTIFACT_UNREVIEWED)?;
            txn.delete_table(CLASS_ARTIFACT_HELD)?;
            Ok(())
        });
        assert_eq!(store.read(|r| crate::store::summaries::of_owner(r, student)).unwrap(), kept);
        assert_eq!(store.canonical_dump().unwrap(), before, "the same rows as apply kept");
    }
}
