//! The reports' rows (`domain::weekly`), kept by `apply` in each operation's transaction, so a
//! report reads a few rows instead of every piece of work with its comments and ratings, and
//! the rows are right after sync (received operations go through the same `apply`): the
//! school report's counts per class and week, the class report's events, turnarounds,
//! answers and ratings (`class_rows`), and each artifact's contribution, which the student
//! report reads.
//!
//! Each artifact's current contribution is kept beside the counts
//! (`ARTIFACT_TO_CONTRIBUTION`). When an operation touches the artifact, its contribution is
//! worked out again from the rows as they now stand; if it differs, the old one is taken out
//! of the counts and rows and the new one put in. The counts are therefore a function of the rows,
//! which are a function of the set of operations: every box holding the same operations
//! holds the same counts, whatever order they came in.

use std::collections::BTreeMap;

use redb::{ReadableTable, WriteTransaction};

use super::codec::{decode, encode};
use super::tables::{
    ARTIFACT_TO_CONTRIBUTION, CLASS_ACTIVITY_STUDENT_TO_ANSWERS, CLASS_MS_ARTIFACT_TO_TURNAROUND,
    CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT, CLASS_STUDENT_SKILL_HLC_TO_LEVEL, SCHOOL_CLASS_WEEK_TO_COUNTS,
};
use super::{Queries, ReadTables, StoreError};
use crate::domain::weekly::{Contribution, Sign, WeekCounts, WeekPart, contribution};
use crate::domain::{ArtifactId, ClassId, Comment, SchoolId};

/// Per class, per week start: a school's counts.
pub type SchoolCounts = BTreeMap<ClassId, BTreeMap<u64, WeekCounts>>;

/// Works the contributions of `artifacts` out again and moves the counts by the difference.
pub(super) fn refresh(txn: &WriteTransaction, artifacts: &[ArtifactId]) -> Result<(), StoreError> {
    for id in artifacts {
        replace(txn, *id, kept_contribution(txn, *id)?, current(txn, *id)?)?;
    }
    Ok(())
}

/// Moves the contribution of the work `comment` was just added to by that comment alone
/// (`Contribution::with_comment`), or works it out again where none is kept.
pub(super) fn add_comment(txn: &WriteTransaction, comment: &Comment) -> Result<(), StoreError> {
    let id = comment.artifact;
    match kept_contribution(txn, id)? {
        Some(before) => replace(txn, id, Some(before.clone()), Some(before.with_comment(comment))),
        None => refresh(txn, &[id]),
    }
}

/// The contribution kept for `id`.
fn kept_contribution(r: &impl ReadTables, id: ArtifactId) -> Result<Option<Contribution>, StoreError> {
    r.table(ARTIFACT_TO_CONTRIBUTION)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
}

/// Keeps `now` as the contribution of `id` in place of `before`, and moves the counts and
/// rows by the difference.
fn replace(
    txn: &WriteTransaction,
    id: ArtifactId,
    before: Option<Contribution>,
    now: Option<Contribution>,
) -> Result<(), StoreError> {
    if before == now {
        return Ok(());
    }
    let mut kept = txn.open_table(ARTIFACT_TO_CONTRIBUTION)?;
    match &now {
        Some(c) => kept.insert(id.bytes(), encode(c).as_slice())?,
        None => kept.remove(id.bytes())?,
    };
    drop(kept);
    let (old_week, new_week) = (before.as_ref().and_then(|c| c.week_part()), now.as_ref().and_then(|c| c.week_part()));
    if old_week != new_week {
        if let Some(old) = &old_week {
            shift(txn, old, Sign::Minus)?;
        }
        if let Some(new) = &new_week {
            shift(txn, new, Sign::Plus)?;
        }
    }
    let rows = |c: &Option<Contribution>| c.as_ref().map(|c| c.class_rows()).unwrap_or_default();
    let (old_rows, new_rows) = (rows(&before), rows(&now));
    if old_rows != new_rows {
        super::class_rows::put(txn, &old_rows, Sign::Minus)?;
        super::class_rows::put(txn, &new_rows, Sign::Plus)?;
    }
    Ok(())
}

