//! The school report: per class and per week (Monday 00:00 UTC), the work posted, how many
//! students posted, the feedback given, the median time from posting to the first teacher
//! feedback and the teachers' ratings per level. Read from the counts `apply` keeps
//! (`store::weekly`), so it costs a few rows per class, not a pass over every piece of work.
//!
//! The school's leaders read it with the classes' names; administrators read the counts only,
//! each class by its id, with no name of a class or a person (a class is often named after
//! its teacher). Anyone else gets 404.

use std::collections::BTreeMap;

use crate::domain::policy::{self, SchoolReportDetail};
use crate::domain::weekly::{WeekCounts, week_start};
use crate::domain::{ClassId, User, skills};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, weekly};

/// One class's weeks.
#[derive(Clone, Debug)]
pub struct ClassWeeks {
    pub class: ClassId,
    /// The class's name, for leaders only.
    pub name: Option<String>,
    /// Per week start (ms), the counts; weeks with nothing are left out.
    pub weeks: BTreeMap<u64, WeekCounts>,
}

impl ClassWeeks {
    /// The whole window's counts.
    pub fn total(&self) -> WeekCounts {
        let mut total = WeekCounts::default();
        for week in self.weeks.values() {
            total.merge(week);
        }
        total
    }
}

#[derive(Clone, Debug)]
pub struct SchoolReport {
    pub detail: SchoolReportDetail,
    /// The first week's start and the end of the window (excluded), in ms.
    pub from_ms: u64,
    pub to_ms: u64,
    /// The names of the school's levels, lowest first (level 1 is the first).
    pub levels: Vec<String>,
    /// Every class of the school (the leader's view: by name; the admin's: as created).
    pub classes: Vec<ClassWeeks>,
}

/// The school report for the weeks that start in `[week of from_ms, to_ms)`.
pub fn school_report(r: &impl ReadTables, viewer: &User, from_ms: u64, to_ms: u64) -> Result<SchoolReport> {
    let Some(detail) = policy::school_report_detail(viewer, viewer.school) else { return Err(Error::NotFound) };
    let from_week = week_start(from_ms);
    let mut counts = weekly::kept(r, viewer.school, from_week, to_ms)?;
    let school = r.school(viewer.school)?.ok_or(Error::NotFound)?;
    let mut classes: Vec<ClassWeeks> = r
        .classes_in_school(viewer.school)?
        .into_iter()
        .map(|c| ClassWeeks {
            class: c.id,
            name: (detail == SchoolReportDetail::Named).then_some(c.name),
            weeks: counts.remove(&c.id).unwrap_or_default(),
        })
        .collect();
    if detail == SchoolReportDetail::CountsOnly {
        // Ordered by name, a list of ids would still spell the names out to whoever can
        // sort them: the admin's list follows the classes' ids (their creation order).
        classes.sort_by_key(|c| c.class);
    }
    Ok(SchoolReport { detail, from_ms: from_week, to_ms, levels: skills::levels_or_default(&school.levels), classes })
}
