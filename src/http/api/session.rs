//! Signing in and out, and who am I: `/api/v1/login`, `/api/v1/login/pictures`,
//! `/api/v1/login/card`, `/api/v1/logout`, `/api/v1/me`, `/api/v1/join/{code}`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::actions::signin::{self, SignedInNow};
use crate::auth::session;
use crate::domain::UserId;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{ClientAddr, SignedIn, ViaHttps};

use super::users::UserView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/login/pictures", post(login_with_pictures))
        .route("/api/v1/login/card", post(login_with_card))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/join/{code}", get(join_class))
}

/// The answer to a successful sign-in: the person, and the cookie.
fn signed_in(state: &AppState, https: bool, done: SignedInNow) -> Response {
    let cookie = session::cookie(&done.session_id, https, state.config.sessions.absolute);
    ([(header::SET_COOKIE, cookie)], Json(UserView::from(&done.user))).into_response()
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<LoginRequest>,
) -> Result<Response> {
    let done = signin::with_password(&state, &state.guard, addr, &req.username, req.password).await?;
    Ok(signed_in(&state, https, done))
}

#[derive(Deserialize)]
struct PicturesLoginRequest {
    join_code: String,
    user_id: UserId,
    /// Three picture names ("sun") or indexes, in order.
    pictures: Vec<String>,
}

async fn login_with_pictures(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<PicturesLoginRequest>,
) -> Result<Response> {
    let done = signin::with_pictures(&state, &state.guard, addr, &req.join_code, req.user_id, &req.pictures).await?;
    Ok(signed_in(&state, https, done))
}

#[derive(Deserialize)]
struct CardLoginRequest {
    token: String,
}

async fn login_with_card(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<CardLoginRequest>,
) -> Result<Response> {
    let done = signin::with_card(&state, &state.guard, addr, &req.token).await?;
    Ok(signed_in(&state, https, done))
}

async fn logout(State(state): State<AppState>, ViaHttps(https): ViaHttps, me: SignedIn) -> Result<Response> {
    signin::sign_out(&state, me.session_id).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clearing_cookie(https))]).into_response())
}

async fn me(me: SignedIn) -> Json<UserView> {
    Json(UserView::from(&me.user))
}

#[derive(Serialize)]
struct JoinView {
    class_id: crate::domain::ClassId,
    name: String,
    students: Vec<StudentTile>,
}

#[derive(Serialize)]
struct StudentTile {
    user_id: UserId,
    display_name: String,
}

/// The "tap your name" list behind a class join code.
async fn join_class(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(code): Path<String>,
) -> Result<Json<JoinView>> {
    let (class, students) = signin::class_students(&state, &state.guard, addr, &code).await?;
    Ok(Json(JoinView {
        class_id: class.id,
        name: class.name,
        students: students.into_iter().map(|u| StudentTile { user_id: u.id, display_name: u.display_name }).collect(),
    }))
}
