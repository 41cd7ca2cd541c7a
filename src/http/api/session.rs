//! Signing in and out, and who am I: `/api/v1/login`, `/api/v1/login/pictures`,
//! `/api/v1/login/card`, `/api/v1/logout`, `/api/v1/me`, `/api/v1/join/{code}`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::signin::{self, SignedInNow};
use crate::auth::session;
use crate::domain::UserId;
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::{ClientAddr, SignedIn, ViaHttps};
use crate::http::openapi::{BadCredentials, Forbidden, Invalid, JsonBody, Throttled, Unauthenticated};

use super::input::{Json, Path};
use super::users::UserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(login_with_pictures))
        .routes(routes!(login_with_card))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(join_class))
}

/// The answer to a successful sign-in, whichever way: the person, and the session cookie.
struct SignedInAnswer {
    cookie: String,
    user: UserView,
}

impl SignedInAnswer {
    fn new(state: &AppState, https: bool, done: SignedInNow) -> Self {
        let cookie = session::cookie(&done.session_id, https, state.config.sessions.absolute);
        SignedInAnswer { cookie, user: UserView::from(&done.user) }
    }
}

impl IntoResponse for SignedInAnswer {
    fn into_response(self) -> Response {
        ([(header::SET_COOKIE, self.cookie)], Json(self.user)).into_response()
    }
}

/// Every sign-in answers the same way; with the refusals any sign-in may give (the body, a
/// disabled account, too many tries), so each operation lists only what is its own.
impl IntoResponses for SignedInAnswer {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let signed_in = ResponseBuilder::new()
            .description("Signed in: the person, and the session cookie")
            .header("set-cookie", HeaderBuilder::new().description(Some("The session cookie")).build())
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name(UserView::name()))).build(),
            )
            .build();
        let mut all = BTreeMap::from([("200".to_string(), signed_in.into())]);
        all.extend(JsonBody::responses());
        all.extend(Forbidden::responses());
        all.extend(Throttled::responses());
        all
    }
}

#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    username: String,
    password: String,
}

/// Signs in with a username and password.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "session",
    security(()),
    request_body = LoginRequest,
    responses(
        SignedInAnswer,
        BadCredentials,
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<LoginRequest>,
) -> Result<SignedInAnswer> {
    let done = signin::with_password(&state, &state.guard, addr, &req.username, req.password).await?;
    Ok(SignedInAnswer::new(&state, https, done))
}

#[derive(Deserialize, ToSchema)]
struct PicturesLoginRequest {
    join_code: String,
    user_id: UserId,
    /// Three picture names ("sun") or indexes, in order.
    pictures: Vec<String>,
}

/// Signs a young student in with their class code, their name and three pictures.
#[utoipa::path(
    post,
    path = "/api/v1/login/pictures",
    tag = "session",
    security(()),
    request_body = PicturesLoginRequest,
    responses(
        SignedInAnswer,
        BadCredentials,
    )
)]
async fn login_with_pictures(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<PicturesLoginRequest>,
) -> Result<SignedInAnswer> {
    let done = signin::with_pictures(&state, &state.guard, addr, &req.join_code, req.user_id, &req.pictures).await?;
    Ok(SignedInAnswer::new(&state, https, done))
}

#[derive(Deserialize, ToSchema)]
struct CardLoginRequest {
    token: String,
}

/// Signs in with the secret of a printed QR card.
#[utoipa::path(
    post,
    path = "/api/v1/login/card",
    tag = "session",
    security(()),
    request_body = CardLoginRequest,
    responses(
        SignedInAnswer,
    )
)]
async fn login_with_card(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<CardLoginRequest>,
) -> Result<SignedInAnswer> {
    let done = signin::with_card(&state, &state.guard, addr, &req.token).await?;
    Ok(SignedInAnswer::new(&state, https, done))
}

/// Ends this session and clears its cookie.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "session",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared",
            headers(("set-cookie" = String, description = "The cleared session cookie"))),
        Unauthenticated,
        Forbidden,
    )
)]
async fn logout(State(state): State<AppState>, ViaHttps(https): ViaHttps, me: SignedIn) -> Result<Response> {
    signin::sign_out(&state, me.session_id).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clearing_cookie(https))]).into_response())
}

/// The person signed in.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "session",
    responses((status = 200, description = "The person signed in", body = UserView), Unauthenticated)
)]
async fn me(me: SignedIn) -> Json<UserView> {
    Json(UserView::from(&me.user))
}

#[derive(Serialize, ToSchema)]
struct JoinView {
    class_id: crate::domain::ClassId,
    name: String,
    students: Vec<StudentTile>,
}

#[derive(Serialize, ToSchema)]
struct StudentTile {
    user_id: UserId,
    display_name: String,
}

/// The "tap your name" list behind a class join code.
#[utoipa::path(
    get,
    path = "/api/v1/join/{code}",
    tag = "session",
    security(()),
    params(("code" = String, Path, description = "The class's join code")),
    responses(
        (status = 200, description = "The class and its students' names", body = JoinView),
        Invalid,
        Throttled,
    )
)]
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
