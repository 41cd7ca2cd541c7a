//! The school's skills and scale of levels: `/api/v1/skills` (the list, and the old flat list
//! of codes), `/api/v1/skills/items` (one skill), `/api/v1/skills/import` (a CASE package or a
//! CSV) and `/api/v1/skills/levels`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::skills::{self as actions, ImportSummary, SkillList};
use crate::domain::SkillId;
use crate::domain::skills::{self, CfPackage, Skill, SkillInput};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Forbidden, Invalid, JsonBody, NotFound, Unauthenticated, UnsupportedMediaType};

use super::input::{Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_skills, set_skills))
        .routes(routes!(create_skill))
        .routes(routes!(update_skill))
        .routes(routes!(import_skills))
        .routes(routes!(set_levels))
}

/// One skill of the school's list.
#[derive(Serialize, ToSchema)]
#[schema(as = Skill)]
pub struct SkillView {
    id: SkillId,
    /// What work is tagged with.
    code: String,
    name: String,
    group: Option<String>,
    /// The CASE identifier it was imported from.
    case_id: Option<String>,
    /// No longer offered for new work and ratings.
    retired: bool,
}

impl From<&Skill> for SkillView {
    fn from(s: &Skill) -> Self {
        SkillView {
            id: s.id,
            code: s.code.clone(),
            name: s.name.clone(),
            group: s.group.clone(),
            case_id: s.case_id.clone(),
            retired: s.retired,
        }
    }
}

/// One level of the school's scale.
#[derive(Serialize, ToSchema)]
pub struct LevelView {
    /// What a rating says: 1 is the lowest.
    level: u8,
    name: String,
}

#[derive(Serialize, ToSchema)]
struct SkillsResponse {
    /// The codes of the skills still offered (what work's `skills` hold).
    skills: Vec<String>,
    /// Every skill, retired ones too, by group and code.
    items: Vec<SkillView>,
    /// The scale, lowest first.
    levels: Vec<LevelView>,
    /// The administrators chose the scale (otherwise it is the default one).
    custom_levels: bool,
}

pub fn level_views(names: &[String]) -> Vec<LevelView> {
    names.iter().enumerate().map(|(i, n)| LevelView { level: i as u8 + 1, name: n.clone() }).collect()
}

impl From<SkillList> for SkillsResponse {
    fn from(list: SkillList) -> Self {
        SkillsResponse {
            skills: list.active().map(|s| s.code.clone()).collect(),
            items: list.skills.iter().map(SkillView::from).collect(),
            levels: level_views(&list.levels),
            custom_levels: list.custom_levels,
        }
    }
}

/// The school's skills and its scale of levels (everyone in the school).
#[utoipa::path(
    get,
    path = "/api/v1/skills",
    tag = "skills",
    responses((status = 200, description = "The skills and levels", body = SkillsResponse), Unauthenticated)
)]
async fn get_skills(State(state): State<AppState>, me: SignedIn) -> Result<Json<SkillsResponse>> {
    let list = state.db(move |store| store.read(|r| actions::list(r, &me.user))).await?;
    Ok(Json(list.into()))
}

#[derive(Deserialize, Serialize, ToSchema)]
struct Codes {
    skills: Vec<String>,
}

/// Sets the school's skills as a flat list of codes (administrators): codes left out are
/// retired, new ones are added as skills named by their codes.
#[utoipa::path(
    put,
    path = "/api/v1/skills",
    tag = "skills",
    request_body = Codes,
    responses((status = 200, description = "The codes as kept", body = Codes), JsonBody, Unauthenticated, Forbidden)
)]
async fn set_skills(State(state): State<AppState>, me: SignedIn, Json(req): Json<Codes>) -> Result<Json<Codes>> {
    let skills = state.db(move |store| actions::set_codes(store, &me.user, &req.skills)).await?;
    Ok(Json(Codes { skills }))
}

#[derive(Deserialize, ToSchema)]
struct SkillRequest {
    code: String,
    /// Defaults to the code.
    #[serde(default)]
    name: String,
    #[serde(default)]
    group: Option<String>,
    /// Retire the skill (or bring it back); left out: as it is.
    #[serde(default)]
    retired: Option<bool>,
}

impl SkillRequest {
    fn input(&self) -> SkillInput {
        SkillInput { case_id: None, code: self.code.clone(), name: self.name.clone(), group: self.group.clone() }
    }
}

