//! The class report's rows, kept by `apply` beside the school report's counts
//! (`store::weekly::refresh` moves them by the difference of an artifact's contributions):
//! per student the events of their work in a class by time, the turnaround of each piece by
//! when it was posted, the activities answered, and every rating by its clock. A report's
//! window is then a range read per student; nothing reads the work, its comments or ratings.

use std::collections::{BTreeMap, BTreeSet};

use redb::{ReadableTable, WriteTransaction};

use super::codec::decode;
use super::tables::{
    ARTIFACT_ID_TO_ARTIFACT, ARTIFACT_TO_CONTRIBUTION, CLASS_ACTIVITY_STUDENT_TO_ANSWERS,
    CLASS_MS_ARTIFACT_TO_TURNAROUND, CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT, CLASS_STUDENT_SKILL_HLC_TO_LEVEL, IdKey,
    SCHOOL_CLASS_WEEK_TO_COUNTS,
};
use super::{Queries, ReadTables, StoreError};
use crate::domain::weekly::{ClassRows, Contribution, Event, EventKey, RatingKey, Sign, WeekCounts, contribution};
use crate::domain::{ActivityId, ArtifactId, ClassId, Hlc, ReplicaId, SchoolId, SkillId, UserId};

const SELF_MARK: u16 = 256;
const LO: IdKey = [0u8; 16];
const HI: IdKey = [0xffu8; 16];

/// Adds (or takes out) one artifact's rows.
pub(super) fn put(txn: &WriteTransaction, rows: &ClassRows, sign: Sign) -> Result<(), StoreError> {
    let mut events = txn.open_table(CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT)?;
    for ((class, student, ms, event, artifact), n) in &rows.events {
        let key = (class.bytes(), student.bytes(), *ms, *event, artifact.bytes());
        match sign {
            Sign::Plus => events.insert(key, *n)?,
            Sign::Minus => events.remove(key)?,
        };
    }
    drop(events);
    if let Some(((class, at, artifact), turnaround)) = rows.turnaround {
        let mut table = txn.open_table(CLASS_MS_ARTIFACT_TO_TURNAROUND)?;
        let key = (class.bytes(), at, artifact.bytes());
        match sign {
            Sign::Plus => table.insert(key, turnaround)?,
            Sign::Minus => table.remove(key)?,
        };
    }
    let mut answers = txn.open_table(CLASS_ACTIVITY_STUDENT_TO_ANSWERS)?;
    for (class, activity, student) in &rows.answers {
        let key = (class.bytes(), activity.bytes(), student.bytes());
        let held = answers.get(key)?.map_or(0, |v| v.value());
        let now = match sign {
            Sign::Plus => held.saturating_add(1),
            Sign::Minus => held.saturating_sub(1),
        };
        if now == 0 {
            answers.remove(key)?;
        } else {
            answers.insert(key, now)?;
        }
    }
    drop(answers);
    let mut ratings = txn.open_table(CLASS_STUDENT_SKILL_HLC_TO_LEVEL)?;
    for (key, (level, own)) in &rows.ratings {
        match sign {
            Sign::Plus => ratings.insert(rating_key(key), u16::from(*level) + if *own { SELF_MARK } else { 0 })?,
            Sign::Minus => ratings.remove(rating_key(key))?,
        };
    }
    Ok(())
}

fn rating_key((class, student, skill, at): &RatingKey) -> (IdKey, IdKey, IdKey, u64, u32, IdKey) {
    (class.bytes(), student.bytes(), skill.bytes(), at.ms, at.counter, at.replica.bytes())
}

/// One student's work in a class within a window (`to` excluded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StudentWindow {
    pub artifacts: u64,
    pub versions: u64,
    pub feedback_received: u64,
    /// The latest version made before the window's end.
    pub last_posted_ms: Option<u64>,
}

