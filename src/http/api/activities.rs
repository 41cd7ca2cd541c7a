//! Activities, class settings, family links, skills and erasure: `/api/v1/classes/{id}/activities`,
//! `/api/v1/activities/{id}`, `/api/v1/classes/{id}/settings`, `/api/v1/users/{id}/family`,
//! `/api/v1/users/{id}/erase`, `/api/v1/skills`.

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::actions::work::{self, NewActivity};
use crate::actions::work_files;
use crate::domain::work::parse_due;
use crate::domain::{Activity, ActivityId, ClassId, FileId, Role, User, UserId};
use crate::error::{Error, Result};
use crate::http::extract::SignedIn;
use crate::http::{AppState, files, uploads};
use crate::store::Queries;

use super::artifacts::{ArtifactView, FileView};
use super::parse_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/classes/{id}/activities",
            post(create_activity).layer(DefaultBodyLimit::disable()).get(list_activities),
        )
        .route("/api/v1/classes/{id}/settings", put(update_class_settings))
        .route("/api/v1/activities/{id}", get(get_activity))
        .route("/api/v1/activities/{id}/files/{file_id}", get(get_activity_file))
        .route("/api/v1/users/{id}/family", post(link_family))
        .route("/api/v1/users/{id}/erase", post(erase_user))
        .route("/api/v1/skills", get(get_skills).put(set_skills))
}

#[derive(Serialize)]
pub struct ActivityView {
    id: ActivityId,
    class_id: ClassId,
    title: String,
    prompt: String,
    due: Option<String>,
    files: Vec<FileView>,
    created_ms: u64,
}

impl ActivityView {
    fn new(a: &Activity, blobs: &crate::blobs::BlobStore) -> Self {
        let base = format!("/api/v1/activities/{}", a.id);
        ActivityView {
            id: a.id,
            class_id: a.class,
            title: a.title.clone(),
            prompt: a.prompt.clone(),
            due: a.due.clone(),
            files: a.files.iter().map(|f| FileView::new(&base, f, blobs)).collect(),
            created_ms: a.created_ms,
        }
    }
}

/// Example files for an activity are small; a teacher's video goes in as work elsewhere.
const MAX_EXAMPLE_BYTES: u64 = 512 * 1024 * 1024;

/// Stores an activity from a multipart form (`title`, `prompt`, `due`, `file` parts).
pub async fn store_new_activity(state: &AppState, me: &User, class: ClassId, form: Multipart) -> Result<Activity> {
    work_files::check_manages(state, me, class).await?;
    let mut upload = uploads::read(form, state, &["file"], MAX_EXAMPLE_BYTES, MAX_EXAMPLE_BYTES).await?;
    let new = NewActivity {
        title: upload.text("title").to_string(),
        prompt: upload.text("prompt").to_string(),
        due: parse_due(upload.text("due"))?,
    };
    let files = std::mem::take(&mut upload.files);
    let activity = work_files::create_activity(state, me, class, new, files).await?;
    drop(upload);
    Ok(activity)
}