/// Adds a skill (teachers and administrators).
#[utoipa::path(
    post,
    path = "/api/v1/skills/items",
    tag = "skills",
    request_body = SkillRequest,
    responses((status = 201, description = "Added", body = SkillView), JsonBody, Unauthenticated, Forbidden)
)]
async fn create_skill(State(state): State<AppState>, me: SignedIn, Json(req): Json<SkillRequest>) -> Result<Response> {
    let skill = state.db(move |store| actions::save(store, &me.user, None, req.input())).await?;
    Ok((StatusCode::CREATED, Json(SkillView::from(&skill))).into_response())
}

/// Changes a skill's code, name or group, or retires it (teachers and administrators).
#[utoipa::path(
    put,
    path = "/api/v1/skills/items/{id}",
    tag = "skills",
    params(("id" = SkillId, Path, description = "The skill's id")),
    request_body = SkillRequest,
    responses((status = 200, description = "As kept", body = SkillView), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn update_skill(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<SkillId>,
    Json(req): Json<SkillRequest>,
) -> Result<Json<SkillView>> {
    let skill = state
        .db(move |store| {
            let skill = actions::save(store, &me.user, Some(id), req.input())?;
            match req.retired {
                Some(retired) => actions::set_retired(store, &me.user, skill.id, retired),
                None => Ok(skill),
            }
        })
        .await?;
    Ok(Json(SkillView::from(&skill)))
}

#[derive(Serialize, ToSchema)]
struct ImportResult {
    /// Skills that were not there.
    created: usize,
    /// Skills matched by CASE identifier or code whose code, name or group changed.
    updated: usize,
    unchanged: usize,
}

impl From<ImportSummary> for ImportResult {
    fn from(s: ImportSummary) -> Self {
        ImportResult { created: s.created, updated: s.updated, unchanged: s.unchanged }
    }
}

/// Imports skills (teachers and administrators) from a CASE 1.1 package (`CFPackage` JSON:
/// items with a `humanCodingScheme` become skills, their `isChildOf` parent their group) or
/// from a CSV of `code,name,group` lines (`Content-Type: text/csv`). Importing again updates
/// the skills it matches, by CASE identifier or code, instead of adding them twice.
#[utoipa::path(
    post,
    path = "/api/v1/skills/import",
    tag = "skills",
    request_body(
        description = "A CASE 1.1 CFPackage (application/json), or code,name,group lines (text/csv)",
        content((Object = "application/json"), (String = "text/csv"))
    ),
    responses(
        (status = 200, description = "What the import did", body = ImportResult),
        BadRequest, UnsupportedMediaType, Invalid, Unauthenticated, Forbidden
    )
)]
async fn import_skills(
    State(state): State<AppState>,
    me: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportResult>> {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let kind = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let inputs = match kind.as_str() {
        "application/json" => {
            let package: CfPackage = serde_json::from_slice(&body)
                .map_err(|e| Error::Invalid(format!("This is not a CASE package (CFPackage JSON): {e}")))?;
            skills::parse_case(&package)?
        }
        "text/csv" => {
            let text = std::str::from_utf8(&body).map_err(|_| Error::Invalid("The CSV is not UTF-8 text.".into()))?;
            skills::parse_csv(text).map_err(|lines| {
                let said: Vec<String> = lines.iter().map(|l| format!("line {}: {}", l.line, l.message)).collect();
                Error::Invalid(format!("Nothing was imported. {}.", said.join("; ")))
            })?
        }
        _ => {
            return Err(Error::UnsupportedMediaType(
                "Send a CASE package as application/json or a list as text/csv.".into(),
            ));
        }
    };
    let summary = state.db(move |store| actions::import(store, &me.user, inputs)).await?;
    Ok(Json(summary.into()))
}

#[derive(Deserialize, ToSchema)]
struct LevelsRequest {
    /// The names of the levels, lowest first (2 to 10); null: the default scale.
    levels: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
struct LevelsResponse {
    levels: Vec<LevelView>,
}

/// Sets the school's scale of levels (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/skills/levels",
    tag = "skills",
    request_body = LevelsRequest,
    responses((status = 200, description = "The scale as kept", body = LevelsResponse), JsonBody, Unauthenticated, Forbidden)
)]
async fn set_levels(
    State(state): State<AppState>,
    me: SignedIn,
    Json(req): Json<LevelsRequest>,
) -> Result<Json<LevelsResponse>> {
    let levels = state.db(move |store| actions::set_levels(store, &me.user, req.levels)).await?;
    Ok(Json(LevelsResponse { levels: level_views(&levels) }))
}
