//! Reports: `GET /api/v1/reports/classes/{id}` (the class's teachers) and
//! `GET /api/v1/reports/students/{id}` (the student, their teachers, their families when a
//! class allows), each as JSON or, with `?format=csv`, as CSV with real numbers.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::reports::{self, ClassReport, Window};
use crate::actions::student_report::{self, StudentReport};
use crate::domain::hlc::wall_clock_ms;
use crate::domain::{ActivityId, ArtifactId, ClassId, SkillId, UserId, VersionId};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Invalid, NotFound, Unauthenticated};

use super::input::{Json, Path, Query};
use super::parse_id;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(class_report)).routes(routes!(student_report))
}

/// What a report is answered as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Csv,
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
    /// `json` (default) or `csv`: one row per student.
    format: Option<Format>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FormatQuery {
    /// `json` (default) or `csv`: one row per rating.
    format: Option<Format>,
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

/// The window a report query asks for, checked.
pub fn window_of(from: Option<u64>, to: Option<u64>, quiet_days: Option<u64>) -> Result<Window> {
    let now_ms = wall_clock_ms();
    let window = Window {
        from_ms: from.unwrap_or(0),
        to_ms: to.unwrap_or(now_ms + 1),
        quiet_days: quiet_days.unwrap_or(7),
        now_ms,
    };
    if window.from_ms >= window.to_ms {
        return Err(Error::Invalid("\"from\" must come before \"to\".".into()));
    }
    Ok(window)
}

/// A text cell that a spreadsheet would take for a formula (a name typed as `=1+1`) gets a
/// leading apostrophe, the spreadsheets' own sign for "text".
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

fn csv_answer(rows: Vec<Vec<String>>, filename: &str) -> Result<Response> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.write_record(&row).map_err(|e| Error::Internal(anyhow::anyhow!("writing a CSV: {e}")))?;
    }
    let bytes = out.into_inner().map_err(|e| Error::Internal(anyhow::anyhow!("writing a CSV: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        bytes,
    )
        .into_response())
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The class report as CSV: a header row, then one row per student; each skill rated in the
/// class has two columns, `skill:<code>:latest` and `skill:<code>:self` (levels as numbers,
/// empty when none).
pub fn class_csv(report: &ClassReport) -> Vec<Vec<String>> {
    let mut head: Vec<String> = [
        "user_id",
        "display_name",
        "artifacts",
        "versions",
        "last_posted_at",
        "feedback_received",
        "activities_answered",
        "activities_total",
        "quiet",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    for skill in &report.skills {
        head.push(text_cell(&format!("skill:{}:latest", skill.code)));
        head.push(text_cell(&format!("skill:{}:self", skill.code)));
    }
    let mut rows = vec![head];
    for s in &report.students {
        let mut row = vec![
            s.user.id.to_string(),
            text_cell(&s.user.display_name),
            s.artifacts.to_string(),
            s.versions.to_string(),
            opt(s.last_posted_ms),
            s.feedback_received.to_string(),
            s.activities_answered.to_string(),
            report.activities_total.to_string(),
            s.quiet.to_string(),
        ];
        for skill in &report.skills {
            let line = s.skills.iter().find(|k| k.skill == skill.id);
            row.push(opt(line.and_then(|k| k.latest_level)));
            row.push(opt(line.and_then(|k| k.self_level)));
        }
        rows.push(row);
    }
    rows
}

/// A class's report (its teachers; anyone else 404): per student their posts, versions,
/// feedback, activities answered and skills' latest ratings in the window; per activity who
/// answered; the median feedback turnaround; students quiet for `quiet_days`.
#[utoipa::path(
    get,
    path = "/api/v1/reports/classes/{id}",
    tag = "reports",
    params(("id" = ClassId, Path, description = "The class's id"), WindowQuery),
    responses(
        (status = 200, description = "The report (JSON), or with `format=csv` a header row and one row per student: \
            user_id, display_name, artifacts, versions, last_posted_at, feedback_received, activities_answered, \
            activities_total, quiet, then `skill:<code>:latest` and `skill:<code>:self` per skill rated in the class",
            content((ClassReportView = "application/json"), (String = "text/csv"))),
        BadRequest, Invalid, Unauthenticated, NotFound
    )
)]
async fn class_report(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Result<Response> {
    let id: ClassId = parse_id(&id)?;
    let window = window_of(q.from, q.to, q.quiet_days)?;
    let report = state.db(move |store| store.read(|r| reports::class_report(r, &me.user, id, window))).await?;
    if q.format == Some(Format::Csv) {
        return csv_answer(class_csv(&report), &format!("class-report-{id}.csv"));
    }
    Ok(Json(ClassReportView::from(report)).into_response())
}

#[derive(Serialize, ToSchema)]
struct PointView {
    /// When the rating was given (ms).
    at: u64,
    level: u8,
    artifact_id: ArtifactId,
    version_id: VersionId,
    /// The student's own rating (otherwise a teacher's).
    #[serde(rename = "self")]
    self_assessment: bool,
}

#[derive(Serialize, ToSchema)]
struct SkillSeriesView {
    skill_id: SkillId,
    code: String,
    name: String,
    /// Oldest first.
    points: Vec<PointView>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = StudentWeek)]
