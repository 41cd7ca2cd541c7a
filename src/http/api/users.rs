//! People: `/api/v1/users` and the credential resets under `/api/v1/users/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::actions::credentials;
use crate::actions::users::{self, NewUser};
use crate::domain::pictures::PictureSequence;
use crate::domain::{Role, User, UserId};
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::SignedIn;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", post(create_user).get(list_users))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user))
        .route("/api/v1/users/{id}/password", put(set_password))
        .route("/api/v1/users/{id}/pictures", put(set_pictures))
        .route("/api/v1/users/{id}/card", post(issue_card))
}

/// A person as the API shows them: never a credential.
#[derive(Serialize)]
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

#[derive(Deserialize)]
struct CreateUserRequest {
    username: String,
    display_name: String,
    role: Role,
    /// Optional: young students may sign in with pictures or a card only.
    #[serde(default)]
    password: Option<String>,
}

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

async fn list_users(State(state): State<AppState>, me: SignedIn) -> Result<Json<Vec<UserView>>> {
    let people = state.db(move |store| users::visible_people(store, &me.user)).await?;
    Ok(Json(people.iter().map(UserView::from).collect()))
}

async fn get_user(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Json<UserView>> {
    let id: UserId = super::parse_id(&id)?;
    let user = state.db(move |store| users::manageable(store, &me.user, id)).await?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Deserialize)]
struct UpdateUserRequest {
    disabled: Option<bool>,
}

async fn update_user(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Json(req): Json<UpdateUserRequest>,
) -> Result<Json<UserView>> {
    let id: UserId = super::parse_id(&id)?;
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

#[derive(Deserialize)]
struct PasswordRequest {
    password: String,
    /// `current_password` (or `current_pictures`): required when people change their own.
    #[serde(flatten)]
    current: credentials::Current,
}

async fn set_password(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Json(req): Json<PasswordRequest>,
) -> Result<StatusCode> {
    let id: UserId = super::parse_id(&id)?;
    credentials::set_password(&state, &state.guard, &me, id, req.password, req.current).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PicturesRequest {
    /// Three picture names or indexes; leave out to have folio choose at random.
    #[serde(default)]
    pictures: Option<Vec<String>>,
    /// `current_password` (or `current_pictures`): required when people change their own.
    #[serde(flatten)]
    current: credentials::Current,
}

#[derive(Serialize)]
struct PicturesView {
    pictures: Vec<&'static str>,
}

async fn set_pictures(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Json(req): Json<PicturesRequest>,
) -> Result<Json<PicturesView>> {
    let id: UserId = super::parse_id(&id)?;
    let sequence = match req.pictures {
        Some(p) => PictureSequence::parse(&p)?,
        None => PictureSequence::random(),
    };
    credentials::set_pictures(&state, &state.guard, &me, id, &sequence, req.current).await?;
    Ok(Json(PicturesView { pictures: sequence.stems() }))
}

#[derive(Serialize)]
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

async fn issue_card(
    State(state): State<AppState>,
    me: SignedIn,
    host: crate::http::pages::HostHeader,
    Path(id): Path<String>,
    current: Option<Json<credentials::Current>>,
) -> Result<(StatusCode, Json<CardView>)> {
    let id: UserId = super::parse_id(&id)?;
    // A teacher's or an administrator's reset has no body; people printing their own send
    // `{"current_password": ...}` (or `current_pictures`).
    let current = current.map(|Json(c)| c).unwrap_or_default();
    let (user, token) = credentials::issue_card(&state, &state.guard, &me, id, current).await?;
    Ok((
        StatusCode::CREATED,
        Json(CardView { user_id: user.id, display_name: user.display_name, url: card_url(&host.0, &token), token }),
    ))
}
