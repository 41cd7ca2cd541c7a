//! Classes and rosters: `/api/v1/classes...` and `/api/v1/roster/oneroster`.

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::roster::{ImportReport, OneRosterReport};
use crate::actions::{classes, roster, users};
use crate::domain::{Class, ClassId, Role, UserId, roster as parse};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Forbidden, Invalid, JsonBody, NotFound, Unauthenticated};
use crate::store::Queries;

use super::input::{Json, Multipart as MultipartBody, Path};
use super::users::{CardView, card_url};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_class, list_classes))
        .routes(routes!(get_class))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .routes(routes!(import_roster))
        .routes(routes!(issue_cards))
        .routes(routes!(import_oneroster))
}

#[derive(Serialize, ToSchema)]
#[schema(as = Class)]
pub struct ClassView {
    pub id: ClassId,
    pub name: String,
    pub join_code: String,
}

impl From<&Class> for ClassView {
    fn from(c: &Class) -> Self {
        ClassView { id: c.id, name: c.name.clone(), join_code: c.join_code.clone() }
    }
}

#[derive(Deserialize, ToSchema)]
struct CreateClassRequest {
    name: String,
}

/// Makes a class (teachers and administrators); its teacher is the caller.
#[utoipa::path(
    post,
    path = "/api/v1/classes",
    tag = "classes",
    request_body = CreateClassRequest,
    responses((status = 201, description = "The class made", body = ClassView), JsonBody, Unauthenticated, Forbidden)
)]
async fn create_class(
    State(state): State<AppState>,
    me: SignedIn,
    Json(req): Json<CreateClassRequest>,
) -> Result<Response> {
    let class = state.db(move |store| classes::create(store, &me.user, &req.name)).await?;
    Ok((StatusCode::CREATED, Json(ClassView::from(&class))).into_response())
}

/// The classes the caller belongs to or manages.
#[utoipa::path(
    get,
    path = "/api/v1/classes",
    tag = "classes",
    responses((status = 200, description = "The caller's classes", body = Vec<ClassView>), Unauthenticated)
)]
async fn list_classes(State(state): State<AppState>, me: SignedIn) -> Result<Json<Vec<ClassView>>> {
    let list = state.db(move |store| classes::visible(store, &me.user)).await?;
    Ok(Json(list.iter().map(|(c, _)| ClassView::from(c)).collect()))
}

#[derive(Serialize, ToSchema)]
#[schema(as = Member)]
struct MemberView {
    user_id: UserId,
    username: String,
    display_name: String,
    role: Role,
}

#[derive(Serialize, ToSchema)]
struct ClassDetail {
    id: ClassId,
    name: String,
    /// The code the class's students sign in with: for those who manage the class (absent
    /// for the school's leaders, who only read its list).
    #[serde(skip_serializing_if = "Option::is_none")]
    join_code: Option<String>,
    members: Vec<MemberView>,
}

