//! Restoring a backup from the setup page, for a freshly flashed box: whoever has the setup
//! code may choose a backup on a USB stick instead of setting up a new school. The backup
//! is copied and checked into the data directory while folio serves; then folio stops and,
//! started again (by systemd on the box), swaps it in before it opens the store.

use crate::i18n::filters;
use std::path::PathBuf;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::{Chrome, PageResult, render, see_other};
use crate::auth::setup_code;
use crate::auth::throttle;
use crate::backup::{self, JobKind};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::ClientAddr;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new().route("/setup/restore", get(show).post(start))
}

struct Choice {
    path: String,
    place: String,
    name: String,
    created: String,
    schools: String,
    size: String,
    /// Why this folio cannot restore it (a newer format), if so.
    problem: Option<String>,
}

struct JobRow {
    running: bool,
    failed: bool,
    message: String,
}

#[derive(Template)]
#[template(path = "restore.html")]
struct RestorePage {
    chrome: Chrome,
    choices: Vec<Choice>,
    job: Option<JobRow>,
    setup_code: String,
}

async fn is_set_up(state: &AppState) -> Result<bool, Error> {
    state.db(|store| Ok(store.read(|r| r.is_set_up())?)).await
}

/// Every backup on the USB sticks (and the configured folder), newest first per place.
async fn choices(state: &AppState) -> Result<Vec<Choice>, Error> {
    let extra = state.config.backup_dir.clone();
    tokio::task::spawn_blocking(move || {
        backup::places(extra.as_deref())
            .into_iter()
            .flat_map(|place| {
                let label = place.label.clone();
                let root = place.path.clone();
                place.backups.into_iter().map(move |(name, m)| {
                    let path = root.join(&name);
                    Choice {
                        problem: backup::inspect(&path).err().map(|e| e.to_string()),
                        path: path.display().to_string(),
                        place: label.clone(),
                        created: m.created(),
                        schools: m.schools.join(", "),
                        size: backup::human(m.size()),
                        name,
                    }
                })
            })
            .collect()
    })
    .await
    .map_err(Error::internal)
}

async fn restore_page(state: &AppState, error: Option<Error>, setup_code: String) -> PageResult {
    let job = state.backups.current().filter(|j| j.kind == JobKind::Restore).map(|job| match job.outcome {
        None => JobRow { running: true, failed: false, message: job.progress.to_string() },
        Some(Ok(_)) => JobRow {
            running: true,
            failed: false,
            message: "The backup is copied and checked. folio is restarting with it; this page moves on by itself."
                .into(),
        },
        Some(Err(message)) => JobRow { running: false, failed: true, message },
    });
    let running = job.as_ref().is_some_and(|j| j.running);
    let mut chrome = Chrome::anonymous("title-restore");
    let status = match &error {
        Some(e) => {
            chrome.error = Some(e.message());
            e.status_code()
        }
        None => axum::http::StatusCode::OK,
    };
    let page = RestorePage { chrome, choices: choices(state).await?, job, setup_code };
    let mut res: Response = render(status, page);
    if running {
        res.headers_mut().insert("refresh", HeaderValue::from_static("2"));
    }
    Ok(res)
}

async fn show(State(state): State<AppState>) -> PageResult {
    if is_set_up(&state).await? {
        return Ok(see_other("/signin"));
    }
    restore_page(&state, None, String::new()).await
}

#[derive(Deserialize)]
struct RestoreForm {
    setup_code: String,
    #[serde(default)]
    backup: Option<PathBuf>,
}

async fn start(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<RestoreForm>,
) -> PageResult {
    if is_set_up(&state).await? {
        return Ok(see_other("/signin"));
    }
    // The same throttle as setup: the code is the only thing between a stranger and the box.
    let attempt = state.guard.throttle.begin(vec![throttle::setup_code(addr)]).map_err(Error::Throttled)?;
    let expected = state
        .db(|store| Ok(store.meta(setup_code::META_KEY)?))
        .await?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if expected.is_empty() || !setup_code::matches(&expected, &form.setup_code) {
        // The attempt was counted when it began; only a right code takes it back.
        return restore_page(&state, Some(Error::WrongSetupCode), String::new()).await;
    }
    attempt.succeeded();
    // Only a backup the page offered: never a path a browser made up.
    let offered = choices(&state).await?;
    let chosen = form.backup.and_then(|wanted| offered.iter().find(|c| std::path::Path::new(&c.path) == wanted));
    let Some(chosen) = chosen else {
        let e = Error::Invalid("Choose one of the backups listed below.".into());
        return restore_page(&state, Some(e), form.setup_code).await;
    };
    let started =
        state.backups.start_restore(state.store.clone(), state.config.data_dir.clone(), PathBuf::from(&chosen.path));
    match started {
        Ok(()) => {
            tracing::warn!(backup = %chosen.path, "restore started from the setup page");
            Ok(see_other("/setup/restore"))
        }
        Err(e) => restore_page(&state, Some(Error::Conflict(e.to_string())), form.setup_code).await,
    }
}
