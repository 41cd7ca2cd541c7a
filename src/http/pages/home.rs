//! The home page, different for each role.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;

use super::{Chrome, DoneQuery, PageResult, PageUser, notice_text, page};
use crate::domain::{Class, Role};
use crate::http::AppState;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new().route("/home", get(home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    role: &'static str,
    school_name: String,
    classes: Vec<Class>,
    class_count: usize,
    people_count: usize,
}

async fn home(State(state): State<AppState>, PageUser(me): PageUser, Query(q): Query<DoneQuery>) -> PageResult {
    let user = me.user.clone();
    let (school_name, classes, class_count, people_count) = state
        .db(move |store| {
            store.read(|r| {
                let school = r.school(user.school)?.map(|s| s.name).unwrap_or_default();
                let classes: Vec<Class> = r.classes_of(user.id)?.into_iter().map(|(c, _)| c).collect();
                let (class_count, people_count) = if user.role == Role::Admin {
                    (r.classes_in_school(user.school)?.len(), r.users_in_school(user.school)?.len())
                } else {
                    (classes.len(), 0)
                };
                Ok((school, classes, class_count, people_count))
            })
        })
        .await?;
    Ok(page(HomePage {
        chrome: Chrome::for_user("Home", &me).in_section("home").with_notice(notice_text(q.done.as_deref())),
        name: me.user.display_name.clone(),
        role: me.user.role.as_str(),
        school_name,
        classes,
        class_count,
        people_count,
    }))
}
