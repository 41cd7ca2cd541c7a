//! Picture sign-in for a whole class in one step, from the class page: every student without
//! pictures gets three, and the page that answers prints them as cards, several to an A4
//! sheet (`picture_cards.html`). New pictures for everyone is a separate, confirmed choice.

use crate::i18n::{Msg, filters};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;

use super::{PageForm, PageId, PageResult, PageUser, page};
use crate::actions::credentials;
use crate::domain::ClassId;
use crate::error::Error;
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/classes/{id}/pictures", post(give_pictures))
}

#[derive(Deserialize)]
struct PicturesForm {
    /// New pictures for every student, those who had some too.
    #[serde(default)]
    everyone: Option<String>,
    /// The box ticked to say the teacher means it (old pictures stop working).
    #[serde(default)]
    confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "picture_cards.html")]
struct PictureCardsPage {
    class_name: String,
    join_code: String,
    back: String,
    /// (name, picture stems in order) of the students who got new pictures.
    cards: Vec<(String, Vec<&'static str>)>,
    /// The students who kept the pictures they had.
    kept: Vec<String>,
}

async fn give_pictures(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ClassId>,
    PageForm(form): PageForm<PicturesForm>,
) -> PageResult {
    let everyone = form.everyone.is_some();
    if everyone && form.confirm.is_none() {
        let refusal = Error::Refused(Msg::id("class-pictures-confirm-needed"));
        return super::classes::class_page(&state, &me, id, Some(refusal), None, Vec::new()).await;
    }
    let done = credentials::class_pictures(&state, &state.guard, &me.0, id, everyone).await?;
    Ok(page(PictureCardsPage {
        class_name: done.class.name.clone(),
        join_code: done.class.join_code.clone(),
        back: format!("/classes/{id}"),
        cards: done.given.into_iter().map(|(u, sequence)| (u.display_name, sequence.stems())).collect(),
        kept: done.kept.into_iter().map(|u| u.display_name).collect(),
    }))
}
