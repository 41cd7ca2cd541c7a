//! Report pages: a class's (`/classes/{id}/report`, its teachers) and a student's
//! (`/students/{id}/report`: the student, their teachers, their families when a class
//! allows). Server-rendered with charts drawn as SVG (`http::charts`), each beside a table of
//! the same numbers; they print (see `@media print` in `app.css`) and need no script. The
//! CSV of each is the API's (`?format=csv`), linked from the page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, PageResult, PageUser, page};
use crate::actions::reports::{self as class_reports, ClassReport};
use crate::actions::student_report::{self, StudentReport};
use crate::domain::{ClassId, UserId};
use crate::http::api::reports::window_of;
use crate::http::charts::{Chart, Label, Shape};
use crate::http::{AppState, parse_id};
use crate::i18n::{Arg, Msg, day_start_ms, iso_day};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The i18n filters, and `svg`: a chart drawn in the page's language (the school report's
/// page uses them too).
pub(super) mod filters {
    pub use crate::i18n::filters::*;

    #[askama::filter_fn]
    pub fn svg(chart: &crate::http::charts::Chart, values: &dyn askama::Values) -> askama::Result<String> {
        let locale = askama::get_value::<crate::i18n::Locale>(values, "locale").copied().unwrap_or_default();
        Ok(chart.render(locale))
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/classes/{id}/report", get(class_page)).route("/students/{id}/report", get(student_page))
}

/// A level by its name on the school's scale: the admins' name, or the default scale's,
/// translated.
fn level_name(levels: &[String], custom: bool, level: u8) -> Msg {
    let name = levels.get(usize::from(level).wrapping_sub(1)).cloned().unwrap_or_else(|| level.to_string());
    if custom {
        Msg::Plain(name)
    } else {
        Msg::with("skills-default-level", vec![("level", Arg::Text(name.to_lowercase()))])
    }
}

fn level_names(levels: &[String], custom: bool) -> Vec<Msg> {
    (1..=levels.len() as u8).map(|l| level_name(levels, custom, l)).collect()
}

/// The form's fields as typed: days (`YYYY-MM-DD`, `to` included) and a number of days.
#[derive(Deserialize, Default)]
struct ClassForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    quiet_days: String,
}

struct StudentRow {
    id: UserId,
    name: String,
    artifacts: usize,
    versions: usize,
    last_posted: Option<u64>,
    feedback: usize,
    answered: usize,
    quiet: bool,
    /// Per skill of the report: (its code, latest teacher level, own level), by name.
    cells: Vec<(String, Option<Msg>, Option<Msg>)>,
}

struct ActivityRow {
    title: String,
    answered_by: Vec<String>,
}

#[derive(Template)]
#[template(path = "class_report.html")]
struct ClassReportPage {
    chrome: Chrome,
    class_id: ClassId,
    class_name: String,
    from: String,
    to: String,
    quiet_days: u64,
    csv_href: String,
    skills: Vec<(String, String)>,
    students: Vec<StudentRow>,
    activities_total: usize,
    activities: Vec<ActivityRow>,
    turnaround: Option<Msg>,
    participation: Chart,
    levels_chart: Chart,
    /// Level names (the table's heads) and per skill's code, the students at each level.
    level_heads: Vec<Msg>,
    level_counts: Vec<(String, Vec<u64>)>,
}

fn turnaround(ms: Option<u64>) -> Option<Msg> {
    let ms = ms?;
    let hours = ms.div_ceil(3_600_000).max(1);
    Some(if hours <= 48 {
        Msg::with("report-turnaround-hours", vec![("hours", Arg::Number(hours as f64))])
    } else {
        Msg::with("report-turnaround-days", vec![("days", Arg::Number(ms.div_ceil(DAY_MS) as f64))])
    })
}

fn class_view(chrome: Chrome, report: ClassReport, csv_href: String) -> ClassReportPage {
    let names = level_names(&report.levels, report.custom_levels);
    let mut level_counts = Vec::new();
    for skill in &report.skills {
        let mut counts = vec![0u64; report.levels.len()];
        for s in &report.students {
            let latest = s.skills.iter().find(|k| k.skill == skill.id).and_then(|k| k.latest_level);
            if let Some(slot) = latest.and_then(|l| counts.get_mut(usize::from(l).wrapping_sub(1))) {
                *slot += 1;
            }
        }
        level_counts.push((skill.code.clone(), counts));
    }
    let name_of = |id: UserId| report.students.iter().find(|s| s.user.id == id).map(|s| s.user.display_name.clone());
    let activities = report
        .activities
        .iter()
        .map(|a| ActivityRow {
            title: a.title.clone(),
            answered_by: a.answered_by.iter().filter_map(|id| name_of(*id)).collect(),
        })
        .collect();
    let students: Vec<StudentRow> = report
        .students
        .iter()
        .map(|s| StudentRow {
            id: s.user.id,
            name: s.user.display_name.clone(),
            artifacts: s.artifacts,
            versions: s.versions,
            last_posted: s.last_posted_ms,
            feedback: s.feedback_received,
            answered: s.activities_answered,
            quiet: s.quiet,
            cells: report
                .skills
                .iter()
                .map(|skill| {
                    let line = s.skills.iter().find(|k| k.skill == skill.id);
                    let say = |l: Option<u8>| l.map(|l| level_name(&report.levels, report.custom_levels, l));
                    (skill.code.clone(), say(line.and_then(|k| k.latest_level)), say(line.and_then(|k| k.self_level)))
                })
                .collect(),
        })
        .collect();
    let participation = Chart {
        title: Msg::id("chart-participation-title"),
        desc: Msg::id("chart-participation-desc"),
        shape: Shape::Bars(
            students.iter().map(|s| (Label::Text(Msg::Plain(s.name.clone())), s.artifacts as u64)).collect(),
        ),
    };
    let levels_chart = Chart {
        title: Msg::id("chart-levels-title"),
        desc: Msg::id("chart-levels-desc"),
        shape: Shape::Stacked {
            keys: names.clone(),
            rows: level_counts.iter().map(|(code, n)| (Label::Text(Msg::Plain(code.clone())), n.clone())).collect(),
        },
    };
    let to_shown = report.window.to_ms.min(report.window.now_ms).saturating_sub(1);
    ClassReportPage {
        chrome,
        class_id: report.class.id,
        class_name: report.class.name.clone(),
        from: if report.window.from_ms == 0 { String::new() } else { iso_day(report.window.from_ms) },
        to: iso_day(to_shown),
        quiet_days: report.window.quiet_days,
        csv_href,
        skills: report.skills.iter().map(|s| (s.code.clone(), s.name.clone())).collect(),
        students,
        activities_total: report.activities_total,
        activities,
        turnaround: turnaround(report.feedback_turnaround_ms),
        participation,
        levels_chart,
        level_heads: names,
        level_counts,
    }
}

