//! Activities, class settings, family links and erasure: `/api/v1/classes/{id}/activities`,
//! `/api/v1/activities/{id}`, `/api/v1/classes/{id}/settings`, `/api/v1/users/{id}/family`,
//! `/api/v1/users/{id}/erase`.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::actions::work::{self, NewActivity};
use crate::actions::work_files;
use crate::domain::work::parse_due;
use crate::domain::{Activity, ActivityId, ClassId, FileId, Role, SkillId, User, UserId};
use crate::error::{Error, Result};
use crate::http::extract::SignedIn;
use crate::http::openapi::{
    BadRequest, Binary, DiskFull, FileBody, FilesUnavailable, Forbidden, Invalid, JsonBody, NotFound, TooLarge,
    Unauthenticated,
};
use crate::http::{AppState, files, uploads};
use crate::store::Queries;

use super::artifacts::{ArtifactView, FileView};
use super::input::{Json, Multipart as MultipartBody, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // No limit for the example files (`store_new_activity` has its own); a GET has no body.
        .routes(routes!(create_activity, list_activities).layer(DefaultBodyLimit::disable()))
        .routes(routes!(update_class_settings))
        .routes(routes!(get_activity, edit_activity))
        .routes(routes!(get_activity_file))
        .routes(routes!(link_family))
        .routes(routes!(erase_user))
}

#[derive(Serialize, ToSchema)]
#[schema(as = Activity)]
pub struct ActivityView {
    id: ActivityId,
    class_id: ClassId,
    title: String,
    prompt: String,
    due: Option<String>,
    files: Vec<FileView>,
    created_ms: u64,
    /// The school's skills the activity targets (work answering it starts with them).
    skill_ids: Vec<SkillId>,
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
            skill_ids: a.skills.clone(),
        }
    }
}

/// The parts of a new activity (for the description; `store_new_activity` reads them).
#[derive(ToSchema)]
#[allow(dead_code)]
struct NewActivityForm {
    title: String,
    prompt: Option<String>,
    /// `YYYY-MM-DD`.
    due: Option<String>,
    /// Comma-separated ids of the school's skills it targets (or one part per id).
    skill_ids: Option<String>,
    #[schema(value_type = Option<Vec<Binary>>)]
    file: (),
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
        skills: parse_skill_ids(upload.text("skill_ids"))?,
    };
    let files = std::mem::take(&mut upload.files);
    let activity = work_files::create_activity(state, me, class, new, files).await?;
    drop(upload);
    Ok(activity)
}

/// `skill_ids` as sent: ids separated by commas (a form's checkboxes arrive joined so).
fn parse_skill_ids(raw: &str) -> Result<Vec<SkillId>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<SkillId>()
                .map_err(|_| Error::Invalid(format!("\"skill_ids\" holds \"{s}\", which is not an id.")))
        })
        .collect()
}

/// Posts an activity to a class (its teachers), with example files.
#[utoipa::path(
    post,
    path = "/api/v1/classes/{id}/activities",
    tag = "activities",
    params(("id" = ClassId, Path, description = "The class's id")),
    request_body(content = NewActivityForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The activity made", body = ActivityView),
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        TooLarge,
        Invalid,
        DiskFull,
        FilesUnavailable,
    )
)]
async fn create_activity(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ClassId>,
    MultipartBody(form): MultipartBody,
) -> Result<Response> {
    let activity = store_new_activity(&state, &me.user, id, form).await?;
    Ok((StatusCode::CREATED, Json(ActivityView::new(&activity, &state.blobs))).into_response())
}

