//! The printable weekly family digest (`actions::digest`): one student's
//! (`/family/digest?student=&week=`, for their family, teachers and administrators) or a
//! whole class's (`/classes/{id}/family-digests?week=`, for its teachers and
//! administrators). `week` is `2026-W51` or any day of the week; without it, this week.
//!
//! Each student's digest is rendered on its own, in a language of its own: the family's
//! when a teacher prints the class's (the language most of the child's family chose in
//! folio), the reader's own otherwise. The frame around them speaks the reader's.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::work::WorkTile;
use super::{PageResult, PageUser, page};
use crate::actions::digest::{self, Digest};
use crate::domain::calendar::Week;
use crate::domain::hlc::wall_clock_ms;
use crate::domain::{Role, UserId};
use crate::error::Error;
use crate::http::AppState;
use crate::http::parse_id;
use crate::i18n::filters::{self, Context};
use crate::i18n::{Locale, Msg};

pub fn router() -> Router<AppState> {
    Router::new().route("/family/digest", get(student_digest)).route("/classes/{id}/family-digests", get(class_digests))
}

#[derive(Deserialize)]
struct StudentQuery {
    student: String,
    #[serde(default)]
    week: Option<String>,
}

#[derive(Deserialize)]
struct WeekQuery {
    #[serde(default)]
    week: Option<String>,
}

fn week_of(text: Option<&str>) -> Result<Week, Error> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Week::of_ms(wall_clock_ms())),
        Some(t) => Week::parse(t).ok_or_else(|| {
            Error::Invalid(format!("\"{t}\" is not a week: give one like 2026-W51, or a day like 2026-12-18."))
        }),
    }
}

/// One piece of work on paper.
struct EntryView {
    tile: WorkTile,
    reflection: String,
    feedback: Vec<FeedbackView>,
}

struct FeedbackView {
    author: String,
    body: String,
    voice: bool,
}

/// One student's digest, rendered in its own language (see the module doc).
#[derive(Template)]
#[template(path = "family_digest_section.html")]
struct SectionView {
    name: String,
    first_day: String,
    last_day: String,
    entries: Vec<EntryView>,
    /// The class's family sharing is off: families see none of its work.
    sharing_off: bool,
}

impl SectionView {
    fn of(d: Digest, sharing_off: bool) -> SectionView {
        let (first_day, last_day) = d.week.first_and_last_day();
        let entries = d
            .entries
            .into_iter()
            .map(|e| EntryView {
                tile: WorkTile::new(&e.artifact, 0),
                reflection: e.artifact.reflection.clone(),
                feedback: e
                    .feedback
                    .into_iter()
                    .map(|f| FeedbackView { author: f.author, body: f.body, voice: f.voice })
                    .collect(),
            })
            .collect();
        SectionView { name: d.student.display_name, first_day, last_day, entries, sharing_off }
    }
}

struct Rendered {
    lang: &'static str,
    dir: &'static str,
    html: String,
}

fn render_section(d: Digest, sharing_off: bool, locale: Locale) -> Result<Rendered, Error> {
    let html = SectionView::of(d, sharing_off)
        .render_with_values(&Context(locale))
        .map_err(|e| Error::internal(anyhow::anyhow!("a digest could not be rendered: {e}")))?;
    Ok(Rendered { lang: locale.code(), dir: locale.dir(), html })
}

#[derive(Template)]
#[template(path = "family_digest.html")]
struct DigestPage {
    title: Msg,
    heading: Msg,
    back: String,
    /// `?student=...&` or empty, before `week=` in the links to the weeks around.
    query: String,
    previous: String,
    next: String,
    sections: Vec<Rendered>,
}

async fn student_digest(
    State(state): State<AppState>,
    me: PageUser,
    locale: Locale,
    Query(q): Query<StudentQuery>,
) -> PageResult {
    let student: UserId = parse_id(&q.student).map_err(|_| Error::NotFound)?;
    let week = week_of(q.week.as_deref())?;
    let actor = me.0.user.clone();
    let d = state.db(move |store| digest::student_digest(store, &actor, student, week)).await?;
    // Families read theirs in their own language; a teacher printing one for a family
    // prints it in the family's, as for a whole class.
    let locale = match me.0.user.role {
        Role::Family => locale,
        _ => d.family_language.as_deref().and_then(Locale::from_code).unwrap_or(locale),
    };
    let name = d.student.display_name.clone();
    let back = if me.0.user.role == Role::Family { "/home".to_string() } else { format!("/people/{student}") };
    Ok(page(DigestPage {
        title: Msg::id("title-family-digest"),
        heading: Msg::with("digest-page-heading", vec![("name", name.into())]),
        back,
        query: format!("student={student}&"),
        previous: week.previous().label(),
        next: week.next().label(),
        sections: vec![render_section(d, false, locale)?],
    }))
}

async fn class_digests(
    State(state): State<AppState>,
    me: PageUser,
    locale: Locale,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let week = week_of(q.week.as_deref())?;
    let actor = me.0.user.clone();
    let (class, digests) = state.db(move |store| digest::class_digests(store, &actor, id, week)).await?;
    let sharing_off = !class.family_sharing;
    let sections = digests
        .into_iter()
        .map(|d| {
            let own = d.family_language.as_deref().and_then(Locale::from_code).unwrap_or(locale);
            render_section(d, sharing_off, own)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(page(DigestPage {
        title: Msg::id("title-family-digest"),
        heading: Msg::with("digest-class-heading", vec![("class", class.name.into())]),
        back: format!("/classes/{id}"),
        query: String::new(),
        previous: week.previous().label(),
        next: week.next().label(),
        sections,
    }))
}