/// A class the caller manages (or, for the school's leaders, reads), with its members.
#[utoipa::path(
    get,
    path = "/api/v1/classes/{id}",
    tag = "classes",
    params(("id" = ClassId, Path, description = "The class's id")),
    responses((status = 200, description = "The class and its members", body = ClassDetail), Unauthenticated, NotFound)
)]
async fn get_class(State(state): State<AppState>, me: SignedIn, Path(id): Path<ClassId>) -> Result<Json<ClassDetail>> {
    let (class, members, manages) = state
        .db(move |store| {
            store.read(|r| {
                let class = classes::readable(r, &me.user, id)?;
                let manages = classes::managed(r, &me.user, id).is_ok();
                let members = r.members(class.id)?;
                Ok((class, members, manages))
            })
        })
        .await?;
    Ok(Json(ClassDetail {
        id: class.id,
        name: class.name,
        join_code: manages.then_some(class.join_code),
        members: members
            .into_iter()
            .map(|(u, role)| MemberView { user_id: u.id, username: u.username, display_name: u.display_name, role })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
struct AddMemberRequest {
    user_id: UserId,
    role: Role,
}

/// Adds a person to a class as a student or a teacher.
#[utoipa::path(
    post,
    path = "/api/v1/classes/{id}/members",
    tag = "classes",
    params(("id" = ClassId, Path, description = "The class's id")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added"),
        (status = 204, description = "Already a member with that role"),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
async fn add_member(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ClassId>,
    Json(req): Json<AddMemberRequest>,
) -> Result<StatusCode> {
    let added = state.db(move |store| classes::add_member(store, &me.user, id, req.user_id, req.role)).await?;
    Ok(if added { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

/// Takes a person out of a class.
#[utoipa::path(
    delete,
    path = "/api/v1/classes/{id}/members/{user_id}",
    tag = "classes",
    params(
        ("id" = ClassId, Path, description = "The class's id"),
        ("user_id" = UserId, Path, description = "The member's id"),
    ),
    responses((status = 204, description = "Removed"), Unauthenticated, Forbidden, NotFound)
)]
async fn remove_member(
    State(state): State<AppState>,
    me: SignedIn,
    Path((id, user)): Path<(ClassId, UserId)>,
) -> Result<StatusCode> {
    state.db(move |store| classes::remove_member(store, &me.user, id, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body as text, refusing what is not CSV-ish text.
fn csv_text(headers: &HeaderMap, body: &[u8]) -> Result<String> {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(ctype.starts_with("text/csv") || ctype.starts_with("text/plain") || ctype.starts_with("application/csv")) {
        return Err(Error::Invalid("Send the roster as text/csv.".into()));
    }
    String::from_utf8(body.to_vec()).map_err(|_| Error::Refused(crate::i18n::Msg::id("error-roster-not-utf8")))
}

/// Adds students to a class from `username,display_name` lines; existing students with the
/// same username are enrolled, so importing twice is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/classes/{id}/roster",
    tag = "classes",
    params(("id" = ClassId, Path, description = "The class's id")),
    request_body(content = String, content_type = "text/csv", description = "`username,display_name`, one a line"),
    responses(
        (status = 200, description = "Who was made and enrolled, or the lines in error (then nothing changed)", body = ImportReport),
        Unauthenticated,
        Forbidden,
        NotFound,
        Invalid,
    )
)]
async fn import_roster(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ClassId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>> {
    let text = csv_text(&headers, &body)?;
    let report = state.db(move |store| roster::import_simple(store, &me.user, id, parse::parse_simple(&text))).await?;
    Ok(Json(report))
}

/// Issues new QR sign-in cards for every student of a class (old cards stop working).
/// Issues new QR sign-in cards for every student of a class (old cards stop working).
#[utoipa::path(
    post,
    path = "/api/v1/classes/{id}/cards",
    tag = "classes",
    params(("id" = ClassId, Path, description = "The class's id")),
    responses((status = 201, description = "A card for each student", body = Vec<CardView>), Unauthenticated, Forbidden, NotFound)
)]
async fn issue_cards(
    State(state): State<AppState>,
    me: SignedIn,
    host: crate::http::pages::HostHeader,
    Path(id): Path<ClassId>,
) -> Result<(StatusCode, Json<Vec<CardView>>)> {
    let (_, cards) = state.db(move |store| users::issue_class_cards(store, &me.user, id)).await?;
    let views = cards
        .into_iter()
        .map(|(u, token)| CardView {
            user_id: u.id,
            display_name: u.display_name,
            url: card_url(&host.0, &token),
            token,
        })
        .collect();
    Ok((StatusCode::CREATED, Json(views)))
}

/// The parts of a OneRoster import (for the description; `read_oneroster_form` reads them).
/// A part may also be named by its file name (`users.csv`, ...).
#[derive(ToSchema)]
#[allow(dead_code)]
struct OneRosterForm {
    #[schema(value_type = crate::http::openapi::Binary)]
    users: String,
    #[schema(value_type = crate::http::openapi::Binary)]
    classes: String,
    #[schema(value_type = crate::http::openapi::Binary)]
    enrollments: String,
}

/// Reads the three OneRoster files from a multipart form (fields `users`, `classes`,
/// `enrollments`, or files named users.csv, classes.csv, enrollments.csv).
pub async fn read_oneroster_form(mut form: Multipart) -> Result<(String, String, String)> {
    let (mut users, mut classes, mut enrollments) = (None, None, None);
    while let Some(field) =
        form.next_field().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?
    {
        let key = field.name().unwrap_or("").trim_end_matches(".csv").to_string();
        let file_key = field.file_name().unwrap_or("").trim_end_matches(".csv").to_string();
        let text = field.text().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?;
        for k in [key.as_str(), file_key.as_str()] {
            match k {
                "users" => users = Some(text.clone()),
                "classes" => classes = Some(text.clone()),
                "enrollments" => enrollments = Some(text.clone()),
                _ => {}
            }
        }
    }
    match (users, classes, enrollments) {
        (Some(u), Some(c), Some(e)) => Ok((u, c, e)),
        _ => Err(Error::Invalid("Send all three OneRoster files: users.csv, classes.csv and enrollments.csv.".into())),
    }
}

/// Imports the school's OneRoster 1.1 export (administrators). People and classes are
/// matched by their sourcedId, so a later export updates rather than duplicates.
#[utoipa::path(
    post,
    path = "/api/v1/roster/oneroster",
    tag = "classes",
    request_body(content = OneRosterForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "What was made and changed, or the lines in error", body = OneRosterReport),
        BadRequest,
        Unauthenticated,
        Forbidden,
        Invalid,
    )
)]
async fn import_oneroster(
    State(state): State<AppState>,
    me: SignedIn,
    MultipartBody(form): MultipartBody,
) -> Result<Json<OneRosterReport>> {
    let (u, c, e) = read_oneroster_form(form).await?;
    let report =
        state.db(move |store| roster::import_oneroster(store, &me.user, parse::parse_oneroster(&u, &c, &e))).await?;
    Ok(Json(report))
}
