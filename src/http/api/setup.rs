//! `POST /api/v1/setup`: finish first-run setup with the setup code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::setup::{self, SetupInput};
use crate::auth::throttle;
use crate::domain::school::check_password;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::ClientAddr;
use crate::http::openapi::{Conflict, Forbidden, JsonBody, Throttled};

use super::input::Json;

use super::users::UserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(complete_setup))
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    setup_code: String,
    school_name: String,
    username: String,
    display_name: String,
    password: String,
}

/// Shared with the setup page: throttled by address, code checked before the slow hash.
pub async fn run_setup(
    state: &AppState,
    addr: std::net::IpAddr,
    input: SetupInput,
    password: String,
) -> Result<crate::domain::User> {
    check_password(&password)?;
    let attempt = state.guard.throttle.begin(vec![throttle::setup_code(addr)]).map_err(Error::Throttled)?;
    let (input, checked) = state
        .db(move |store| {
            let checked = setup::check(store, &input);
            Ok((input, checked))
        })
        .await?;
    match checked {
        // Only a wrong code counts against the address.
        Err(Error::WrongSetupCode) => return Err(Error::WrongSetupCode),
        Err(e) => {
            attempt.succeeded();
            return Err(e);
        }
        Ok(()) => attempt.succeeded(),
    }
    let hash = state.guard.hasher.hash(password).await?;
    let data_dir = state.config.data_dir.clone();
    state.db(move |store| setup::complete(store, &data_dir, input, hash)).await
}

/// Finishes first-run setup: names the school and makes its first administrator. The setup
/// code works once; wrong codes are throttled by address.
#[utoipa::path(
    post,
    path = "/api/v1/setup",
    tag = "setup",
    security(()),
    request_body = SetupRequest,
    responses(
        (status = 201, description = "The administrator made", body = UserView),
        JsonBody,
        Forbidden,
        Conflict,
        Throttled,
    )
)]
async fn complete_setup(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Json(req): Json<SetupRequest>,
) -> Result<Response> {
    let input = SetupInput {
        setup_code: req.setup_code,
        school_name: req.school_name,
        username: req.username,
        display_name: req.display_name,
    };
    let user = run_setup(&state, addr, input, req.password).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}