/// What `student` did in `class` in `[from, to)`.
pub fn student_window(
    r: &impl ReadTables,
    class: ClassId,
    student: UserId,
    from: u64,
    to: u64,
) -> Result<StudentWindow, StoreError> {
    let (c, s) = (class.bytes(), student.bytes());
    let table = r.table(CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT)?;
    let mut found = StudentWindow::default();
    // An empty window (`from` at or after `to`) counts nothing; a range may not run backwards.
    for row in table.range((c, s, from.min(to), 0u8, LO)..(c, s, to, 0u8, LO))? {
        let (k, v) = row?;
        let n = v.value();
        match k.value().3 {
            e if e == Event::Posted as u8 => found.artifacts += n,
            e if e == Event::Version as u8 => found.versions += n,
            _ => found.feedback_received += n,
        }
    }
    // Newest first, back from the window's end to the latest version.
    for row in table.range((c, s, 0u64, 0u8, LO)..(c, s, to, 0u8, LO))?.rev() {
        let (_, _, ms, event, _) = row?.0.value();
        if event == Event::Version as u8 {
            found.last_posted_ms = Some(ms);
            break;
        }
    }
    Ok(found)
}

/// The turnarounds of the class's work posted in `[from, to)` that has teacher feedback.
pub fn turnarounds(r: &impl ReadTables, class: ClassId, from: u64, to: u64) -> Result<Vec<u64>, StoreError> {
    let c = class.bytes();
    r.table(CLASS_MS_ARTIFACT_TO_TURNAROUND)?
        .range((c, from.min(to), LO)..(c, to, LO))?
        .map(|row| Ok(row?.1.value()))
        .collect()
}

/// Per activity, the students whose work in the class answers it.
pub fn answers(r: &impl ReadTables, class: ClassId) -> Result<BTreeMap<ActivityId, BTreeSet<UserId>>, StoreError> {
    let c = class.bytes();
    let mut found: BTreeMap<ActivityId, BTreeSet<UserId>> = BTreeMap::new();
    for row in r.table(CLASS_ACTIVITY_STUDENT_TO_ANSWERS)?.range((c, LO, LO)..=(c, HI, HI))? {
        let (_, activity, student) = row?.0.value();
        found.entry(ActivityId::from_bytes(activity)).or_default().insert(UserId::from_bytes(student));
    }
    Ok(found)
}

/// A student's ratings on one skill in a class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkillTally {
    /// How many teacher ratings.
    pub ratings: u64,
    /// The latest teacher rating's level.
    pub latest_level: Option<u8>,
    /// The student's latest rating of their own work.
    pub self_level: Option<u8>,
}

/// Per student and skill, the ratings of their work in the class.
pub fn skill_tallies(
    r: &impl ReadTables,
    class: ClassId,
) -> Result<BTreeMap<UserId, BTreeMap<SkillId, SkillTally>>, StoreError> {
    let c = class.bytes();
    let mut found: BTreeMap<UserId, BTreeMap<SkillId, SkillTally>> = BTreeMap::new();
    let table = r.table(CLASS_STUDENT_SKILL_HLC_TO_LEVEL)?;
    // Oldest first within each student and skill: the last row seen is the latest.
    for row in table.range((c, LO, LO, 0u64, 0u32, LO)..=(c, HI, HI, u64::MAX, u32::MAX, HI))? {
        let (k, v) = row?;
        let (_, student, skill, ..) = k.value();
        let tally =
            found.entry(UserId::from_bytes(student)).or_default().entry(SkillId::from_bytes(skill)).or_default();
        let value = v.value();
        let level = (value % SELF_MARK) as u8;
        if value >= SELF_MARK {
            tally.self_level = Some(level);
        } else {
            tally.ratings += 1;
            tally.latest_level = Some(level);
        }
    }
    Ok(found)
}

/// The contributions of a student's live work (the student report's rows).
pub fn contributions_of_owner(r: &impl ReadTables, owner: UserId) -> Result<Vec<Contribution>, StoreError> {
    let kept = r.table(ARTIFACT_TO_CONTRIBUTION)?;
    let mut found = Vec::new();
    for id in r.ids_under(super::tables::OWNER_ARTIFACT, owner.bytes())? {
        if let Some(v) = kept.get(id)? {
            found.push(decode(v.value())?);
        }
    }
    Ok(found)
}