/// What an artifact contributes as its rows now stand.
fn current(r: &impl ReadTables, id: ArtifactId) -> Result<Option<Contribution>, StoreError> {
    let Some(artifact) = r.artifact(id)? else { return Ok(None) };
    Ok(contribution(&artifact, &r.comments(id)?, &r.ratings(id)?))
}

/// Adds or takes out one contribution, on the rows of the weeks it touches.
fn shift(txn: &WriteTransaction, c: &WeekPart, sign: Sign) -> Result<(), StoreError> {
    let mut table = txn.open_table(SCHOOL_CLASS_WEEK_TO_COUNTS)?;
    let (school, class) = (c.school.bytes(), c.class.bytes());
    let mut weeks = BTreeMap::new();
    for week in c.weeks() {
        let row: WeekCounts =
            table.get((school, class, week))?.map(|v| decode(v.value())).transpose()?.unwrap_or_default();
        weeks.insert(week, row);
    }
    c.add_to(sign, &mut weeks);
    for (week, row) in weeks {
        if row.is_empty() {
            table.remove((school, class, week))?;
        } else {
            table.insert((school, class, week), encode(&row).as_slice())?;
        }
    }
    Ok(())
}

/// The counts kept for a school, weeks starting in `[from_week, to)` only.
pub fn kept(r: &impl ReadTables, school: SchoolId, from_week: u64, to: u64) -> Result<SchoolCounts, StoreError> {
    let mut counts = SchoolCounts::new();
    let s = school.bytes();
    for row in r.table(SCHOOL_CLASS_WEEK_TO_COUNTS)?.range((s, [0u8; 16], 0)..=(s, [0xffu8; 16], u64::MAX))? {
        let (k, v) = row?;
        let (_, class, week) = k.value();
        if week >= from_week && week < to {
            counts.entry(ClassId::from_bytes(class)).or_default().insert(week, decode(v.value())?);
        }
    }
    Ok(counts)
}

/// The same counts worked out by reading every piece of work of the school's classes: what
/// the kept counts must equal (tests), and how the migration fills them for existing data.
pub fn scanned(r: &impl ReadTables, school: SchoolId) -> Result<SchoolCounts, StoreError> {
    let mut counts = SchoolCounts::new();
    for artifact in r.artifacts_of_school(school)? {
        let c = contribution(&artifact, &r.comments(artifact.id)?, &r.ratings(artifact.id)?);
        if let Some(c) = c.and_then(|c| c.week_part()) {
            c.add_to(Sign::Plus, counts.entry(c.class).or_default());
        }
    }
    for weeks in counts.values_mut() {
        weeks.retain(|_, w| !w.is_empty());
    }
    counts.retain(|_, weeks| !weeks.is_empty());
    Ok(counts)
}

/// Works the counts and rows out again for every artifact the box holds, from nothing (the
/// migrations to schemas 4 and 5).
pub(super) fn rebuild(txn: &WriteTransaction) -> Result<u64, StoreError> {
    txn.delete_table(ARTIFACT_TO_CONTRIBUTION)?;
    txn.delete_table(SCHOOL_CLASS_WEEK_TO_COUNTS)?;
    txn.delete_table(CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT)?;
    txn.delete_table(CLASS_MS_ARTIFACT_TO_TURNAROUND)?;
    txn.delete_table(CLASS_ACTIVITY_STUDENT_TO_ANSWERS)?;
    txn.delete_table(CLASS_STUDENT_SKILL_HLC_TO_LEVEL)?;
    super::tables::create_all(txn)?;
    let ids: Vec<ArtifactId> = txn
        .open_table(super::tables::ARTIFACT_ID_TO_ARTIFACT)?
        .iter()?
        .map(|row| Ok(ArtifactId::from_bytes(row?.0.value())))
        .collect::<Result<_, StoreError>>()?;
    refresh(txn, &ids)?;
    Ok(ids.len() as u64)
}
