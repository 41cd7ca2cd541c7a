//! The skills page (`/skills`, teachers and administrators): the school's skills by group,
//! adding one, retiring or bringing one back, importing a CASE package or a CSV, and (for
//! administrators) the scale of levels.

use crate::i18n::filters;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, DoneQuery, PageForm, PageId, PageResult, PageUser, notice_text, render, see_other};
use crate::actions::skills::{self as actions, SkillList};
use crate::domain::skills::{self, CfPackage, SkillInput};
use crate::domain::{Role, SkillId};
use crate::error::Error;
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/skills", get(show).post(add))
        .route("/skills/import", post(import))
        .route("/skills/levels", post(save_levels))
        .route("/skills/{id}/retired", post(retire))
}

struct GroupRows {
    /// Empty for skills without a group.
    name: String,
    skills: Vec<SkillRow>,
}

struct SkillRow {
    id: String,
    code: String,
    name: String,
    retired: bool,
}

#[derive(Template)]
#[template(path = "skills.html")]
struct SkillsPage {
    chrome: Chrome,
    groups: Vec<GroupRows>,
    /// The scale, lowest first: the admins' names, or the default scale's keys
    /// (`skills-default-level`), translated in the template.
    levels: Vec<String>,
    custom_levels: bool,
    levels_text: String,
    is_admin: bool,
    /// What the add form held when it was refused.
    form: AddForm,
}

fn managers_only(me: &PageUser) -> Result<(), Error> {
    if actions::may_manage(&me.0.user) { Ok(()) } else { Err(Error::NotFound) }
}

fn grouped(list: &SkillList) -> Vec<GroupRows> {
    let mut groups: Vec<GroupRows> = Vec::new();
    for s in &list.skills {
        let name = s.group.clone().unwrap_or_default();
        let row = SkillRow { id: s.id.to_string(), code: s.code.clone(), name: s.name.clone(), retired: s.retired };
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.skills.push(row),
            None => groups.push(GroupRows { name, skills: vec![row] }),
        }
    }
    // Ungrouped skills last.
    groups.sort_by_key(|g| (g.name.is_empty(), g.name.clone()));
    groups
}

async fn skills_page(
    state: &AppState,
    me: &PageUser,
    error: Option<Error>,
    done: Option<&str>,
    form: AddForm,
) -> PageResult {
    managers_only(me)?;
    let user = me.0.user.clone();
    let list = state.db(move |store| store.read(|r| actions::list(r, &user))).await?;
    let (chrome, status) = Chrome::for_user("title-skills", &me.0).in_section("skills").with_outcome(error.as_ref(), 0);
    let levels_text = if list.custom_levels { list.levels.join("\n") } else { String::new() };
    let page = SkillsPage {
        chrome: chrome.with_notice(notice_text(done)),
        groups: grouped(&list),
        levels: if list.custom_levels { list.levels.clone() } else { default_level_keys() },
        custom_levels: list.custom_levels,
        levels_text,
        is_admin: me.0.user.role == Role::Admin,
        form,
    };
    Ok(render(status, page))
}

async fn show(State(state): State<AppState>, me: PageUser, Query(q): Query<DoneQuery>) -> PageResult {
    skills_page(&state, &me, None, q.done.as_deref(), AddForm::default()).await
}

/// The default scale as the keys of `skills-default-level`, so each language names it.
pub fn default_level_keys() -> Vec<String> {
    skills::DEFAULT_LEVELS.iter().map(|l| l.to_lowercase()).collect()
}

#[derive(Clone, Debug, Default, Deserialize)]
struct AddForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    group: String,
}

async fn add(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<AddForm>) -> PageResult {
    managers_only(&me)?;
    let actor = me.0.user.clone();
    let input =
        SkillInput { case_id: None, code: form.code.clone(), name: form.name.clone(), group: Some(form.group.clone()) };
    match state.db(move |store| actions::save(store, &actor, None, input)).await {
        Ok(_) => Ok(see_other("/skills?done=skill-added")),
        Err(e) => skills_page(&state, &me, Some(e), None, form).await,
    }
}

#[derive(Deserialize)]
struct RetireForm {
    #[serde(default)]
    retired: bool,
}

async fn retire(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<SkillId>,
    PageForm(form): PageForm<RetireForm>,
) -> PageResult {
    managers_only(&me)?;
    let actor = me.0.user.clone();
    match state.db(move |store| actions::set_retired(store, &actor, id, form.retired)).await {
        Ok(_) => Ok(see_other(if form.retired { "/skills?done=skill-retired" } else { "/skills?done=skill-restored" })),
        Err(e) => skills_page(&state, &me, Some(e), None, AddForm::default()).await,
    }
}

/// A CASE package (JSON) or a `code,name,group` CSV, told apart by their first character.
fn parse_upload(text: &str) -> Result<Vec<SkillInput>, Error> {
    if text.trim_start().starts_with('{') {
        let package: CfPackage = serde_json::from_str(text)
            .map_err(|e| Error::Invalid(format!("This is not a CASE package (CFPackage JSON): {e}")))?;
        return Ok(skills::parse_case(&package)?);
    }
    skills::parse_csv(text.trim_start_matches('\u{feff}')).map_err(|lines| {
        let said: Vec<String> = lines.iter().map(|l| format!("line {}: {}", l.line, l.message)).collect();
        Error::Invalid(format!("Nothing was imported. {}.", said.join("; ")))
    })
}

async fn import(State(state): State<AppState>, me: PageUser, mut form: Multipart) -> PageResult {
    managers_only(&me)?;
    let (mut csrf, mut text) = (String::new(), None);
    let unreadable =
        |e: axum::extract::multipart::MultipartError| Error::Invalid(format!("The upload could not be read: {e}"));
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => text = Some(field.bytes().await.map_err(unreadable)?),
            _ => {}
        }
    }
    me.check_csrf(&csrf)?;
    let parsed = match text.filter(|t| !t.is_empty()) {
        None => Err(Error::Invalid("Choose a CASE package (.json) or a CSV file to import.".into())),
        Some(bytes) => String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::Invalid("The file is not UTF-8 text.".into()))
            .and_then(|t| parse_upload(&t)),
    };
    let actor = me.0.user.clone();
    let result = match parsed {
        Ok(inputs) => state.db(move |store| actions::import(store, &actor, inputs)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/skills?done=skills-imported")),
        Err(e) => skills_page(&state, &me, Some(e), None, AddForm::default()).await,
    }
}

#[derive(Deserialize)]
struct LevelsForm {
    #[serde(default)]
    levels: String,
    /// Back to the default scale.
    #[serde(default)]
    reset: Option<String>,
}

async fn save_levels(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<LevelsForm>) -> PageResult {
    if me.0.user.role != Role::Admin {
        return Err(Error::NotFound.into());
    }
    let names = form.reset.is_none().then(|| form.levels.lines().map(str::to_string).collect::<Vec<_>>());
    let actor = me.0.user.clone();
    match state.db(move |store| actions::set_levels(store, &actor, names)).await {
        Ok(_) => Ok(see_other("/skills?done=levels-saved")),
        Err(e) => skills_page(&state, &me, Some(e), None, AddForm::default()).await,
    }
}