/// Every row the reports keep, as one value: what [`kept`] reads and [`scanned`] works out
/// from the work must be equal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Everything {
    pub contributions: BTreeMap<ArtifactId, Contribution>,
    pub weeks: BTreeMap<(SchoolId, ClassId, u64), WeekCounts>,
    pub events: BTreeMap<EventKey, u64>,
    pub turnarounds: BTreeMap<(ClassId, u64, ArtifactId), u64>,
    pub answers: BTreeMap<(ClassId, ActivityId, UserId), u64>,
    pub ratings: BTreeMap<RatingKey, (u8, bool)>,
}

/// Every report row `apply` kept, in every school.
pub fn kept(r: &impl ReadTables) -> Result<Everything, StoreError> {
    let mut all = Everything::default();
    for row in r.table(ARTIFACT_TO_CONTRIBUTION)?.iter()? {
        let (k, v) = row?;
        all.contributions.insert(ArtifactId::from_bytes(k.value()), decode(v.value())?);
    }
    for row in r.table(SCHOOL_CLASS_WEEK_TO_COUNTS)?.iter()? {
        let (k, v) = row?;
        let (school, class, week) = k.value();
        all.weeks.insert((SchoolId::from_bytes(school), ClassId::from_bytes(class), week), decode(v.value())?);
    }
    for row in r.table(CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT)?.iter()? {
        let (k, v) = row?;
        let (class, student, ms, event, artifact) = k.value();
        let key =
            (ClassId::from_bytes(class), UserId::from_bytes(student), ms, event, ArtifactId::from_bytes(artifact));
        all.events.insert(key, v.value());
    }
    for row in r.table(CLASS_MS_ARTIFACT_TO_TURNAROUND)?.iter()? {
        let (k, v) = row?;
        let (class, at, artifact) = k.value();
        all.turnarounds.insert((ClassId::from_bytes(class), at, ArtifactId::from_bytes(artifact)), v.value());
    }
    for row in r.table(CLASS_ACTIVITY_STUDENT_TO_ANSWERS)?.iter()? {
        let (k, v) = row?;
        let (class, activity, student) = k.value();
        let key = (ClassId::from_bytes(class), ActivityId::from_bytes(activity), UserId::from_bytes(student));
        all.answers.insert(key, v.value());
    }
    for row in r.table(CLASS_STUDENT_SKILL_HLC_TO_LEVEL)?.iter()? {
        let (k, v) = row?;
        let (class, student, skill, ms, counter, replica) = k.value();
        let at = Hlc { ms, counter, replica: ReplicaId(uuid::Uuid::from_bytes(replica)) };
        let key = (ClassId::from_bytes(class), UserId::from_bytes(student), SkillId::from_bytes(skill), at);
        let value = v.value();
        all.ratings.insert(key, ((value % SELF_MARK) as u8, value >= SELF_MARK));
    }
    Ok(all)
}

/// The same rows worked out from scratch by reading every piece of work with its comments and
/// ratings.
pub fn scanned(r: &impl ReadTables) -> Result<Everything, StoreError> {
    let mut all = Everything::default();
    let ids: Vec<ArtifactId> = r
        .table(ARTIFACT_ID_TO_ARTIFACT)?
        .iter()?
        .map(|row| Ok(ArtifactId::from_bytes(row?.0.value())))
        .collect::<Result<_, StoreError>>()?;
    let mut weeks: BTreeMap<(SchoolId, ClassId), BTreeMap<u64, WeekCounts>> = BTreeMap::new();
    for id in ids {
        let Some(artifact) = r.artifact(id)? else { continue };
        let Some(c) = contribution(&artifact, &r.comments(id)?, &r.ratings(id)?) else { continue };
        if let Some(part) = c.week_part() {
            part.add_to(Sign::Plus, weeks.entry((part.school, part.class)).or_default());
        }
        let rows = c.class_rows();
        all.events.extend(rows.events);
        all.turnarounds.extend(rows.turnaround);
        for answer in rows.answers {
            *all.answers.entry(answer).or_default() += 1;
        }
        all.ratings.extend(rows.ratings);
        all.contributions.insert(id, c);
    }
    for ((school, class), per_week) in weeks {
        for (week, counts) in per_week.into_iter().filter(|(_, w)| !w.is_empty()) {
            all.weeks.insert((school, class, week), counts);
        }
    }
    Ok(all)
}
