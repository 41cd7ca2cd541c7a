//! Reports for teachers. So far the class report: per student what they posted in a window,
//! the feedback they received, the class's activities they answered and their skills'
//! latest ratings; per activity who answered; the class's median time from posting to first
//! feedback; students quiet for a number of days.
//!
//! Computed by reading the class's work when asked (issue #24 asks for counters kept by
//! `apply`; not done yet). The class's teachers and the school's leaders see it; anyone else 404.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::policy;
use crate::domain::skills::{Skill, levels_or_default};
use crate::domain::{ActivityId, Class, ClassId, CommentKind, Role, SkillId, User, UserId};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The window a report covers, in ms since 1970 (`to` excluded), and when a student counts
/// as quiet.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub from_ms: u64,
    pub to_ms: u64,
    pub quiet_days: u64,
    /// Now, for "quiet for N days".
    pub now_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillLine {
    pub skill: SkillId,
    /// The latest teacher rating of the student's work in the class.
    pub latest_level: Option<u8>,
    /// The student's latest rating of their own work.
    pub self_level: Option<u8>,
    /// How many teacher ratings there are.
    pub ratings: usize,
}

#[derive(Clone, Debug)]
pub struct StudentLine {
    pub user: User,
    pub artifacts: usize,
    pub versions: usize,
    pub last_posted_ms: Option<u64>,
    pub feedback_received: usize,
    pub activities_answered: usize,
    pub quiet: bool,
    pub skills: Vec<SkillLine>,
}

#[derive(Clone, Debug)]
pub struct ActivityLine {
    pub id: ActivityId,
    pub title: String,
    pub answered_by: Vec<UserId>,
}

#[derive(Clone, Debug)]
pub struct ClassReport {
    pub class: Class,
    pub window: Window,
    pub students: Vec<StudentLine>,
    pub activities: Vec<ActivityLine>,
    pub activities_total: usize,
    pub feedback_turnaround_ms: Option<u64>,
    /// The school's skills some student of the class was rated on, in the school's order.
    pub skills: Vec<Skill>,
    /// The names of the school's scale, lowest first, and whether the admins named them
    /// (otherwise they are the default scale's, which pages translate).
    pub levels: Vec<String>,
    pub custom_levels: bool,
}

/// The middle value (the lower of the two middle ones for an even count).
fn median(mut values: Vec<u64>) -> Option<u64> {
    values.sort_unstable();
    values.get(values.len().checked_sub(1)? / 2).copied()
}

pub fn class_report(r: &impl ReadTables, viewer: &User, class: ClassId, window: Window) -> Result<ClassReport> {
    let relation = r.relation(viewer.id, class)?;
    let may = |c: &Class| policy::can_read_class_report(viewer, c.school == viewer.school, relation);
    let Some(class) = r.class(class)?.filter(may) else {
        return Err(Error::NotFound);
    };
    let inside = |ms: u64| ms >= window.from_ms && ms < window.to_ms;
    let students: Vec<User> =
        r.members(class.id)?.into_iter().filter(|(_, role)| *role == Role::Student).map(|(u, _)| u).collect();
    let activities = r.activities_of_class(class.id)?;
    let mut lines: BTreeMap<UserId, StudentLine> = students
        .iter()
        .map(|u| {
            let line = StudentLine {
                user: u.clone(),
                artifacts: 0,
                versions: 0,
                last_posted_ms: None,
                feedback_received: 0,
                activities_answered: 0,
                quiet: false,
                skills: Vec::new(),
            };
            (u.id, line)
        })
        .collect();
    let mut answered: BTreeMap<ActivityId, BTreeSet<UserId>> = BTreeMap::new();
    // Per student and skill: (teacher ratings, latest teacher (clock, level), latest self).
    type Tally = (usize, Option<(crate::domain::Hlc, u8)>, Option<(crate::domain::Hlc, u8)>);
    let mut skills: BTreeMap<(UserId, SkillId), Tally> = BTreeMap::new();
    let mut turnarounds = Vec::new();
    for a in r.artifacts_in_class(class.id)?.into_iter().filter(|a| !a.deleted) {
        let comments = r.comments(a.id)?;
        let feedback: Vec<_> =
            comments.iter().filter(|c| c.kind == CommentKind::Feedback && !a.is_owner(c.author)).collect();
        if inside(a.created_ms)
            && let Some(first) = feedback.iter().map(|c| c.created_ms).min()
        {
            turnarounds.push(first.saturating_sub(a.created_ms));
        }
        let ratings = r.ratings(a.id)?;
        for owner in &a.owners {
            let Some(line) = lines.get_mut(owner) else { continue };
            if inside(a.created_ms) {
                line.artifacts += 1;
            }
            for v in a.versions.iter().filter(|v| v.created_ms < window.to_ms) {
                if inside(v.created_ms) {
                    line.versions += 1;
                }
                line.last_posted_ms = line.last_posted_ms.max(Some(v.created_ms));
            }
            line.feedback_received += feedback.iter().filter(|c| inside(c.created_ms)).count();
            if let Some(activity) = a.activity {
                answered.entry(activity).or_default().insert(*owner);
            }
            for rating in &ratings {
                let tally = skills.entry((*owner, rating.skill)).or_default();
                if rating.self_assessment {
                    if rating.rater == *owner && tally.2.is_none_or(|(at, _)| at < rating.clock) {
                        tally.2 = Some((rating.clock, rating.level));
                    }
                } else {
                    tally.0 += 1;
                    if tally.1.is_none_or(|(at, _)| at < rating.clock) {
                        tally.1 = Some((rating.clock, rating.level));
                    }
                }
            }
        }
    }
    let quiet_since = window.now_ms.min(window.to_ms).saturating_sub(window.quiet_days * DAY_MS);
    for line in lines.values_mut() {
        line.activities_answered = answered.values().filter(|who| who.contains(&line.user.id)).count();
        line.quiet = line.last_posted_ms.is_none_or(|ms| ms < quiet_since);
    }
    for ((student, skill), (count, latest, own)) in skills {
        if let Some(line) = lines.get_mut(&student) {
            line.skills.push(SkillLine {
                skill,
                latest_level: latest.map(|l| l.1),
                self_level: own.map(|l| l.1),
                ratings: count,
            });
        }
    }
    let mut students: Vec<StudentLine> = lines.into_values().collect();
    students.sort_by_key(|s| s.user.display_name.to_lowercase());
    let rated: BTreeSet<SkillId> = students.iter().flat_map(|s| s.skills.iter().map(|k| k.skill)).collect();
    let scale = r.school(class.school)?.and_then(|s| s.levels);
    Ok(ClassReport {
        skills: r.skills(class.school)?.into_iter().filter(|s| rated.contains(&s.id)).collect(),
        custom_levels: scale.is_some(),
        levels: levels_or_default(&scale),
        activities_total: activities.len(),
        activities: activities
            .into_iter()
            .map(|act| ActivityLine {
                answered_by: answered.get(&act.id).map(|s| s.iter().copied().collect()).unwrap_or_default(),
                id: act.id,
                title: act.title,
            })
            .collect(),
        feedback_turnaround_ms: median(turnarounds),
        class,
        window,
        students,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_of_nothing_is_none() {
        assert_eq!(super::median(vec![]), None);
        assert_eq!(super::median(vec![5, 1, 3]), Some(3));
        assert_eq!(super::median(vec![4, 1]), Some(1));
    }
}
