//! `POST /api/v1/setup`: finish first-run setup with the setup code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::actions::setup::{self, SetupInput};
use crate::auth::throttle;
use crate::domain::school::check_password;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::ClientAddr;

use super::users::UserView;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/setup", post(complete_setup))
}

#[derive(Deserialize)]
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
