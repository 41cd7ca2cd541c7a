//! The admin's Backup page: the USB sticks mounted on the box (and the configured backup
//! folder), the backups already on them, and a button that writes a new one while folio
//! keeps serving. The backup runs in the background; the page shows its progress and
//! reloads itself until it is done.

use crate::i18n::filters;
use std::path::PathBuf;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, PageForm, PageResult, PageUser, render, see_other};
use crate::backup::{self, BackupError, Place};
use crate::domain::Role;
use crate::error::Error;
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/backup", get(show).post(start))
}

struct PlaceRow {
    path: String,
    label: String,
    backups: Vec<BackupRow>,
}

struct BackupRow {
    name: String,
    created: String,
    schools: String,
    size: String,
}

struct JobRow {
    place: String,
    running: bool,
    failed: bool,
    message: String,
}

#[derive(Template)]
#[template(path = "backup.html")]
struct BackupPage {
    chrome: Chrome,
    places: Vec<PlaceRow>,
    job: Option<JobRow>,
    running: bool,
}

fn admin_only(me: &PageUser) -> Result<(), Error> {
    if me.0.user.role == Role::Admin { Ok(()) } else { Err(Error::NotFound) }
}

async fn places(state: &AppState) -> Result<Vec<Place>, Error> {
    let extra = state.config.backup_dir.clone();
    tokio::task::spawn_blocking(move || backup::places(extra.as_deref())).await.map_err(Error::internal)
}

async fn backup_page(state: &AppState, me: &PageUser, error: Option<Error>) -> PageResult {
    let places = places(state).await?;
    let job = state.backups.current().filter(|job| job.kind == backup::JobKind::Backup).map(|job| {
        let place = job.place.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match job.outcome {
            None => JobRow { place, running: true, failed: false, message: job.progress.to_string() },
            Some(Ok(path)) => JobRow {
                place,
                running: false,
                failed: false,
                message: format!(
                    "The backup is in {}. You can take out the USB stick now.",
                    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
                ),
            },
            Some(Err(message)) => JobRow { place, running: false, failed: true, message },
        }
    });
    let running = job.as_ref().is_some_and(|j| j.running);
    let (chrome, status) = Chrome::for_user("title-backup", &me.0).in_section("backup").with_outcome(error.as_ref(), 0);
    let page = BackupPage {
        chrome,
        places: places
            .into_iter()
            .map(|p| PlaceRow {
                path: p.path.display().to_string(),
                label: p.label,
                backups: p
                    .backups
                    .into_iter()
                    .map(|(name, m)| BackupRow {
                        created: m.created(),
                        schools: m.schools.join(", "),
                        size: backup::human(m.size()),
                        name,
                    })
                    .collect(),
            })
            .collect(),
        job,
        running,
    };
    let mut res = render(status, page);
    if running {
        // Reload while the backup runs, so progress shows without JavaScript.
        res.headers_mut().insert("refresh", HeaderValue::from_static("2"));
    }
    Ok(res)
}

async fn show(State(state): State<AppState>, me: PageUser) -> PageResult {
    admin_only(&me)?;
    backup_page(&state, &me, None).await
}

#[derive(Deserialize)]
struct StartForm {
    place: PathBuf,
}

async fn start(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<StartForm>) -> PageResult {
    admin_only(&me)?;
    // Only a place the page offered: never a path a browser made up.
    let offered = places(&state).await?;
    let Some(place) = offered.into_iter().find(|p| p.path == form.place) else {
        let e = Error::Invalid("That USB stick is not there any more. Plug it in again and reload the page.".into());
        return backup_page(&state, &me, Some(e)).await;
    };
    let started = state.backups.start(state.store.clone(), state.blobs.clone(), state.in_flight.clone(), place.path);
    match started {
        Ok(()) => {
            tracing::info!(by = %me.0.user.username, "backup started from the admin page");
            Ok(see_other("/backup"))
        }
        Err(BackupError::Busy) => backup_page(&state, &me, Some(Error::conflict(BackupError::Busy.to_string()))).await,
        Err(e) => Ok((StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()),
    }
}