/// A class's activities (its members and the school's administrators).
#[utoipa::path(
    get,
    path = "/api/v1/classes/{id}/activities",
    tag = "activities",
    params(("id" = ClassId, Path, description = "The class's id")),
    responses((status = 200, description = "The class's activities", body = Vec<ActivityView>), Unauthenticated, NotFound)
)]
async fn list_activities(
    State(state): State<AppState>,
    me: SignedIn,
    Path(class): Path<ClassId>,
) -> Result<Json<Vec<ActivityView>>> {
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

#[derive(Serialize, ToSchema)]
struct Answer {
    user_id: UserId,
    display_name: String,
    artifacts: Vec<ArtifactView>,
}

#[derive(Serialize, ToSchema)]
struct ActivityDetail {
    #[serde(flatten)]
    activity: ActivityView,
    /// For the class's teachers: who has answered and who has not.
    #[serde(skip_serializing_if = "Option::is_none")]
    answered: Option<Vec<Answer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<Vec<crate::http::api::users::UserView>>,
}

/// An activity; for the class's teachers, also who has answered and who has not.
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}",
    tag = "activities",
    params(("id" = ActivityId, Path, description = "The activity's id")),
    responses((status = 200, description = "The activity", body = ActivityDetail), Unauthenticated, NotFound)
)]
async fn get_activity(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ActivityId>,
) -> Result<Json<ActivityDetail>> {
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

/// What to change of an activity; fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
struct ActivityEditRequest {
    title: Option<String>,
    prompt: Option<String>,
    /// `YYYY-MM-DD`; an empty string removes the date.
    due: Option<String>,
    /// The school's skills it targets, all of them (an empty list: none).
    skill_ids: Option<Vec<SkillId>>,
}

/// Changes an activity's title, prompt, due date or skills (its class's teachers). One
/// operation, so the change reaches the class's other boxes.
#[utoipa::path(
    patch,
    path = "/api/v1/activities/{id}",
    tag = "activities",
    params(("id" = ActivityId, Path, description = "The activity's id")),
    request_body = ActivityEditRequest,
    responses((status = 200, description = "The activity as changed", body = ActivityView), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn edit_activity(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ActivityId>,
    Json(req): Json<ActivityEditRequest>,
) -> Result<Json<ActivityView>> {
    let edit = work::ActivityEdit { title: req.title, prompt: req.prompt, due: req.due, skills: req.skill_ids };
    let actor = me.user.clone();
    let activity = state.db(move |store| work::edit_activity(store, &actor, id, edit.clone())).await?;
    Ok(Json(ActivityView::new(&activity, &state.blobs)))
}

/// An example file of an activity, served like the files of work.
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}/files/{file_id}",
    tag = "activities",
    params(
        ("id" = ActivityId, Path, description = "The activity's id"),
        ("file_id" = FileId, Path, description = "The file's id"),
    ),
    responses(
        FileBody,
        Unauthenticated,
        NotFound,
    )
)]
async fn get_activity_file(
    State(state): State<AppState>,
    me: SignedIn,
    Path((id, file)): Path<(ActivityId, FileId)>,
    headers: HeaderMap,
) -> Result<Response> {
    let viewer = me.user.clone();
    let activity = state.db(move |store| store.read(|r| work::activity(r, &viewer, id))).await?;
    let file = activity.files.iter().find(|f| f.id == file).ok_or(Error::NotFound)?;
    files::serve(&state, file, &headers).await
}

#[derive(Deserialize, ToSchema)]
struct SettingsRequest {
    require_approval: Option<bool>,
    comments_allowed: Option<bool>,
    /// Families see the class's work shared with them (default on); off hides all of it
    /// from them at once.
    family_sharing: Option<bool>,
    /// Family members' comments wait for a teacher (default on).
    hold_family_comments: Option<bool>,
    /// Families see the teachers' ratings of their child's work (default off).
    family_sees_ratings: Option<bool>,
}

/// Changes a class's settings (its teachers): whether new work and comments wait for
/// approval, whether classmates may comment, whether families see the class's work and
/// whether their comments wait for a teacher. Settings left out stay as they are.
#[utoipa::path(
    put,
    path = "/api/v1/classes/{id}/settings",
    tag = "classes",
    params(("id" = ClassId, Path, description = "The class's id")),
    request_body = SettingsRequest,
    responses((status = 204, description = "Changed"), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn update_class_settings(
    State(state): State<AppState>,
    me: SignedIn,
    Path(class): Path<ClassId>,
    Json(req): Json<SettingsRequest>,
) -> Result<StatusCode> {
    state
        .db(move |store| {
            let change = work::SettingsChange {
                require_approval: req.require_approval,
                comments_allowed: req.comments_allowed,
                family_sharing: req.family_sharing,
                hold_family_comments: req.hold_family_comments,
                family_sees_ratings: req.family_sees_ratings,
            };
            work::set_class_settings(store, &me.user, class, change)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct FamilyRequest {
    student_id: UserId,
}

/// Links a family account to a student (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/family",
    tag = "users",
    params(("id" = UserId, Path, description = "The family account's id")),
    request_body = FamilyRequest,
    responses((status = 204, description = "Linked"), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn link_family(
    State(state): State<AppState>,
    me: SignedIn,
    Path(family): Path<UserId>,
    Json(req): Json<FamilyRequest>,
) -> Result<StatusCode> {
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
    state.collect_now(erased.hashes).await
}

#[derive(Serialize, ToSchema)]
struct Erased {
    files_removed: usize,
}

/// Erases a person everywhere (privacy law): their account, work and files; a marker
/// refuses anything later sent for them (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/erase",
    tag = "users",
    params(("id" = UserId, Path, description = "The person's id")),
    responses((status = 200, description = "Erased", body = Erased), Unauthenticated, Forbidden, NotFound, Invalid)
)]
async fn erase_user(State(state): State<AppState>, me: SignedIn, Path(id): Path<UserId>) -> Result<Json<Erased>> {
    let files_removed = erase_and_collect(&state, &me.user, id).await?;
    Ok(Json(Erased { files_removed }))
}
