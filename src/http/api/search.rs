//! `GET /api/v1/search`: everything the caller may open, found by words and filters.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::input::{Json, Query};
use super::parse_id;
use crate::actions;
use crate::domain::{ActivityId, ClassId, UserId};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Forbidden, Invalid, JsonBody, NotFound, Unauthenticated};
use crate::search::{SearchRequest, SearchResults, Sort};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(set_language))
}

pub const DEFAULT_LIMIT: usize = 20;

/// The query string, as typed in a URL. Shared with the search page.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words; `"quoted words"` are a phrase, the last word matches as a prefix.
    #[serde(default)]
    pub q: String,
    pub class_id: Option<String>,
    pub student_id: Option<String>,
    pub tag: Option<String>,
    pub skill: Option<String>,
    pub kind: Option<String>,
    pub activity_id: Option<String>,
    /// `YYYY-MM-DD`: made on or after this day.
    pub from: Option<String>,
    /// `YYYY-MM-DD`: made on or before this day.
    pub to: Option<String>,
    /// `relevance` (the default) or `date`.
    pub sort: Option<String>,
    /// How many hits (1 to 100; 20 when not given).
    pub limit: Option<usize>,
    /// How many hits to skip.
    pub offset: Option<usize>,
}

/// Empty parameters (as a form sends them) mean "not given".
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl SearchParams {
    pub fn to_request(&self) -> Result<SearchRequest> {
        let id = |value: &Option<String>, check: fn(&str) -> Result<()>| -> Result<Option<String>> {
            given(value).map(|v| check(v).map(|()| v.to_string())).transpose()
        };
        let day = |value: &Option<String>, after: bool| -> Result<Option<i64>> {
            given(value)
                .map(|v| {
                    crate::domain::calendar::start_of_day(v)
                        .map(|ms| if after { ms + 86_400_000 } else { ms })
                        .ok_or_else(|| Error::Invalid(format!("\"{v}\" is not a date; write it as YYYY-MM-DD.")))
                })
                .transpose()
        };
        let sort = match given(&self.sort) {
            None | Some("relevance") => Sort::Relevance,
            Some("date") => Sort::Date,
            Some(other) => return Err(Error::Invalid(format!("sort must be relevance or date, not \"{other}\"."))),
        };
        if let Some(kind) = given(&self.kind)
            && !crate::media::Kind::ALL.iter().any(|k| k.as_str() == kind)
        {
            return Err(Error::Invalid(format!("\"{kind}\" is not a kind of work.")));
        }
        Ok(SearchRequest {
            q: self.q.chars().take(500).collect(),
            class: id(&self.class_id, |v| parse_id::<ClassId>(v).map(drop))?,
            student: id(&self.student_id, |v| parse_id::<UserId>(v).map(drop))?,
            tag: given(&self.tag).map(str::to_lowercase),
            skill: given(&self.skill).map(str::to_string),
            kind: given(&self.kind).map(str::to_string),
            activity: id(&self.activity_id, |v| parse_id::<ActivityId>(v).map(drop))?,
            from_ms: day(&self.from, false)?,
            to_ms: day(&self.to, true)?,
            sort,
            limit: self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, crate::search::query::MAX_LIMIT),
            offset: self.offset.unwrap_or(0).min(10_000),
        })
    }
}

/// Everything the caller may open that matches the words and filters, with counts by
/// facet. Empty parameters mean "not given".
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(SearchParams),
    responses((status = 200, description = "The hits and facets", body = SearchResults), BadRequest, Unauthenticated, NotFound, Invalid)
)]
async fn search(
    State(state): State<AppState>,
    me: SignedIn,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResults>> {
    let request = params.to_request()?;
    let index = state.search.clone();
    let viewer = me.user;
    let results = state.search_work(move |store| actions::search::search(store, &index, &viewer, &request)).await?;
    Ok(Json(results))
}

#[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
struct LanguageBody {
    /// `en` or `es`.
    language: String,
}

/// Sets the school's search language (admins); its work is re-indexed in the background.
#[utoipa::path(
    put,
    path = "/api/v1/search/language",
    tag = "search",
    request_body = LanguageBody,
    responses((status = 200, description = "The language set", body = LanguageBody), JsonBody, Unauthenticated, Forbidden)
)]
async fn set_language(
    State(state): State<AppState>,
    me: SignedIn,
    Json(body): Json<LanguageBody>,
) -> Result<Json<LanguageBody>> {
    let actor = me.user;
    let code = body.language.clone();
    state.db(move |store| actions::search::set_language(store, &actor, &code)).await?;
    Ok(Json(body))
}
