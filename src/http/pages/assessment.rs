//! The rating controls of the review page and the work page: one select per skill of the work
//! (the skills it is tagged with, and any already rated), each at the viewer's own rating of
//! the latest version, with the other side's beside it (the student's self-assessment for a
//! teacher, the teacher's rating for the student). A plain form: it works without scripts.

use std::collections::BTreeSet;

use axum::extract::State;

use super::{PageForm, PageId, PageResult, PageUser, see_other};
use crate::actions::assessment::{self, NewRatings};
use crate::domain::skills::SkillLevel;
use crate::domain::{Artifact, ArtifactId, SkillId, User};
use crate::error::Error;
use crate::http::{AppState, parse_id};
use crate::store::{Queries, ReadTables};

pub struct RatingRow {
    pub skill_id: String,
    pub code: String,
    pub name: String,
    /// The viewer's own rating of the latest version (0: none).
    pub mine: u8,
    /// The other side's: the student's self-assessment (teachers) or the latest teacher
    /// rating (students) of the latest version (0: none).
    pub other: u8,
}

pub struct RatingPanel {
    /// (level, the admins' name or the default scale's key).
    pub levels: Vec<(u8, String)>,
    pub custom_levels: bool,
    pub rows: Vec<RatingRow>,
    /// The viewer is one of the work's students, assessing themselves.
    pub self_assess: bool,
}

/// The panel for `viewer`, or `None` when they may not see the work's ratings.
pub fn panel(r: &impl ReadTables, viewer: &User, artifact: &Artifact) -> Result<Option<RatingPanel>, Error> {
    let found = match assessment::assessment(r, viewer, artifact.id) {
        Ok(found) => found,
        Err(Error::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let self_assess = artifact.is_owner(viewer.id);
    let custom_levels = r.school(artifact.school)?.and_then(|s| s.levels).is_some();
    let names = if custom_levels { found.levels.clone() } else { super::skills::default_level_keys() };
    let levels = names.into_iter().enumerate().map(|(i, n)| (i as u8 + 1, n)).collect();
    let latest = artifact.latest().map(|v| v.id);
    let skills = r.skills(artifact.school)?;
    let rated: BTreeSet<SkillId> = found.ratings.iter().map(|x| x.skill).collect();
    let mut rows = Vec::new();
    for skill in skills.iter().filter(|s| (!s.retired && artifact.skills.contains(&s.code)) || rated.contains(&s.id)) {
        let on_latest = found.ratings.iter().filter(|x| x.skill == skill.id && Some(x.version) == latest);
        let mut mine = 0;
        let mut other = 0;
        for x in on_latest {
            if x.rater == viewer.id && x.self_assessment == self_assess {
                mine = x.level;
            } else if x.self_assessment != self_assess {
                // Oldest first: the last one seen is the latest.
                other = x.level;
            }
        }
        rows.push(RatingRow {
            skill_id: skill.id.to_string(),
            code: skill.code.clone(),
            name: skill.name.clone(),
            mine,
            other,
        });
    }
    Ok(Some(RatingPanel { levels, custom_levels, rows, self_assess }))
}

/// The ratings a form sent: `level-<skill id>` fields with a level; empty ones are skipped.
pub fn ratings_of(fields: &[(String, String)]) -> Result<Vec<SkillLevel>, Error> {
    let mut out = Vec::new();
    for (name, value) in fields {
        let Some(skill) = name.strip_prefix("level-") else { continue };
        if value.trim().is_empty() {
            continue;
        }
        let skill_id: SkillId = parse_id(skill)?;
        let level = value.trim().parse().map_err(|_| Error::Invalid(format!("\"{value}\" is not a level.")))?;
        out.push(SkillLevel { skill_id, level });
    }
    Ok(out)
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// The work page's rating form: a teacher rates, one of the work's students assesses
/// themselves.
pub async fn rate_from_page(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let ratings = ratings_of(&fields)?;
    if !ratings.is_empty() {
        let actor = me.0.user.clone();
        state
            .db(move |store| {
                let owner = store.read(|r| Ok::<_, Error>(r.artifact(id)?.is_some_and(|a| a.is_owner(actor.id))))?;
                let new = NewRatings { version: None, ratings, self_assessment: owner };
                assessment::rate(store, &actor, id, new)
            })
            .await?;
    }
    Ok(see_other(&format!("/work/{id}#ratings-h")))
}
