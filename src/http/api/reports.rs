//! Reports: `GET /api/v1/reports/classes/{id}` (the class's teachers).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::reports::{self, ClassReport, Window};
use crate::domain::hlc::wall_clock_ms;
use crate::domain::{ActivityId, ClassId, SkillId, UserId};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Invalid, NotFound, Unauthenticated};

use super::input::{Json, Path, Query};
use super::parse_id;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(class_report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct WindowQuery {
    /// Start of the window, ms since 1970 (default: 0).
    from: Option<u64>,
    /// End of the window (excluded), ms since 1970 (default: now).
    to: Option<u64>,
    /// Students with nothing posted for this many days are flagged (default 7).
    quiet_days: Option<u64>,
}

#[derive(Serialize, ToSchema)]
struct SkillLineView {
    skill_id: SkillId,
    /// The latest teacher rating.
    latest_level: Option<u8>,
    /// The student's own latest self-assessment.
    self_level: Option<u8>,
    /// How many teacher ratings are kept (one per version and teacher: a new rating of the
    /// same version replaces the earlier one).
    ratings: usize,
}

#[derive(Serialize, ToSchema)]
struct StudentLineView {
    user_id: UserId,
    display_name: String,
    /// Work posted in the class in the window.
    artifacts: usize,
    /// Versions added in the window (first versions included).
    versions: usize,
    /// When they last posted (ms), or null.
    last_posted_at: Option<u64>,
    /// Teacher feedback on their work in the window.
    feedback_received: usize,
    activities_answered: usize,
    activities_total: usize,
    /// Nothing posted for `quiet_days`.
    quiet: bool,
    skills: Vec<SkillLineView>,
}

#[derive(Serialize, ToSchema)]
struct ActivityLineView {
    activity_id: ActivityId,
    title: String,
    answered_by: Vec<UserId>,
}

#[derive(Serialize, ToSchema)]
struct ClassReportView {
    class_id: ClassId,
    name: String,
    from: u64,
    to: u64,
    quiet_days: u64,
    /// Median time from posting (in the window) to the first teacher feedback; null when none.
    feedback_turnaround_ms: Option<u64>,
    students: Vec<StudentLineView>,
    activities: Vec<ActivityLineView>,
}

impl From<ClassReport> for ClassReportView {
    fn from(r: ClassReport) -> Self {
        let total = r.activities_total;
        ClassReportView {
            class_id: r.class.id,
            name: r.class.name,
            from: r.window.from_ms,
            to: r.window.to_ms,
            quiet_days: r.window.quiet_days,
            feedback_turnaround_ms: r.feedback_turnaround_ms,
            students: r
                .students
                .into_iter()
                .map(|s| StudentLineView {
                    user_id: s.user.id,
                    display_name: s.user.display_name,
                    artifacts: s.artifacts,
                    versions: s.versions,
                    last_posted_at: s.last_posted_ms,
                    feedback_received: s.feedback_received,
                    activities_answered: s.activities_answered,
                    activities_total: total,
                    quiet: s.quiet,
                    skills: s
                        .skills
                        .into_iter()
                        .map(|k| SkillLineView {
                            skill_id: k.skill,
                            latest_level: k.latest_level,
                            self_level: k.self_level,
                            ratings: k.ratings,
                        })
                        .collect(),
                })
                .collect(),
            activities: r
                .activities
                .into_iter()
                .map(|a| ActivityLineView { activity_id: a.id, title: a.title, answered_by: a.answered_by })
                .collect(),
        }
    }
}

/// A class's report (its teachers; anyone else 404): per student their posts, versions,
/// feedback, activities answered and skills' latest ratings in the window; per activity who
/// answered; the median feedback turnaround; students quiet for `quiet_days`.
#[utoipa::path(
    get,
    path = "/api/v1/reports/classes/{id}",
    tag = "reports",
    params(("id" = ClassId, Path, description = "The class's id"), WindowQuery),
    responses((status = 200, description = "The report", body = ClassReportView), BadRequest, Invalid, Unauthenticated, NotFound)
)]
async fn class_report(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Result<Json<ClassReportView>> {
    let id: ClassId = parse_id(&id)?;
    let now_ms = wall_clock_ms();
    let window = Window {
        from_ms: q.from.unwrap_or(0),
        to_ms: q.to.unwrap_or(now_ms + 1),
        quiet_days: q.quiet_days.unwrap_or(7),
        now_ms,
    };
    if window.from_ms >= window.to_ms {
        return Err(Error::Invalid("\"from\" must come before \"to\".".into()));
    }
    let report = state.db(move |store| store.read(|r| reports::class_report(r, &me.user, id, window))).await?;
    Ok(Json(report.into()))
}