async fn create_activity(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Response> {
    let activity = store_new_activity(&state, &me.user, parse_id(&id)?, form).await?;
    Ok((StatusCode::CREATED, Json(ActivityView::new(&activity, &state.blobs))).into_response())
}

async fn list_activities(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Vec<ActivityView>>> {
    let class: ClassId = parse_id(&id)?;
    let viewer = me.user.clone();
    let list = state
        .db(move |store| {
            store.read(|r| {
                let member = r.relation(viewer.id, class)? != crate::domain::policy::ClassRelation::None;
                let admin = viewer.role == Role::Admin && r.class(class)?.is_some_and(|c| c.school == viewer.school);
                if !(member || admin) {
                    return Err(Error::NotFound);
                }
                Ok(r.activities_of_class(class)?)
            })
        })
        .await?;
    Ok(Json(list.iter().map(|a| ActivityView::new(a, &state.blobs)).collect()))
}

#[derive(Serialize)]
struct Answer {
    user_id: UserId,
    display_name: String,
    artifacts: Vec<ArtifactView>,
}

#[derive(Serialize)]
struct ActivityDetail {
    #[serde(flatten)]
    activity: ActivityView,
    /// For the class's teachers: who has answered and who has not.
    #[serde(skip_serializing_if = "Option::is_none")]
    answered: Option<Vec<Answer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<Vec<crate::http::api::users::UserView>>,
}

async fn get_activity(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<ActivityDetail>> {
    let id: ActivityId = parse_id(&id)?;
    let viewer = me.user.clone();
    let activity = state.db(move |store| store.read(|r| work::activity(r, &viewer, id))).await?;
    let viewer = me.user.clone();
    let status = state.db(move |store| work::activity_status(store, &viewer, id)).await.ok();
    Ok(Json(ActivityDetail {
        activity: ActivityView::new(&activity, &state.blobs),
        answered: status.as_ref().map(|s| {
            s.answered
                .iter()
                .map(|(u, a)| Answer {
                    user_id: u.id,
                    display_name: u.display_name.clone(),
                    artifacts: a.iter().map(|x| ArtifactView::new(x, &me.user, &state.blobs)).collect(),
                })
                .collect()
        }),
        waiting: status.map(|s| s.waiting.iter().map(crate::http::api::users::UserView::from).collect()),
    }))
}

async fn get_activity_file(
    State(state): State<AppState>,
    me: SignedIn,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let (id, file): (ActivityId, FileId) = (parse_id(&id)?, parse_id(&file)?);
    let viewer = me.user.clone();
    let activity = state.db(move |store| store.read(|r| work::activity(r, &viewer, id))).await?;
    let file = activity.files.iter().find(|f| f.id == file).ok_or(Error::NotFound)?;
    files::serve(&state, file, &headers).await
}

#[derive(Deserialize)]
struct SettingsRequest {
    require_approval: Option<bool>,
    comments_allowed: Option<bool>,
}

async fn update_class_settings(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Json(req): Json<SettingsRequest>,
) -> Result<StatusCode> {
    let class: ClassId = parse_id(&id)?;
    state
        .db(move |store| work::set_class_settings(store, &me.user, class, req.require_approval, req.comments_allowed))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct FamilyRequest {
    student_id: UserId,
}

async fn link_family(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Json(req): Json<FamilyRequest>,
) -> Result<StatusCode> {
    let family: UserId = parse_id(&id)?;
    state.db(move |store| work::link_family(store, &me.user, family, req.student_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases a person and then the files only they used.
pub async fn erase_and_collect(state: &AppState, me: &User, user: UserId) -> Result<usize> {
    let actor = me.clone();
    let erased = state.db(move |store| work::erase_user(store, &actor, user)).await?;
    let partials = state.partials.clone();
    tokio::task::spawn_blocking(move || erased.uploads.into_iter().for_each(|id| partials.remove(id)))
        .await
        .map_err(crate::error::Error::internal)?;
    crate::housekeeping::collect_now(state, erased.hashes).await
}

#[derive(Serialize)]
struct Erased {
    files_removed: usize,
}

async fn erase_user(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Json<Erased>> {
    let files_removed = erase_and_collect(&state, &me.user, parse_id(&id)?).await?;
    Ok(Json(Erased { files_removed }))
}

#[derive(Serialize, Deserialize)]
struct Skills {
    skills: Vec<String>,
}

async fn get_skills(State(state): State<AppState>, me: SignedIn) -> Result<Json<Skills>> {
    let school = me.user.school;
    let skills =
        state.db(move |store| Ok(store.read(|r| r.school(school))?.map(|s| s.skills).unwrap_or_default())).await?;
    Ok(Json(Skills { skills }))
}

async fn set_skills(State(state): State<AppState>, me: SignedIn, Json(req): Json<Skills>) -> Result<Json<Skills>> {
    let skills = state.db(move |store| work::set_skills(store, &me.user, &req.skills)).await?;
    Ok(Json(Skills { skills }))
}
