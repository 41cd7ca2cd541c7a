//! The reports' numbers. The school report's: per class and per week (Monday 00:00 UTC; a box
//! may not know its time zone), the work posted, who posted, the feedback given, the time from
//! posting to the first teacher feedback and the teachers' ratings per level. The class
//! report's: per student the events of their work in the class (posted, versions, feedback
//! received) by time, the activities answered and every rating with its clock.
//!
//! Each piece of work *contributes* ([`contribution`], a function of the work, its comments
//! and its ratings as they stand). The counts and rows are the sum of the contributions, so
//! they can be kept up to date by taking a work's old contribution out and putting its new one
//! in whenever anything about it changes ([`WeekPart::add_to`] with `Sign::Minus`, then
//! `Sign::Plus`; [`Contribution::class_rows`] removed, then added): the store does that in
//! every operation's transaction, and the same sum made by reading every piece of work must
//! give the same counts and rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::skills::Rating;
use super::{
    ActivityId, Artifact, ArtifactId, ClassId, Comment, CommentKind, Hlc, SchoolId, SkillId, UserId, Visibility,
};

const DAY_MS: u64 = 86_400_000;
pub const WEEK_MS: u64 = 7 * DAY_MS;

/// The Monday 00:00 UTC starting the week a moment falls in, in ms since 1970.
pub fn week_start(ms: u64) -> u64 {
    let day = ms / DAY_MS;
    // 1970-01-01, day 0, was a Thursday: Monday is 0 in (day + 3) mod 7.
    // (The first days of 1970, before its first Monday, count in a week starting at 0.)
    day.saturating_sub((day + 3) % 7) * DAY_MS
}

/// What one piece of work adds to the reports: the school report's weeks of its class
/// ([`Contribution::week_part`]), the class report's rows ([`Contribution::class_rows`]) and
/// its students' reports (read whole). A pure function of the work, its comments and its
/// ratings as they stand ([`contribution`]); the store keeps the current one per artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub artifact: ArtifactId,
    pub school: SchoolId,
    pub class: Option<ClassId>,
    pub activity: Option<ActivityId>,
    pub created_ms: u64,
    /// Sorted, each once.
    pub owners: Vec<UserId>,
    pub title: String,
    pub visibility: Visibility,
    pub approved: bool,
    /// When each version was made, oldest first.
    pub versions: Vec<u64>,
    /// When each teacher feedback (by someone not among the owners) was given, oldest first.
    pub feedback: Vec<u64>,
    /// Every rating kept on it, teachers' and self-assessments, oldest first.
    pub ratings: Vec<Rating>,
}

/// What a piece of work adds to the counts of its class's weeks (the school report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekPart {
    pub school: SchoolId,
    pub class: ClassId,
    /// The week it was posted in.
    pub week: u64,
    pub owners: Vec<UserId>,
    /// From posting to the first feedback of a teacher (someone not among the owners), if any.
    pub turnaround_ms: Option<u64>,
    /// The week of each teacher feedback given on it.
    pub feedback_weeks: Vec<u64>,
    /// Each teacher rating kept on it: the week it was given in and its level.
    pub ratings: Vec<(u64, u8)>,
}

/// What a piece of work contributes: nothing once it is deleted.
pub fn contribution(artifact: &Artifact, comments: &[Comment], ratings: &[Rating]) -> Option<Contribution> {
    if artifact.deleted {
        return None;
    }
    let mut feedback: Vec<u64> =
        comments.iter().filter(|c| is_teacher_feedback(c, &artifact.owners)).map(|c| c.created_ms).collect();
    feedback.sort_unstable();
    let mut versions: Vec<u64> = artifact.versions.iter().map(|v| v.created_ms).collect();
    versions.sort_unstable();
    let mut ratings = ratings.to_vec();
    ratings.sort_by_key(|r| (r.clock, r.artifact, r.version, r.skill, r.rater));
    let mut owners = artifact.owners.clone();
    owners.sort();
    owners.dedup();
    Some(Contribution {
        artifact: artifact.id,
        school: artifact.school,
        class: artifact.class,
        activity: artifact.activity,
        created_ms: artifact.created_ms,
        owners,
        title: artifact.title.clone(),
        visibility: artifact.visibility,
        approved: artifact.approved,
        versions,
        feedback,
        ratings,
    })
}

/// Whether a comment is feedback from a teacher, someone not among the work's owners: what
/// the reports count.
fn is_teacher_feedback(comment: &Comment, owners: &[UserId]) -> bool {
    comment.kind == CommentKind::Feedback && !owners.contains(&comment.author)
}

