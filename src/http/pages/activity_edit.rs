//! Changing an activity (`/activities/{id}/edit`, linked from the class page for those who
//! manage the class): its title, prompt, due date and the skills it targets, one
//! `ActivityEdited` operation (`actions::work::edit_activity`). Anyone else gets 404.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::work_form::{SkillGroup, groups};
use super::{Chrome, PageForm, PageId, PageResult, PageUser, page, see_other};
use crate::actions::{classes, work};
use crate::domain::{Activity, ActivityId, SkillId};
use crate::error::Error;
use crate::http::AppState;
use crate::i18n::filters;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new().route("/activities/{id}/edit", get(form).post(save))
}

#[derive(Template)]
#[template(path = "activity_edit.html")]
struct ActivityEditPage {
    chrome: Chrome,
    activity: Activity,
    skill_groups: Vec<SkillGroup>,
}

async fn form(State(state): State<AppState>, me: PageUser, PageId(id): PageId<ActivityId>) -> PageResult {
    let viewer = me.0.user.clone();
    let (activity, skills) = state
        .db(move |store| {
            store.read(|r| {
                let Some(activity) = r.activity(id)? else { return Err(Error::NotFound) };
                let class = classes::managed(r, &viewer, activity.class)?;
                let skills: Vec<_> = r
                    .skills(class.school)?
                    .into_iter()
                    .filter(|s| !s.retired || activity.skills.contains(&s.id))
                    .collect();
                Ok((activity, skills))
            })
        })
        .await?;
    Ok(page(ActivityEditPage {
        chrome: Chrome::for_user("title-activity-edit", &me.0).in_section("classes"),
        skill_groups: groups(&skills, |s| activity.skills.contains(&s.id)),
        activity,
    }))
}

/// The form as posted: its fields, with `skill_ids` once per ticked box.
async fn save(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ActivityId>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut skills = Vec::new();
    for (_, raw) in fields.iter().filter(|(k, _)| k == "skill_ids") {
        skills
            .push(raw.parse::<SkillId>().map_err(|_| Error::Invalid("That skill is not one of the school's.".into()))?);
    }
    let edit = work::ActivityEdit {
        title: field("title"),
        prompt: field("prompt"),
        due: field("due"),
        // The form always shows every skill, so no box ticked means none.
        skills: Some(skills),
    };
    let actor = me.0.user.clone();
    let activity = state.db(move |store| work::edit_activity(store, &actor, id, edit.clone())).await?;
    Ok(see_other(&format!("/classes/{}?done=activity-saved", activity.class)))
}
