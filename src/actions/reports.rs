//! Reports for teachers. So far the class report: per student what they posted in a window,
//! the feedback they received, the class's activities they answered and their skills'
//! latest ratings; per activity who answered; the class's median time from posting to first
//! feedback; students quiet for a number of days.
//!
//! Read from the rows `apply` keeps (`store::class_rows`): a window is a range read per
//! student, so the report costs the same however much work the class has from before. The
//! class's teachers and the school's leaders see it; anyone else 404.

use std::collections::BTreeSet;

use crate::domain::policy;
use crate::domain::skills::{Skill, levels_or_default};
use crate::domain::{ActivityId, Class, ClassId, Role, SkillId, User, UserId};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, class_rows};

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
    let students: Vec<User> =
        r.members(class.id)?.into_iter().filter(|(_, role)| *role == Role::Student).map(|(u, _)| u).collect();
    let activities = r.activities_of_class(class.id)?;
    let mut answered = class_rows::answers(r, class.id)?;
    for who in answered.values_mut() {
        who.retain(|id| students.iter().any(|s| s.id == *id));
    }
    let mut tallies = class_rows::skill_tallies(r, class.id)?;
    let quiet_since = window.now_ms.min(window.to_ms).saturating_sub(window.quiet_days * DAY_MS);
    let mut lines = Vec::new();
    for user in students {
        let done = class_rows::student_window(r, class.id, user.id, window.from_ms, window.to_ms)?;
        let mine = tallies.remove(&user.id).unwrap_or_default();
        lines.push(StudentLine {
            artifacts: done.artifacts as usize,
            versions: done.versions as usize,
            last_posted_ms: done.last_posted_ms,
            feedback_received: done.feedback_received as usize,
            activities_answered: answered.values().filter(|who| who.contains(&user.id)).count(),
            quiet: done.last_posted_ms.is_none_or(|ms| ms < quiet_since),
            skills: mine
                .into_iter()
                .map(|(skill, t)| SkillLine {
                    skill,
                    latest_level: t.latest_level,
                    self_level: t.self_level,
                    ratings: t.ratings as usize,
                })
                .collect(),
            user,
        });
    }
    lines.sort_by_key(|s| s.user.display_name.to_lowercase());
    let rated: BTreeSet<SkillId> = lines.iter().flat_map(|s| s.skills.iter().map(|k| k.skill)).collect();
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
        feedback_turnaround_ms: median(class_rows::turnarounds(r, class.id, window.from_ms, window.to_ms)?),
        class,
        window,
        students: lines,
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