struct WeekView {
    /// Monday 00:00 UTC of the week (ms).
    week_start_ms: u64,
    /// Pieces of work posted that week.
    posts: usize,
}

#[derive(Serialize, ToSchema)]
struct GrowthView {
    artifact_id: ArtifactId,
    title: String,
    versions: usize,
}

#[derive(Serialize, ToSchema)]
struct StudentReportView {
    user_id: UserId,
    display_name: String,
    /// The school's scale, lowest first (level 1 is the first name).
    levels: Vec<String>,
    skills: Vec<SkillSeriesView>,
    /// Every week from the first post to the last (at most 104, the latest), empty weeks
    /// included.
    posts_per_week: Vec<WeekView>,
    /// The pieces with the most versions (at most 5): growth within one work.
    most_versions: Vec<GrowthView>,
}

impl From<StudentReport> for StudentReportView {
    fn from(r: StudentReport) -> Self {
        StudentReportView {
            user_id: r.student.id,
            display_name: r.student.display_name,
            levels: r.levels,
            skills: r
                .skills
                .into_iter()
                .map(|s| SkillSeriesView {
                    skill_id: s.skill.id,
                    code: s.skill.code,
                    name: s.skill.name,
                    points: s
                        .points
                        .into_iter()
                        .map(|p| PointView {
                            at: p.at_ms,
                            level: p.level,
                            artifact_id: p.artifact,
                            version_id: p.version,
                            self_assessment: p.self_assessment,
                        })
                        .collect(),
                })
                .collect(),
            posts_per_week: r
                .weeks
                .into_iter()
                .map(|(week_start_ms, posts)| WeekView { week_start_ms, posts })
                .collect(),
            most_versions: r
                .growth
                .into_iter()
                .map(|g| GrowthView { artifact_id: g.artifact, title: g.title, versions: g.versions })
                .collect(),
        }
    }
}

/// The student report as CSV: a header row, then one row per rating.
pub fn student_csv(report: &StudentReport) -> Vec<Vec<String>> {
    let head = ["skill_id", "skill_code", "at", "level", "artifact_id", "version_id", "self"];
    let mut rows = vec![head.iter().map(|h| h.to_string()).collect()];
    for s in &report.skills {
        for p in &s.points {
            rows.push(vec![
                s.skill.id.to_string(),
                text_cell(&s.skill.code),
                p.at_ms.to_string(),
                p.level.to_string(),
                p.artifact.to_string(),
                p.version.to_string(),
                p.self_assessment.to_string(),
            ]);
        }
    }
    rows
}

/// A student's report: per skill the ratings over time (teachers' and their own), pieces
/// posted per week, the pieces with the most versions. The student, their teachers, and their
/// families when one of the student's classes lets families see ratings (then only what
/// they may see: ratings of work in such classes); anyone else 404, administrators included.
#[utoipa::path(
    get,
    path = "/api/v1/reports/students/{id}",
    tag = "reports",
    params(("id" = UserId, Path, description = "The student's id"), FormatQuery),
    responses(
        (status = 200, description = "The report (JSON), or with `format=csv` a header row and one row per rating: \
            skill_id, skill_code, at, level, artifact_id, version_id, self",
            content((StudentReportView = "application/json"), (String = "text/csv"))),
        BadRequest, Unauthenticated, NotFound
    )
)]
async fn student_report(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<FormatQuery>,
) -> Result<Response> {
    let id: UserId = parse_id(&id)?;
    let report = state.db(move |store| store.read(|r| student_report::student_report(r, &me.user, id))).await?;
    if q.format == Some(Format::Csv) {
        return csv_answer(student_csv(&report), &format!("student-report-{id}.csv"));
    }
    Ok(Json(StudentReportView::from(report)).into_response())
}
