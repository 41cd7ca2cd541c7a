//! The reports' rows that `apply` keeps (`store::class_rows`, `store::weekly`) are what a pass
//! over every piece of work gives, on both boxes, after work, feedback, ratings changed and
//! overwritten, a new version, a deletion and an erasure, made on either box and synced.

use super::*;
use crate::domain::skills::{SkillLevel, code_key, derived_id};
use crate::domain::{Version, VersionId};
use crate::store::class_rows;

fn as_author(b: &Node, school: SchoolId, author: UserId, artifact: ArtifactId, change: Change) {
    let scope = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().partition();
    b.store.write(|tx| tx.record(school, scope, Some(author), change.clone())).unwrap();
}

fn rate(b: &Node, s: &School, artifact: ArtifactId, rater: UserId, code: &str, level: u8, own: bool) {
    let version = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().latest().unwrap().id;
    let skill_id = derived_id(s.id, &code_key(code));
    let change = Change::ArtifactRated {
        artifact,
        version,
        ratings: vec![SkillLevel { skill_id, level }],
        self_assessment: own,
    };
    as_author(b, s.id, rater, artifact, change);
}

/// Both ways, everything.
fn exchange(a: &Node, b: &Node, school: SchoolId) {
    let whole = Grant::whole_school(school);
    pull(&a.store, &b.store, &whole, small());
    pull(&b.store, &a.store, &whole, small());
}

fn check(b: &Node, what: &str) -> class_rows::Everything {
    let kept = b.store.read(class_rows::kept).unwrap();
    let scanned = b.store.read(class_rows::scanned).unwrap();
    assert_eq!(kept, scanned, "{what}: the rows apply kept differ from a pass over the work");
    kept
}

#[test]
fn the_rows_kept_for_the_reports_equal_a_pass_over_the_work_after_sync_ratings_deletion_and_erasure() {
    let (a, s, b, _) = school_and_copy(|s| Grant::whole_school(s.id));
    check(&a, "the school as made");
    check(&b, "the copy as pulled");

    // Group work of Ana and Cleo in X, which answers nothing, on box A.
    let group = ArtifactId::new();
    let work = Artifact {
        id: group,
        owners: vec![s.ana, s.cleo],
        ..crate::samples::artifact(s.id, s.ana, Some(s.x), "Our bridge", Vec::new())
    };
    a.record(s.id, Scope::Class(s.x), Change::ArtifactCreated { artifact: Box::new(work) });
    // Ratings on A: a teacher's, overwritten later; self-assessments by each owner.
    rate(&a, &s, s.ana_in_x, s.teacher_x, "FR.1", 2, false);
    rate(&a, &s, group, s.teacher_x, "FR.1", 1, false);
    rate(&a, &s, group, s.cleo, "FR.1", 4, true);
    rate(&a, &s, group, s.ana, "FR.2", 3, true);
    // A self-assessment by someone who does not own the work (a box may send one): Cleo's
    // erasure below removes it, and Ana's work must be counted again.
    rate(&a, &s, s.ana_in_x, s.cleo, "FR.2", 2, true);
    std::thread::sleep(std::time::Duration::from_millis(3));
    rate(&a, &s, s.ana_in_x, s.teacher_x, "FR.1", 3, false);

    // On box B meanwhile: a new version of Ana's work, feedback and a rating in Y, and Ben's
    // work deleted.
    let version = Version { id: VersionId::new(), note: "v2".into(), files: vec![], author: s.ana, created_ms: 5_000 };
    as_author(&b, s.id, s.ana, s.ana_in_x, Change::VersionAdded { artifact: s.ana_in_x, version });
    comment(&b, s.id, s.cleo_in_x, s.teacher_x, "Look at the key");
    rate(&b, &s, s.cleo_in_y, s.teacher_y, "FR.2", 4, false);
    rate(&b, &s, s.ben_in_y, s.teacher_y, "FR.2", 1, false);
    as_author(&b, s.id, s.teacher_y, s.ben_in_y, Change::ArtifactDeleted { artifact: s.ben_in_y });
    check(&a, "A before sync");
    check(&b, "B before sync");

    exchange(&a, &b, s.id);
    let before_erasure = check(&a, "A after sync");
    assert_eq!(before_erasure, check(&b, "B after sync"), "both boxes keep the same rows");
    // The rows hold what happened (so the comparison can fail): the overwritten rating is
    // gone, Cleo's self-assessment counts for her alone, the deleted work left nothing.
    let ana_fr1: Vec<_> = before_erasure
        .ratings
        .iter()
        .filter(|((c, who, skill, _), _)| *c == s.x && *who == s.ana && *skill == derived_id(s.id, &code_key("FR.1")))
        .map(|(_, level)| *level)
        .collect();
    assert_eq!(ana_fr1, [(1, false), (3, false)], "the group work's rating and the later of the two");
    assert!(before_erasure.ratings.iter().any(|((_, who, _, _), l)| *who == s.cleo && *l == (4, true)));
    assert!(!before_erasure.ratings.iter().any(|((_, who, _, _), l)| *who == s.ana && *l == (4, true)));
    assert!(!before_erasure.contributions.contains_key(&s.ben_in_y));
    assert!(before_erasure.events.keys().any(|(_, who, ms, _, id)| *who == s.ana && *ms == 5_000 && *id == s.ana_in_x));
    assert!(before_erasure.contributions.contains_key(&s.cleo_alone), "work in no class is kept for its student");

    // Cleo is erased on B: her work goes, the group work keeps Ana.
    b.record(s.id, Scope::School, Change::UserErased { user: s.cleo });
    check(&b, "B after the erasure");
    exchange(&a, &b, s.id);
    let after = check(&a, "A after the erasure arrived");
    assert_eq!(after, check(&b, "B after sync"));
    assert!(!after.events.keys().any(|(_, who, ..)| *who == s.cleo), "nothing of Cleo is counted");
    assert_eq!(after.contributions[&group].owners, [s.ana]);
    assert!(!after.contributions.contains_key(&s.cleo_in_x));
}
