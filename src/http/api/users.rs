//! People: `/api/v1/users` and the credential resets under `/api/v1/users/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::credentials;
use crate::actions::users::{self, NewUser};
use crate::domain::pictures::PictureSequence;
use crate::domain::{Role, User, UserId};
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{Conflict, Forbidden, JsonBody, NotFound, Throttled, Unauthenticated};

use super::input::{Json, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(set_password))
        .routes(routes!(set_pictures))
        .routes(routes!(issue_card))
}

/// A person as the API shows them: never a credential.
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub school_id: crate::domain::SchoolId,
    pub has_password: bool,
    pub has_pictures: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            disabled: u.disabled,
            school_id: u.school,
            has_password: u.password_hash.is_some(),
            has_pictures: u.pictures_hash.is_some(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct CreateUserRequest {
    username: String,
    display_name: String,
    role: Role,
    /// Optional: young students may sign in with pictures or a card only.
    #[serde(default)]
    password: Option<String>,
}

/// Adds a person to the school (administrators; teachers add students).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "The person made", body = UserView),
        JsonBody,
        Unauthenticated,
        Forbidden,
        Conflict,
    )
)]
async fn create_user(
    State(state): State<AppState>,
    me: SignedIn,
    Json(req): Json<CreateUserRequest>,
) -> Result<Response> {
    users::check_may_create(&me.user)?;
    let hash = credentials::password_hash(&state.guard, req.password).await?;
    let new = NewUser { username: req.username, display_name: req.display_name, role: req.role, external_id: None };
    let user = state.db(move |store| users::create(store, &me.user, new, hash)).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}

/// The people the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    responses((status = 200, description = "The people the caller may see", body = Vec<UserView>), Unauthenticated)
)]
async fn list_users(State(state): State<AppState>, me: SignedIn) -> Result<Json<Vec<UserView>>> {
    let people = state.db(move |store| users::visible_people(store, &me.user)).await?;
    Ok(Json(people.iter().map(UserView::from).collect()))
}

/// A person the caller manages.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = UserId, Path, description = "The person's id")),
    responses((status = 200, description = "The person", body = UserView), Unauthenticated, NotFound)
)]
async fn get_user(State(state): State<AppState>, me: SignedIn, Path(id): Path<UserId>) -> Result<Json<UserView>> {
    let user = state.db(move |store| users::manageable(store, &me.user, id)).await?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Deserialize, ToSchema)]
struct UpdateUserRequest {
    disabled: Option<bool>,
}

/// Disables or enables a person's account.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = UserId, Path, description = "The person's id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The person as they are now", body = UserView),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
async fn update_user(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<UserId>,
    Json(req): Json<UpdateUserRequest>,
) -> Result<Json<UserView>> {
    let user = state
        .db(move |store| {
            let target = users::manageable(store, &me.user, id)?;
            if let Some(disabled) = req.disabled {
                users::set_disabled(store, &me.user, &target, disabled)?;
            }
            users::manageable(store, &me.user, id)
        })
        .await?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Deserialize, ToSchema)]
struct PasswordRequest {
    password: String,
    /// `current_password` (or `current_pictures`): required when people change their own.
    #[serde(flatten)]
    current: credentials::Current,
}

/// Sets a person's password. People changing their own give their current password (or
/// pictures).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/password",
    tag = "users",
    params(("id" = UserId, Path, description = "The person's id")),
    request_body = PasswordRequest,
    responses(
        (status = 204, description = "The password is set; other sessions of the person end"),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
        Throttled,
    )
)]
async fn set_password(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<UserId>,
    Json(req): Json<PasswordRequest>,
) -> Result<StatusCode> {
    credentials::set_password(&state, &state.guard, &me, id, req.password, req.current).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct PicturesRequest {
    /// Three picture names or indexes; leave out to have folio choose at random.
    #[serde(default)]
    pictures: Option<Vec<String>>,
    /// `current_password` (or `current_pictures`): required when people change their own.
    #[serde(flatten)]
    current: credentials::Current,
}

#[derive(Serialize, ToSchema)]
struct PicturesView {
    pictures: Vec<&'static str>,
}

/// Sets a young student's three sign-in pictures (chosen at random when none are given).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/pictures",
    tag = "users",
    params(("id" = UserId, Path, description = "The person's id")),
    request_body = PicturesRequest,
    responses(
        (status = 200, description = "The pictures, in order", body = PicturesView),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
        Throttled,
    )
)]
async fn set_pictures(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<UserId>,
    Json(req): Json<PicturesRequest>,
) -> Result<Json<PicturesView>> {
    let sequence = match req.pictures {
        Some(p) => PictureSequence::parse(&p)?,
        None => PictureSequence::random(),
    };
    credentials::set_pictures(&state, &state.guard, &me, id, &sequence, req.current).await?;
    Ok(Json(PicturesView { pictures: sequence.stems() }))
}

#[derive(Serialize, ToSchema)]
pub struct CardView {
    pub user_id: UserId,
    pub display_name: String,
    /// The secret sign-in link printed as a QR code.
    pub url: String,
    pub token: String,
}

pub fn card_url(host: &str, token: &str) -> String {
    format!("http://{host}/q/{token}")
}

/// Issues a new QR sign-in card (the old one stops working). A teacher's or an
/// administrator's reset has no body; people printing their own send their current password
/// or pictures.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/card",
    tag = "users",
    params(("id" = UserId, Path, description = "The person's id")),
    request_body(content = Option<credentials::Current>, description = "Only for one's own card"),
    responses(
        (status = 201, description = "The new card", body = CardView),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
        Throttled,
    )
)]
async fn issue_card(
    State(state): State<AppState>,
    me: SignedIn,
    host: crate::http::pages::HostHeader,
    Path(id): Path<UserId>,
    current: Option<Json<credentials::Current>>,
) -> Result<(StatusCode, Json<CardView>)> {
    // A teacher's or an administrator's reset has no body; people printing their own send
    // `{"current_password": ...}` (or `current_pictures`).
    let current = current.map(|Json(c)| c).unwrap_or_default();
    let (user, token) = credentials::issue_card(&state, &state.guard, &me, id, current).await?;
    Ok((
        StatusCode::CREATED,
        Json(CardView { user_id: user.id, display_name: user.display_name, url: card_url(&host.0, &token), token }),
    ))
}
