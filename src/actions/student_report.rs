//! One student's report: per skill their levels over time (teachers' ratings and their own),
//! how many pieces they posted each week, and the pieces with the most versions (growth
//! within one work).
//!
//! Who opens it: the student, a teacher of one of the student's classes, and a family linked
//! to the student when at least one of the student's classes lets families see ratings (and
//! shares work with families). Anyone else, an administrator included, gets 404: the
//! school's figures without names are the school report's, not this one.
//!
//! Inside, each piece of work counts only when the viewer may see it (the rule of
//! `work::visible`), and its ratings only when the viewer may see them (the rule of
//! `assessment::assessment`: a family sees only ratings of work in a class that allows it).
//! So a report never says more than the work pages would. It reads the contributions `apply`
//! keeps for each piece (`store::class_rows::contributions_of_owner`), which hold the facts
//! those rules need, not the work, its comments or its ratings.

use std::collections::BTreeMap;

use crate::domain::policy;
use crate::domain::skills::{Skill, levels_or_default};
use crate::domain::{ArtifactId, Role, User, UserId, VersionId};
use crate::error::{Error, Result};
use crate::store::{FactsCache, Queries, ReadTables, class_rows};

use super::assessment;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// The most weeks of posts a report lists (the latest): two school years.
pub const MAX_WEEKS: usize = 104;
/// How many pieces the "most versions" list holds.
pub const GROWTH_PIECES: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub at_ms: u64,
    pub level: u8,
    pub artifact: ArtifactId,
    pub version: VersionId,
    /// The student's own rating (otherwise a teacher's).
    pub self_assessment: bool,
}

#[derive(Clone, Debug)]
pub struct SkillSeries {
    pub skill: Skill,
    /// Oldest first.
    pub points: Vec<Point>,
}

#[derive(Clone, Debug)]
pub struct Growth {
    pub artifact: ArtifactId,
    pub title: String,
    pub versions: usize,
}

#[derive(Clone, Debug)]
pub struct StudentReport {
    pub student: User,
    pub skills: Vec<SkillSeries>,
    /// (Monday 00:00 UTC in ms, pieces posted that week), oldest first, weeks without posts
    /// included.
    pub weeks: Vec<(u64, usize)>,
    pub growth: Vec<Growth>,
    /// The titles of the work the viewer may open (what the points name).
    pub titles: BTreeMap<ArtifactId, String>,
    pub levels: Vec<String>,
    pub custom_levels: bool,
}

/// Monday 00:00 UTC of the week `ms` falls in.
pub fn week_start(ms: u64) -> u64 {
    let days = ms / DAY_MS;
    // 1970-01-01 was a Thursday: three days after a Monday.
    days.saturating_sub((days + 3) % 7) * DAY_MS
}

/// Whether `viewer` may open `student`'s report at all.
fn may_open(r: &impl ReadTables, viewer: &User, student: &User) -> Result<bool> {
    if viewer.disabled || viewer.school != student.school || student.role != Role::Student {
        return Ok(false);
    }
    if viewer.id == student.id || r.teaches(viewer.id, student.id)? {
        return Ok(true);
    }
    if viewer.role != Role::Family || !r.students_of_family(viewer.id)?.iter().any(|s| s.id == student.id) {
        return Ok(false);
    }
    let classes = r.classes_of(student.id)?;
    Ok(classes.iter().any(|(c, role)| *role == Role::Student && c.family_sees_ratings && c.family_sharing))
}

/// Whether `viewer` may open the report of the student `student` (false for anyone else).
pub fn may_open_report(r: &impl ReadTables, viewer: &User, student: UserId) -> Result<bool> {
    match r.user(student)? {
        Some(student) => may_open(r, viewer, &student),
        None => Ok(false),
    }
}

pub fn student_report(r: &impl ReadTables, viewer: &User, student: UserId) -> Result<StudentReport> {
    let Some(student) = r.user(student)? else { return Err(Error::NotFound) };
    if !may_open(r, viewer, &student)? {
        return Err(Error::NotFound);
    }
    let mut posts: BTreeMap<u64, usize> = BTreeMap::new();
    let mut series: BTreeMap<crate::domain::SkillId, Vec<Point>> = BTreeMap::new();
    let mut growth = Vec::new();
    let mut titles = BTreeMap::new();
    // The kept contributions of the student's live work (`store::class_rows`): each holds
    // what decides who sees it and its ratings, so no artifact, comment or rating is read.
    let mut pieces = class_rows::contributions_of_owner(r, student.id)?;
    // Newest first, so pieces alike in versions and title list the newest first.
    pieces.sort_by_key(|c| std::cmp::Reverse(c.created_ms));
    let mut cache = FactsCache::default();
    for c in pieces {
        let work = policy::Work {
            school: c.school,
            owners: &c.owners,
            class: c.class,
            approved: c.approved,
            deleted: false,
            visibility: c.visibility,
        };
        let facts = r.work_facts(viewer, work, &mut cache)?;
        // What `work::visible` and `assessment::assessment` decide for the work's own page.
        if !policy::can_view_artifact(viewer, &facts) {
            continue;
        }
        *posts.entry(week_start(c.created_ms)).or_default() += 1;
        growth.push(Growth { artifact: c.artifact, title: c.title.clone(), versions: c.versions.len() });
        titles.insert(c.artifact, c.title.clone());
        if !assessment::may_see_ratings(r, c.class, &facts)? {
            continue;
        }
        // A self-assessment counts only when it is this student's own (group work has others).
        for x in c.ratings.iter().filter(|x| !x.self_assessment || x.rater == student.id) {
            series.entry(x.skill).or_default().push(Point {
                at_ms: x.clock.ms,
                level: x.level,
                artifact: x.artifact,
                version: x.version,
                self_assessment: x.self_assessment,
            });
        }
    }
    growth.sort_by(|a, b| b.versions.cmp(&a.versions).then_with(|| a.title.cmp(&b.title)));
    growth.truncate(GROWTH_PIECES);
    let mut weeks = Vec::new();
    if let (Some(first), Some(last)) = (posts.keys().next(), posts.keys().next_back()) {
        let first = (*first).max(last.saturating_sub((MAX_WEEKS as u64 - 1) * 7 * DAY_MS));
        let mut week = first;
        while week <= *last {
            weeks.push((week, posts.get(&week).copied().unwrap_or(0)));
            week += 7 * DAY_MS;
        }
    }
    let mut skills = Vec::new();
    for skill in r.skills(student.school)? {
        if let Some(mut points) = series.remove(&skill.id) {
            points.sort_by_key(|p| (p.at_ms, p.self_assessment));
            skills.push(SkillSeries { skill, points });
        }
    }
    let scale = r.school(student.school)?.and_then(|s| s.levels);
    Ok(StudentReport {
        student,
        skills,
        weeks,
        growth,
        titles,
        custom_levels: scale.is_some(),
        levels: levels_or_default(&scale),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-06 is a Sunday; its week began on Monday 2026-11-30.
        let sunday_noon = 1_796_515_200_000 + 12 * 3_600_000;
        assert_eq!(week_start(sunday_noon), 1_795_996_800_000);
        assert_eq!(week_start(1_795_996_800_000), 1_795_996_800_000);
        assert_eq!(week_start(0), 0, "the first days of 1970 start at 0, not before");
    }
}
