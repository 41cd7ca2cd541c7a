//! The language menu's form (`POST /language`): signed in, the person's own setting (an
//! operation, so it follows them to every box); always, the device's cookie, so the sign-in
//! pages stay in the language after signing out.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::post;

use super::{PageError, PageResult, see_other};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{MaybeSignedIn, ViaHttps};
use crate::http::language::language_cookie;
use crate::i18n::Locale;

pub fn router() -> Router<AppState> {
    Router::new().route("/language", post(choose_language))
}

#[derive(serde::Deserialize)]
struct LanguageForm {
    language: String,
    #[serde(default)]
    csrf: String,
}

/// Back to the page the menu was on: the path of a same-origin `Referer` (the pages send
/// `same-origin` referrers), else the start page.
fn back_to(headers: &HeaderMap) -> String {
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let path = referer
        .split_once("://")
        .and_then(|(_, rest)| rest.strip_prefix(host))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"));
    path.unwrap_or("/").to_string()
}

async fn choose_language(
    State(state): State<AppState>,
    MaybeSignedIn(me): MaybeSignedIn,
    ViaHttps(https): ViaHttps,
    headers: HeaderMap,
    Form(form): Form<LanguageForm>,
) -> PageResult {
    let locale = Locale::from_code(&form.language).ok_or(Error::NotFound)?;
    if let Some(me) = me {
        super::PageUser(me.clone()).check_csrf(&form.csrf)?;
        let user = me.user;
        let code = locale.code();
        let saved = state.db(move |store| crate::actions::language::set_own(store, &user, Some(code))).await;
        // A box that joined only some classes may not change a teacher's account; the
        // device's cookie still carries the choice there.
        if let Err(e) = saved
            && !matches!(e, Error::WholeSchoolOnly(_))
        {
            return Err(PageError(e));
        }
    }
    let back = back_to(&headers);
    Ok(([(header::SET_COOKIE, language_cookie(locale, https))], see_other(&back)).into_response())
}