async fn class_page(
    State(state): State<AppState>,
    me: PageUser,
    Path(raw): Path<String>,
    Query(form): Query<ClassForm>,
) -> PageResult {
    let id: ClassId = parse_id(&raw)?;
    let from = day_start_ms(&form.from);
    let to = day_start_ms(&form.to).map(|d| d + DAY_MS);
    let quiet_days = form.quiet_days.trim().parse::<u64>().ok().map(|d| d.min(3650));
    let window = window_of(from, to, quiet_days)?;
    let mut csv_href = format!("/api/v1/reports/classes/{id}?format=csv&quiet_days={}", window.quiet_days);
    if let Some(from) = from {
        csv_href.push_str(&format!("&from={from}"));
    }
    if let Some(to) = to {
        csv_href.push_str(&format!("&to={to}"));
    }
    let viewer = me.0.user.clone();
    let report = state.db(move |store| store.read(|r| class_reports::class_report(r, &viewer, id, window))).await?;
    let chrome = Chrome::for_user("title-class-report", &me.0).in_section("classes");
    Ok(page(class_view(chrome, report, csv_href)))
}

struct RatingRow {
    at: u64,
    level: Msg,
    self_assessment: bool,
    artifact: String,
    title: String,
}

struct SkillBlock {
    code: String,
    name: String,
    chart: Chart,
    ratings: Vec<RatingRow>,
}

#[derive(Template)]
#[template(path = "student_report.html")]
struct StudentReportPage {
    chrome: Chrome,
    name: String,
    student_id: UserId,
    skills: Vec<SkillBlock>,
    weeks_chart: Chart,
    weeks: Vec<(u64, usize)>,
    growth: Vec<(String, String, usize)>,
}

fn student_view(chrome: Chrome, report: StudentReport) -> StudentReportPage {
    let names = level_names(&report.levels, report.custom_levels);
    let skills = report
        .skills
        .iter()
        .map(|s| {
            let series = |own: bool| {
                s.points.iter().filter(|p| p.self_assessment == own).map(|p| (p.at_ms, p.level)).collect::<Vec<_>>()
            };
            SkillBlock {
                code: s.skill.code.clone(),
                name: s.skill.name.clone(),
                chart: Chart {
                    title: Msg::with("chart-skill-title", vec![("skill", Arg::Text(s.skill.code.clone()))]),
                    desc: Msg::id("chart-skill-desc"),
                    shape: Shape::Lines {
                        levels: names.clone(),
                        series: vec![(Msg::id("chart-teacher"), series(false)), (Msg::id("chart-self"), series(true))],
                    },
                },
                ratings: s
                    .points
                    .iter()
                    .map(|p| RatingRow {
                        at: p.at_ms,
                        level: level_name(&report.levels, report.custom_levels, p.level),
                        self_assessment: p.self_assessment,
                        artifact: p.artifact.to_string(),
                        title: report.titles.get(&p.artifact).cloned().unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    StudentReportPage {
        chrome,
        name: report.student.display_name.clone(),
        student_id: report.student.id,
        skills,
        weeks_chart: Chart {
            title: Msg::id("chart-weeks-title"),
            desc: Msg::id("chart-weeks-desc"),
            shape: Shape::Bars(report.weeks.iter().map(|(w, n)| (Label::Day(*w), *n as u64)).collect()),
        },
        weeks: report.weeks.clone(),
        growth: report.growth.iter().map(|g| (g.artifact.to_string(), g.title.clone(), g.versions)).collect(),
    }
}

async fn student_page(State(state): State<AppState>, me: PageUser, Path(raw): Path<String>) -> PageResult {
    let id: UserId = parse_id(&raw)?;
    let viewer = me.0.user.clone();
    let report = state.db(move |store| store.read(|r| student_report::student_report(r, &viewer, id))).await?;
    Ok(page(student_view(Chrome::for_user("title-student-report", &me.0), report)))
}