impl Contribution {
    /// The contribution once `comment` is added to the work: the same as [`contribution`] of
    /// the work with all its comments, without reading the others (the store's way when a
    /// comment is posted). Only teachers' feedback counts.
    pub fn with_comment(mut self, comment: &Comment) -> Contribution {
        if is_teacher_feedback(comment, &self.owners) {
            let at = self.feedback.partition_point(|&ms| ms <= comment.created_ms);
            self.feedback.insert(at, comment.created_ms);
        }
        self
    }

    /// From posting to the first teacher feedback, if there is any.
    pub fn turnaround_ms(&self) -> Option<u64> {
        self.feedback.first().map(|first| first.saturating_sub(self.created_ms))
    }

    /// What it adds to its class's weeks (none for work posted in no class: the school
    /// report is per class).
    pub fn week_part(&self) -> Option<WeekPart> {
        let class = self.class?;
        let mut rated: Vec<(u64, u8)> =
            self.ratings.iter().filter(|r| !r.self_assessment).map(|r| (week_start(r.clock.ms), r.level)).collect();
        rated.sort_unstable();
        Some(WeekPart {
            school: self.school,
            class,
            week: week_start(self.created_ms),
            owners: self.owners.clone(),
            turnaround_ms: self.turnaround_ms(),
            feedback_weeks: self.feedback.iter().map(|ms| week_start(*ms)).collect(),
            ratings: rated,
        })
    }

    /// The class report's rows it makes (none for work posted in no class).
    pub fn class_rows(&self) -> ClassRows {
        let mut rows = ClassRows::default();
        let Some(class) = self.class else { return rows };
        let turnaround = self.turnaround_ms();
        if let Some(t) = turnaround {
            rows.turnaround = Some(((class, self.created_ms, self.artifact), t));
        }
        for owner in &self.owners {
            let mut event = |ms: u64, kind: Event| {
                *rows.events.entry((class, *owner, ms, kind as u8, self.artifact)).or_default() += 1;
            };
            event(self.created_ms, Event::Posted);
            for ms in &self.versions {
                event(*ms, Event::Version);
            }
            for ms in &self.feedback {
                event(*ms, Event::Feedback);
            }
            if let Some(activity) = self.activity {
                rows.answers.push((class, activity, *owner));
            }
            // A self-assessment counts for the student who made it (group work has others).
            for r in self.ratings.iter().filter(|r| !r.self_assessment || r.rater == *owner) {
                rows.ratings.insert((class, *owner, r.skill, r.clock), (r.level, r.self_assessment));
            }
        }
        rows
    }
}
/// What happened to a piece of work at a moment, for a student of its class: the class
/// report counts them in its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Event {
    Posted = 0,
    Version = 1,
    Feedback = 2,
}

/// Per class and student, one piece of work's events: (class, student, ms, `Event`, artifact)
/// -> how many (a version and its feedback may share a millisecond).
pub type EventKey = (ClassId, UserId, u64, u8, ArtifactId);
/// (class, student, skill, clock) -> (level, self-assessment): one rating of a student's work
/// in the class, for the student (a self-assessment only for the student who made it).
pub type RatingKey = (ClassId, UserId, SkillId, Hlc);

/// The class report's rows one piece of work makes; the store keeps their sum over the work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassRows {
    pub events: BTreeMap<EventKey, u64>,
    /// (class, posted at, artifact) -> from posting to the first teacher feedback.
    pub turnaround: Option<((ClassId, u64, ArtifactId), u64)>,
    /// (class, activity, student): the work answers the activity.
    pub answers: Vec<(ClassId, ActivityId, UserId)>,
    pub ratings: BTreeMap<RatingKey, (u8, bool)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    Plus,
    Minus,
}

/// One class's numbers for one week.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCounts {
    /// Pieces of work posted.
    pub posts: u64,
    /// Per student, how many of the week's posts are theirs (only those with some).
    pub posters: BTreeMap<UserId, u64>,
    /// Teacher feedback given.
    pub feedback: u64,
    /// The turnarounds of the week's posts that have feedback, smallest first.
    pub turnarounds: Vec<u64>,
    /// Teacher ratings given, per level.
    pub levels: BTreeMap<u8, u64>,
}

fn step(n: &mut u64, sign: Sign) {
    *n = match sign {
        Sign::Plus => n.saturating_add(1),
        Sign::Minus => n.saturating_sub(1),
    };
}

impl WeekCounts {
    /// Nothing counted: the row can go.
    pub fn is_empty(&self) -> bool {
        self.posts == 0 && self.feedback == 0 && self.turnarounds.is_empty() && self.levels.is_empty()
    }

    /// How many students posted.
    pub fn students_posted(&self) -> usize {
        self.posters.len()
    }

