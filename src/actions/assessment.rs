//! Rating work against the school's skills: teachers while reviewing, students their own
//! work (self-assessment), per version; and who sees the ratings. Each rating is an
//! operation (`Change::ArtifactRated`), so it syncs like the review it belongs to.
//!
//! Who sees: the work's teachers and its students always; its families only when the class
//! allows it (`Class::family_sees_ratings`); nobody else (classmates who see the work, an
//! administrator, a teacher of another class get the same 404 as for work they cannot see).

use std::collections::BTreeSet;

use crate::domain::policy::{self, ArtifactFacts};
use crate::domain::skills::{Rating, SkillLevel, levels_or_default};
use crate::domain::{Artifact, ArtifactId, Change, ClassId, User, VersionId};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, Store};

use super::work::visible;

/// Ratings to record: the version (the latest when none is named), and whether the author
/// rates their own work.
#[derive(Clone, Debug, Default)]
pub struct NewRatings {
    pub version: Option<VersionId>,
    pub ratings: Vec<SkillLevel>,
    pub self_assessment: bool,
}

/// An artifact's ratings as one viewer may see them, with the scale they are on.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub artifact: Artifact,
    pub ratings: Vec<Rating>,
    pub levels: Vec<String>,
}

fn is_teacher(f: &ArtifactFacts) -> bool {
    f.teaches_owner || f.class_teacher
}

/// Whether `viewer`, who can see the work (posted in `class`), may see its ratings.
pub(super) fn may_see_ratings(r: &impl ReadTables, class: Option<ClassId>, facts: &ArtifactFacts) -> Result<bool> {
    if facts.owner || is_teacher(facts) {
        return Ok(true);
    }
    if !facts.family {
        return Ok(false);
    }
    let class = class.map(|c| r.class(c)).transpose()?.flatten();
    Ok(class.is_some_and(|c| c.family_sees_ratings && c.family_sharing))
}

/// The ratings of a piece of work, if the viewer may see them (NotFound otherwise).
pub fn assessment(r: &impl ReadTables, viewer: &User, id: ArtifactId) -> Result<Assessment> {
    let (artifact, facts) = visible(r, viewer, id)?;
    if !may_see_ratings(r, artifact.class, &facts)? {
        return Err(Error::NotFound);
    }
    let levels = levels_or_default(&r.school(artifact.school)?.and_then(|s| s.levels));
    Ok(Assessment { ratings: r.ratings(id)?, levels, artifact })
}

/// Records ratings of one version: a teacher of the work's students (`self_assessment`
/// false) or one of its students (true). Every skill must be one of the school's, offered,
/// at a level of its scale.
pub fn rate(store: &Store, actor: &User, id: ArtifactId, new: NewRatings) -> Result<Assessment> {
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if new.self_assessment {
            if !policy::can_edit_artifact(actor, &facts) {
                return Err(Error::forbidden("Only the students whose work it is can assess it themselves."));
            }
        } else if !policy::can_review_artifact(actor, &facts) {
            return Err(Error::forbidden("Only the student's teachers can rate this work."));
        }
        let version = match new.version {
            Some(v) if artifact.versions.iter().any(|x| x.id == v) => v,
            Some(_) => return Err(Error::Invalid("That version is not one of this work's versions.".into())),
            None => {
                artifact.latest().map(|v| v.id).ok_or_else(|| Error::Invalid("This work has no version yet.".into()))?
            }
        };
        if new.ratings.is_empty() {
            return Err(Error::Invalid("Give at least one rating: a skill and a level.".into()));
        }
        let levels = levels_or_default(&tx.txn().school(artifact.school)?.and_then(|s| s.levels));
        let mut seen = BTreeSet::new();
        for r in &new.ratings {
            let skill = tx.txn().skill(artifact.school, r.skill_id)?.filter(|s| !s.retired);
            let Some(skill) = skill else {
                return Err(Error::Invalid(format!("{} is not one of the school's skills.", r.skill_id)));
            };
            if r.level == 0 || usize::from(r.level) > levels.len() {
                return Err(Error::Invalid(format!(
                    "A level is a number from 1 to {}; {} was given for \"{}\".",
                    levels.len(),
                    r.level,
                    skill.code
                )));
            }
            if !seen.insert(r.skill_id) {
                return Err(Error::Invalid(format!("\"{}\" is rated twice.", skill.code)));
            }
        }
        tx.record(
            artifact.school,
            artifact.partition(),
            Some(actor.id),
            Change::ArtifactRated {
                artifact: id,
                version,
                ratings: new.ratings.clone(),
                self_assessment: new.self_assessment,
            },
        )?;
        Ok(Assessment { ratings: tx.txn().ratings(id)?, levels, artifact })
    })
}
