//! The school report as a page (`/reports/school?from=&to=`, days as `YYYY-MM-DD`): one table
//! per class, a row per week, the same numbers as `GET /api/v1/reports/school`, readable
//! without scripts and printable. Leaders see the classes' names; administrators see
//! "Class 1", "Class 2"… in the order the classes were made; anyone else 404.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::reports::filters;
use super::{Chrome, PageResult, PageUser, page};
use crate::actions::school_report::{self, SchoolReport};
use crate::domain::calendar::{day_of, start_of_day};
use crate::domain::hlc::wall_clock_ms;
use crate::domain::policy::SchoolReportDetail;
use crate::domain::weekly::{WEEK_MS, WeekCounts};
use crate::error::Error;
use crate::http::AppState;
use crate::http::charts::{Chart, Label, Shape};
use crate::i18n::Msg;

pub fn router() -> Router<AppState> {
    Router::new().route("/reports/school", get(school_report_page))
}

#[derive(Deserialize)]
struct DaysQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// A `YYYY-MM-DD` day from the form, as ms at its start (empty: none).
fn day_ms(text: Option<&str>, field: &str) -> Result<Option<u64>, Error> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => start_of_day(t)
            .filter(|ms| *ms >= 0)
            .map(|ms| Some(ms as u64))
            .ok_or_else(|| Error::Invalid(format!("\"{field}\" must be a day like 2026-12-18."))),
    }
}

struct WeekRow {
    /// The week's Monday, `YYYY-MM-DD`.
    monday: String,
    posts: u64,
    students: usize,
    feedback: u64,
    /// The median turnaround in hours (rounded up), if any.
    turnaround_hours: Option<u64>,
    /// Ratings per level, level 1 first, one entry per level of the scale.
    levels: Vec<u64>,
}

impl WeekRow {
    fn of(monday: String, w: &WeekCounts, levels: usize) -> WeekRow {
        WeekRow {
            monday,
            posts: w.posts,
            students: w.students_posted(),
            feedback: w.feedback,
            turnaround_hours: w.median_turnaround_ms().map(|ms| ms.div_ceil(3_600_000)),
            levels: (1..=levels).map(|l| w.levels.get(&(l as u8)).copied().unwrap_or(0)).collect(),
        }
    }
}

struct ClassSection {
    /// The class's name (leaders), or None: shown as "Class {number}".
    name: Option<String>,
    number: usize,
    weeks: Vec<WeekRow>,
    total: WeekRow,
    /// Work posted per week, as bars beside the table.
    posts_chart: Chart,
}

#[derive(Template)]
#[template(path = "school_report.html")]
struct SchoolReportPage {
    chrome: Chrome,
    /// The window as days for the form and the heading.
    from_day: String,
    to_day: String,
    named: bool,
    levels: Vec<String>,
    classes: Vec<ClassSection>,
}

fn sections(report: &SchoolReport) -> Vec<ClassSection> {
    let levels = report.levels.len();
    report
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| ClassSection {
            name: c.name.clone(),
            number: i + 1,
            weeks: c.weeks.iter().map(|(start, w)| WeekRow::of(day_of(*start), w, levels)).collect(),
            total: WeekRow::of(String::new(), &c.total(), levels),
            posts_chart: Chart {
                title: Msg::id("chart-weeks-title"),
                desc: Msg::id("chart-weeks-desc"),
                shape: Shape::Bars(c.weeks.iter().map(|(start, w)| (Label::Day(*start), w.posts)).collect()),
            },
        })
        .collect()
}

async fn school_report_page(State(state): State<AppState>, me: PageUser, Query(q): Query<DaysQuery>) -> PageResult {
    // The last day shown is included: the window ends at the start of the day after it.
    let to = day_ms(q.to.as_deref(), "to")?.map(|ms| ms + 86_400_000).unwrap_or_else(|| wall_clock_ms() + 1);
    let from = day_ms(q.from.as_deref(), "from")?.unwrap_or_else(|| to.saturating_sub(12 * WEEK_MS));
    if from >= to {
        return Err(Error::Invalid("\"from\" must come before \"to\".".into()).into());
    }
    let actor = me.0.user.clone();
    let report = state.db(move |store| store.read(|r| school_report::school_report(r, &actor, from, to))).await?;
    Ok(page(SchoolReportPage {
        chrome: Chrome::for_user("title-school-report", &me.0).in_section("reports"),
        from_day: day_of(report.from_ms),
        to_day: day_of(report.to_ms.saturating_sub(1)),
        named: report.detail == SchoolReportDetail::Named,
        levels: report.levels.clone(),
        classes: sections(&report),
    }))
}
