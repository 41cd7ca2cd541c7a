//! `GET /api/v1/reports/school` (the school's leaders with class names; administrators as
//! counts only; 404 for anyone else).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::school_report::{self, ClassWeeks, SchoolReport};
use crate::domain::ClassId;
use crate::domain::hlc::wall_clock_ms;
use crate::domain::weekly::WeekCounts;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Invalid, NotFound, Unauthenticated};

use super::input::{Json, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(school_report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SchoolWindow {
    /// Start of the window, ms since 1970: the report starts with the week (Monday 00:00 UTC)
    /// this falls in (default: 12 weeks before `to`).
    pub from: Option<u64>,
    /// End of the window (excluded), ms since 1970 (default: now).
    pub to: Option<u64>,
}

const DEFAULT_WEEKS: u64 = 12;

impl SchoolWindow {
    /// The window in ms, `from` before `to`.
    pub fn resolve(&self) -> Result<(u64, u64)> {
        let to = self.to.unwrap_or_else(|| wall_clock_ms() + 1);
        let from = self.from.unwrap_or_else(|| to.saturating_sub(DEFAULT_WEEKS * crate::domain::weekly::WEEK_MS));
        if from >= to {
            return Err(Error::Invalid("\"from\" must come before \"to\".".into()));
        }
        Ok((from, to))
    }
}

#[derive(Serialize, ToSchema)]
struct LevelCountView {
    /// The level, 1 the lowest.
    level: u8,
    ratings: u64,
}

#[derive(Serialize, ToSchema)]
// The student report has a week of its own (`StudentWeek`): utoipa names a schema after its
// type, and two `WeekView`s would be one schema in the description.
#[schema(as = SchoolWeek)]
struct WeekView {
    /// Monday 00:00 UTC starting the week, ms since 1970.
    week_start: u64,
    /// Work posted in the class that week.
    posts: u64,
    /// Students who posted that week.
    students_posted: usize,
    /// Teacher feedback given that week on the class's work.
    feedback_given: u64,
    /// Median time from posting (that week) to the first teacher feedback; null when none.
    feedback_turnaround_ms: Option<u64>,
    /// Teacher ratings given that week, per level (levels with none left out).
    ratings_by_level: Vec<LevelCountView>,
}

impl WeekView {
    fn of(week_start: u64, w: &WeekCounts) -> WeekView {
        WeekView {
            week_start,
            posts: w.posts,
            students_posted: w.students_posted(),
            feedback_given: w.feedback,
            feedback_turnaround_ms: w.median_turnaround_ms(),
            ratings_by_level: w.levels.iter().map(|(level, n)| LevelCountView { level: *level, ratings: *n }).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ClassWeeksView {
    class_id: ClassId,
    /// The class's name: for the school's leaders only (absent for administrators).
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// The weeks with anything in them, oldest first.
    weeks: Vec<WeekView>,
}

impl From<&ClassWeeks> for ClassWeeksView {
    fn from(c: &ClassWeeks) -> Self {
        ClassWeeksView {
            class_id: c.class,
            name: c.name.clone(),
            weeks: c.weeks.iter().map(|(start, w)| WeekView::of(*start, w)).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct SchoolReportView {
    /// The first week's start (Monday 00:00 UTC) and the end of the window (excluded), ms.
    from: u64,
    to: u64,
    /// `named` (leaders) or `counts_only` (administrators: no names of classes or people).
    detail: String,
    /// How many levels the school's scale has.
    levels: usize,
    classes: Vec<ClassWeeksView>,
}

impl From<&SchoolReport> for SchoolReportView {
    fn from(r: &SchoolReport) -> Self {
        SchoolReportView {
            from: r.from_ms,
            to: r.to_ms,
            detail: match r.detail {
                crate::domain::policy::SchoolReportDetail::Named => "named",
                crate::domain::policy::SchoolReportDetail::CountsOnly => "counts_only",
            }
            .into(),
            levels: r.levels.len(),
            classes: r.classes.iter().map(ClassWeeksView::from).collect(),
        }
    }
}

/// The school report (the school's leaders, with class names; administrators, counts only;
/// anyone else 404): per class and per week (Monday 00:00 UTC), the work posted, students who
/// posted, feedback given, the median feedback turnaround and the teachers' ratings per level.
#[utoipa::path(
    get,
    path = "/api/v1/reports/school",
    tag = "reports",
    params(SchoolWindow),
    responses((status = 200, description = "The report", body = SchoolReportView), BadRequest, Invalid, Unauthenticated, NotFound)
)]
async fn school_report(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<SchoolWindow>,
) -> Result<Json<SchoolReportView>> {
    let (from, to) = q.resolve()?;
    let report = state.db(move |store| store.read(|r| school_report::school_report(r, &me.user, from, to))).await?;
    Ok(Json(SchoolReportView::from(&report)))
}
