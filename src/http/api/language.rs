//! Languages: which one a request is answered in, the person's own choice and the school's
//! default (`i18n` and `http::language` for the order of choosing).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{Forbidden, JsonBody, Unauthenticated};
use crate::i18n::Locale;

use super::input::Json;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current_language))
        .routes(routes!(set_my_language))
        .routes(routes!(set_school_language))
}

#[derive(Serialize, ToSchema)]
struct LanguageInfo {
    /// The code this request was answered in (`en`, `es`, `ar`).
    language: &'static str,
    /// `ltr` or `rtl`.
    dir: &'static str,
    /// Every language folio speaks.
    available: Vec<Available>,
}

#[derive(Serialize, ToSchema)]
struct Available {
    code: &'static str,
    /// The language's name written in itself.
    name: String,
}

/// The language this request is answered in (the person's setting, the device's cookie,
/// `Accept-Language`, the school's default, English), and the languages there are.
#[utoipa::path(get, path = "/api/v1/language", tag = "language", security(()), responses((status = 200, body = LanguageInfo)))]
async fn current_language(locale: Locale) -> Json<LanguageInfo> {
    Json(LanguageInfo {
        language: locale.code(),
        dir: locale.dir(),
        available: Locale::all().map(|l| Available { code: l.code(), name: l.name() }).collect(),
    })
}

#[derive(Deserialize, Serialize, ToSchema)]
struct LanguageChoice {
    /// A code folio speaks (`en`, `es`, `ar`), or null for none (the device's or school's).
    language: Option<String>,
}

/// Sets the signed-in person's own language (it follows them to every box and device).
#[utoipa::path(
    put,
    path = "/api/v1/me/language",
    tag = "language",
    request_body = LanguageChoice,
    responses((status = 200, description = "The language set", body = LanguageChoice), JsonBody, Unauthenticated, Forbidden)
)]
async fn set_my_language(
    State(state): State<AppState>,
    me: SignedIn,
    Json(body): Json<LanguageChoice>,
) -> Result<Json<LanguageChoice>> {
    let user = me.user;
    let language = state.db(move |store| actions::language::set_own(store, &user, body.language.as_deref())).await?;
    Ok(Json(LanguageChoice { language }))
}

/// Sets the school's default language (admins): for people and devices that chose none and
/// whose browsers ask for none folio speaks.
#[utoipa::path(
    put,
    path = "/api/v1/school/language",
    tag = "language",
    request_body = LanguageChoice,
    responses((status = 200, description = "The language set", body = LanguageChoice), JsonBody, Unauthenticated, Forbidden)
)]
async fn set_school_language(
    State(state): State<AppState>,
    me: SignedIn,
    Json(body): Json<LanguageChoice>,
) -> Result<Json<LanguageChoice>> {
    let actor = me.user;
    let language =
        state.db(move |store| actions::language::set_school_default(store, &actor, body.language.as_deref())).await?;
    Ok(Json(LanguageChoice { language }))
}