    /// The median turnaround (the lower middle one for an even count).
    pub fn median_turnaround_ms(&self) -> Option<u64> {
        self.turnarounds.get(self.turnarounds.len().checked_sub(1)? / 2).copied()
    }

    /// Sums two weeks' counts (for a class's whole window).
    pub fn merge(&mut self, other: &WeekCounts) {
        self.posts += other.posts;
        for (who, n) in &other.posters {
            *self.posters.entry(*who).or_default() += n;
        }
        self.feedback += other.feedback;
        self.turnarounds.extend(&other.turnarounds);
        self.turnarounds.sort_unstable();
        for (level, n) in &other.levels {
            *self.levels.entry(*level).or_default() += n;
        }
    }
}

impl WeekPart {
    /// Every week this contribution counts in, each once.
    pub fn weeks(&self) -> Vec<u64> {
        let mut weeks: Vec<u64> = std::iter::once(self.week)
            .chain(self.feedback_weeks.iter().copied())
            .chain(self.ratings.iter().map(|(w, _)| *w))
            .collect();
        weeks.sort_unstable();
        weeks.dedup();
        weeks
    }

    /// Adds (or takes out) this contribution to its class's counts, given per week start.
    pub fn add_to(&self, sign: Sign, weeks: &mut BTreeMap<u64, WeekCounts>) {
        let posted = weeks.entry(self.week).or_default();
        step(&mut posted.posts, sign);
        for owner in &self.owners {
            let n = posted.posters.entry(*owner).or_default();
            step(n, sign);
            if *n == 0 {
                posted.posters.remove(owner);
            }
        }
        if let Some(t) = self.turnaround_ms {
            let list = &mut posted.turnarounds;
            match (sign, list.binary_search(&t)) {
                (Sign::Plus, Ok(at) | Err(at)) => list.insert(at, t),
                (Sign::Minus, Ok(at)) => {
                    list.remove(at);
                }
                (Sign::Minus, Err(_)) => {}
            }
        }
        for w in &self.feedback_weeks {
            step(&mut weeks.entry(*w).or_default().feedback, sign);
        }
        for (w, level) in &self.ratings {
            let levels = &mut weeks.entry(*w).or_default().levels;
            let n = levels.entry(*level).or_default();
            step(n, sign);
            if *n == 0 {
                levels.remove(level);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_at_midnight_utc() {
        // 2026-12-07 is a Monday; 2026-12-13 the Sunday after it.
        let monday = crate::domain::calendar::start_of_day("2026-12-07").unwrap() as u64;
        let sunday_night = crate::domain::calendar::start_of_day("2026-12-13").unwrap() as u64 + DAY_MS - 1;
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday + 5), monday);
        assert_eq!(week_start(sunday_night), monday);
        assert_eq!(week_start(sunday_night + 1), monday + WEEK_MS);
        assert_eq!(week_start(4 * DAY_MS), 4 * DAY_MS, "1970-01-05 was a Monday");
    }

    #[test]
    fn taking_a_contribution_out_undoes_putting_it_in() {
        let (ana, ben) = (UserId::new(), UserId::new());
        let a = WeekPart {
            school: SchoolId::new(),
            class: ClassId::new(),
            week: WEEK_MS * 10,
            owners: vec![ana, ben],
            turnaround_ms: Some(3_000),
            feedback_weeks: vec![WEEK_MS * 10, WEEK_MS * 11],
            ratings: vec![(WEEK_MS * 11, 2), (WEEK_MS * 11, 3)],
        };
        let b = WeekPart { owners: vec![ana], turnaround_ms: Some(1_000), ratings: vec![], ..a.clone() };
        let mut weeks = BTreeMap::new();
        a.add_to(Sign::Plus, &mut weeks);
        b.add_to(Sign::Plus, &mut weeks);
        let first = &weeks[&(WEEK_MS * 10)];
        assert_eq!((first.posts, first.students_posted(), first.feedback), (2, 2, 2));
        assert_eq!(first.turnarounds, vec![1_000, 3_000]);
        assert_eq!(first.median_turnaround_ms(), Some(1_000));
        let second = &weeks[&(WEEK_MS * 11)];
        assert_eq!((second.posts, second.feedback), (0, 2));
        assert_eq!(second.levels, BTreeMap::from([(2, 1), (3, 1)]));
        a.add_to(Sign::Minus, &mut weeks);
        let mut only_b = BTreeMap::new();
        b.add_to(Sign::Plus, &mut only_b);
        weeks.retain(|_, c| !c.is_empty());
        only_b.retain(|_, c| !c.is_empty());
        assert_eq!(weeks, only_b);
        assert_eq!(a.weeks(), vec![WEEK_MS * 10, WEEK_MS * 11]);
    }
}
