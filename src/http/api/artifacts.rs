//! Student work: `/api/v1/artifacts...`, a student's portfolio, the review queue.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::actions::work::{self, ArtifactEdit, NewArtifact};
use crate::actions::work_files;
use crate::blobs::BlobStore;
use crate::domain::work::parse_labels;
use crate::domain::{Artifact, ArtifactId, ClassId, Comment, FileId, FileRef, User, UserId, Version, VersionId};
use crate::error::{Error, Result};
use crate::http::extract::SignedIn;
use crate::http::openapi::{
    BadRequest, Binary, Conflict, FileBody, FilesUnavailable, Forbidden, JsonBody, NotFound, StoringRefusals, TooLarge,
    Unauthenticated,
};
use crate::http::{AppState, files, uploads};
use crate::media;
use crate::store::Queries;

use super::input::{Json, Multipart as MultipartBody, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_artifact).layer(DefaultBodyLimit::disable()))
        .routes(routes!(get_artifact, edit_artifact, delete_artifact))
        .routes(routes!(get_file))
        .routes(routes!(get_thumbnail))
        .routes(routes!(add_version).layer(DefaultBodyLimit::disable()))
        // The limit is for `add_comment`'s voice recordings; a GET has no body to limit.
        .routes(
            routes!(add_comment, list_comments).layer(DefaultBodyLimit::max(MAX_AUDIO_BYTES as usize + 1024 * 1024)),
        )
        .routes(routes!(approve_comment))
        .routes(routes!(review_artifact))
        .routes(routes!(list_portfolio))
        .routes(routes!(review_queue))
}

#[derive(Serialize, ToSchema)]
#[schema(as = File)]
pub struct FileView {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    pub hash: String,
    pub kind: media::Kind,
    pub url: String,
    pub thumbnail_url: Option<String>,
    /// False while the file is on its way from another box (its work arrived first): there
    /// is nothing to download or preview yet.
    pub available: bool,
}

impl FileView {
    pub fn new(base: &str, f: &FileRef, blobs: &BlobStore) -> Self {
        let url = format!("{base}/files/{}", f.id);
        FileView {
            available: crate::blobs::BlobHash::from_hex(&f.hash).is_some_and(|h| blobs.contains(&h)),
            id: f.id,
            name: f.name.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            hash: f.hash.clone(),
            kind: media::kind_of(&f.content_type),
            thumbnail_url: media::thumbnailable(&f.content_type).then(|| format!("{url}/thumbnail")),
            url,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Version)]
struct VersionView {
    id: VersionId,
    note: String,
    author: UserId,
    created_ms: u64,
    files: Vec<FileView>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Artifact)]
pub struct ArtifactView {
    id: ArtifactId,
    title: String,
    reflection: String,
    tags: Vec<String>,
    skills: Vec<String>,
    visibility: crate::domain::Visibility,
    kind: String,
    class_id: Option<ClassId>,
    activity_id: Option<crate::domain::ActivityId>,
    owners: Vec<UserId>,
    approved: bool,
    reviewed: bool,
    /// Added by a family member from home.
    from_home: bool,
    created_ms: u64,
    updated_ms: u64,
    /// The files of the latest version.
    files: Vec<FileView>,
    versions: Vec<VersionView>,
    /// Reflections that lost a concurrent edit on another box (shown to the owners only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reflection_conflicts: Vec<String>,
}

impl ArtifactView {
    pub fn new(a: &Artifact, viewer: &User, blobs: &BlobStore) -> Self {
        let base = format!("/api/v1/artifacts/{}", a.id);
        let files = |v: &Version| v.files.iter().map(|f| FileView::new(&base, f, blobs)).collect::<Vec<_>>();
        ArtifactView {
            id: a.id,
            title: a.title.clone(),
            reflection: a.reflection.clone(),
            tags: a.tags.iter().cloned().collect(),
            skills: a.skills.iter().cloned().collect(),
            visibility: a.visibility,
            kind: a.kind.clone(),
            class_id: a.class,
            activity_id: a.activity,
            owners: a.owners.clone(),
            approved: a.approved,
            reviewed: a.reviewed,
            from_home: a.from_home,
            created_ms: a.created_ms,
            updated_ms: a.updated_ms,
            files: a.latest().map(files).unwrap_or_default(),
            versions: a
                .versions
                .iter()
                .map(|v| VersionView {
                    id: v.id,
                    note: v.note.clone(),
                    author: v.author,
                    created_ms: v.created_ms,
                    files: files(v),
                })
                .collect(),
            reflection_conflicts: if a.is_owner(viewer.id) { a.reflection_conflicts.clone() } else { Vec::new() },
        }
    }
}

/// The fields of a new artifact from an upload's text parts.
pub fn new_artifact(upload: &uploads::Upload) -> Result<NewArtifact> {
    let optional_id = |name: &str| -> Result<Option<String>> {
        let v = upload.text(name).trim();
        Ok((!v.is_empty()).then(|| v.to_string()))
    };
    let parse = |name: &str| -> Result<Option<uuid::Uuid>> {
        optional_id(name)?
            .map(|v| v.parse::<uuid::Uuid>().map_err(|_| Error::Invalid(format!("\"{name}\" is not a valid id."))))
            .transpose()
    };
    let co_owners = upload
        .text("co_owners")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<UserId>().map_err(|_| Error::Invalid("\"co_owners\" holds an invalid id.".into())))
        .collect::<Result<Vec<_>>>()?;
    Ok(NewArtifact {
        id: client_id(upload.text("id"))?.map(ArtifactId),
        title: upload.text("title").to_string(),
        reflection: upload.text("reflection").to_string(),
        tags: parse_labels(upload.text("tags"), true)?,
        skills: parse_labels(upload.text("skills"), false)?,
        visibility: upload.text("visibility").parse()?,
        class: parse("class_id")?.map(ClassId),
        activity: parse("activity_id")?.map(crate::domain::ActivityId),
        co_owners,
        for_student: parse("for_student")?.map(UserId),
    })
}

/// The optional `id` a client made for what it creates (empty: the box makes one).
pub fn client_id(raw: &str) -> Result<Option<uuid::Uuid>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::domain::ids::client_made(raw, "id")?))
}

/// Stores an uploaded artifact: files first (streamed), then the operation that uses them.
pub async fn store_new_artifact(state: &AppState, me: &User, form: Multipart) -> Result<Artifact> {
    work_files::may_keep_work(me)?;
    let budget = work_files::room_for_uploads(state, me).await?;
    let mut upload = uploads::read(form, state, &["file"], state.config.max_file_bytes, budget).await?;
    let new = new_artifact(&upload)?;
    upload.use_resumable(state, me).await?;
    let (files, consumes) = (std::mem::take(&mut upload.files), std::mem::take(&mut upload.consumes));
    // `upload` holds its files from collection until the operation naming them commits.
    let artifact = work_files::create_artifact(state, me, new, files, consumes).await?;
    drop(upload);
    Ok(artifact)
}

/// A student posts a new piece of work: text parts and files (`file`), or finished
/// resumable uploads named in `upload` parts. A repeated request with the same `id` gets
/// the work it made.
#[utoipa::path(
    post,
    path = "/api/v1/artifacts",
    tag = "work",
    request_body(content = NewArtifactForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The work made", body = ArtifactView),
        BadRequest,
        StoringRefusals,
    )
)]
async fn create_artifact(
    State(state): State<AppState>,
    me: SignedIn,
    MultipartBody(form): MultipartBody,
) -> Result<Response> {
    let artifact = store_new_artifact(&state, &me.user, form).await?;
    Ok((StatusCode::CREATED, Json(ArtifactView::new(&artifact, &me.user, &state.blobs))).into_response())
}

/// A piece of work the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    responses((status = 200, description = "The work", body = ArtifactView), Unauthenticated, NotFound)
)]
async fn get_artifact(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
) -> Result<Json<ArtifactView>> {
    let viewer = me.user.clone();
    let (artifact, _) = state.db(move |store| store.read(|r| work::visible(r, &viewer, id))).await?;
    if me.user.role == crate::domain::Role::Family {
        // Opened: no longer new in the family's feed. In memory (`store::lazy`), no write.
        state.store.mark_seen(me.user.id, id);
    }
    Ok(Json(ArtifactView::new(&artifact, &me.user, &state.blobs)))
}

#[derive(Deserialize, ToSchema)]
struct EditRequest {
    title: Option<String>,
    reflection: Option<String>,
    tags: Option<Vec<String>>,
    skills: Option<Vec<String>>,
    visibility: Option<String>,
}

/// Changes the fields given (the students whose work it is).
#[utoipa::path(
    patch,
    path = "/api/v1/artifacts/{id}",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    request_body = EditRequest,
    responses((status = 200, description = "The work as it is now", body = ArtifactView), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn edit_artifact(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
    Json(req): Json<EditRequest>,
) -> Result<Json<ArtifactView>> {
    let edit = ArtifactEdit {
        title: req.title,
        reflection: req.reflection,
        tags: req.tags.map(|t| parse_labels(&t.join(","), true)).transpose()?,
        skills: req.skills.map(|t| parse_labels(&t.join(","), false)).transpose()?,
        visibility: req.visibility.map(|v| v.parse()).transpose()?,
    };
    let actor = me.user.clone();
    let artifact = state.db(move |store| work::edit(store, &actor, id, edit)).await?;
    Ok(Json(ArtifactView::new(&artifact, &me.user, &state.blobs)))
}

/// Deletes a piece of work, and the files nothing else uses.
#[utoipa::path(
    delete,
    path = "/api/v1/artifacts/{id}",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    responses((status = 204, description = "Deleted"), Unauthenticated, Forbidden, NotFound)
)]
async fn delete_artifact(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
) -> Result<StatusCode> {
    work_files::delete_artifact(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A file of the work (or a voice comment's recording), with Range and safe headers: active
/// content (HTML, SVG, scripts, PDF, unknown types) comes as an `application/octet-stream`
/// attachment.
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}/files/{file_id}",
    tag = "work",
    params(
        ("id" = ArtifactId, Path, description = "The work's id"),
        ("file_id" = FileId, Path, description = "The file's id (of a version, or of a voice comment)"),
    ),
    responses(
        FileBody,
        Unauthenticated,
        NotFound,
    )
)]
async fn get_file(
    State(state): State<AppState>,
    me: SignedIn,
    Path((id, file)): Path<(ArtifactId, FileId)>,
    headers: HeaderMap,
) -> Result<Response> {
    let (file, _) = work_files::visible_file(&state, &me.user, id, file).await?;
    files::serve(&state, &file, &headers).await
}

/// A small JPEG of an image file.
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}/files/{file_id}/thumbnail",
    tag = "work",
    params(
        ("id" = ArtifactId, Path, description = "The work's id"),
        ("file_id" = FileId, Path, description = "The file's id (of a version, or of a voice comment)"),
    ),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg", body = Binary),
        Unauthenticated,
        NotFound,
    )
)]
async fn get_thumbnail(
    State(state): State<AppState>,
    me: SignedIn,
    Path((id, file)): Path<(ArtifactId, FileId)>,
) -> Result<Response> {
    let (file, own) = work_files::visible_file(&state, &me.user, id, file).await?;
    let res = files::serve_thumbnail(&state, &file).await?;
    // A student's own thumbnails are kept offline with their portfolio pages.
    Ok(if own { crate::http::offline::keep(res, me.user.id) } else { res })
}

/// Adds a version (new files and a note) to a piece of work (its students).
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/{id}/versions",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    request_body(content = NewVersionForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The version made", body = VersionView),
        BadRequest,
        StoringRefusals,
    )
)]
async fn add_version(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
    MultipartBody(form): MultipartBody,
) -> Result<Response> {
    work_files::check_may_add(
        &state,
        &me.user,
        id,
        crate::domain::policy::can_edit_artifact,
        "Only the students whose work this is can add a version.",
    )
    .await?;
    let budget = work_files::room_for_uploads(&state, &me.user).await?;
    let mut upload = uploads::read(form, &state, &["file"], state.config.max_file_bytes, budget).await?;
    upload.use_resumable(&state, &me.user).await?;
    let note = upload.text("note").to_string();
    let version_id = client_id(upload.text("id"))?.map(VersionId);
    let (files, consumes) = (std::mem::take(&mut upload.files), std::mem::take(&mut upload.consumes));
    let version = work_files::add_version(&state, &me.user, id, version_id, note, files, consumes).await?;
    drop(upload);
    let base = format!("/api/v1/artifacts/{id}");
    let view = VersionView {
        id: version.id,
        note: version.note,
        author: version.author,
        created_ms: version.created_ms,
        files: version.files.iter().map(|f| FileView::new(&base, f, &state.blobs)).collect(),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Serialize, ToSchema)]
#[schema(as = Comment)]
pub struct CommentView {
    pub id: crate::domain::CommentId,
    pub artifact_id: ArtifactId,
    pub version_id: Option<VersionId>,
    pub author: UserId,
    pub author_name: String,
    pub kind: crate::domain::CommentKind,
    pub body: String,
    pub audio: Option<FileView>,
    pub approved: bool,
    pub created_ms: u64,
}

impl CommentView {
    pub fn new(c: &Comment, author_name: String, blobs: &BlobStore) -> Self {
        let base = format!("/api/v1/artifacts/{}", c.artifact);
        CommentView {
            id: c.id,
            artifact_id: c.artifact,
            version_id: c.version,
            author: c.author,
            author_name,
            kind: c.kind,
            body: c.body.clone(),
            audio: c.audio.as_ref().map(|a| FileView::new(&base, a, blobs)),
            approved: c.approved,
            created_ms: c.created_ms,
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct CommentRequest {
    /// Made by the device (the offline outbox): sending the same comment twice adds it once.
    #[serde(default)]
    id: Option<String>,
    body: String,
    version_id: Option<VersionId>,
}

/// The parts of a new piece of work (for the description; `new_artifact` reads them).
#[derive(ToSchema)]
#[allow(dead_code)]
struct NewArtifactForm {
    /// Made by the device, so sending the same work twice makes it once.
    id: Option<ArtifactId>,
    title: String,
    reflection: Option<String>,
    /// Comma-separated.
    tags: Option<String>,
    /// Codes of the school's skills (`GET /api/v1/skills`), comma-separated or one part per
    /// code (as a form's checkboxes send them).
    skills: Option<String>,
    /// `private` (the default), `class` or `family`.
    visibility: Option<crate::domain::Visibility>,
    class_id: Option<ClassId>,
    activity_id: Option<crate::domain::ActivityId>,
    /// Ids of classmates (students of the work's class) who made it too, comma-separated or
    /// one part per id. Anyone else is refused and nothing is made.
    co_owners: Option<String>,
    /// Family members only: the child whose portfolio this goes into (from home: private,
    /// waiting for the teacher).
    for_student: Option<UserId>,
    /// The files, as many parts as there are files.
    #[schema(value_type = Option<Vec<Binary>>)]
    file: (),
    /// Finished resumable uploads (`/api/v1/uploads/...` or their ids), one a part.
    upload: Option<Vec<String>>,
}

/// The parts of a new version (for the description; `add_version` reads them).
#[derive(ToSchema)]
#[allow(dead_code)]
struct NewVersionForm {
    id: Option<VersionId>,
    note: Option<String>,
    #[schema(value_type = Option<Vec<Binary>>)]
    file: (),
    upload: Option<Vec<String>>,
}

/// A teacher's voice feedback (for the description; `add_comment` reads it).
#[derive(ToSchema)]
#[allow(dead_code)]
struct VoiceCommentForm {
    id: Option<crate::domain::CommentId>,
    body: Option<String>,
    version_id: Option<VersionId>,
    /// A sound recording.
    #[schema(value_type = Binary)]
    audio: (),
}

/// Voice feedback is at most this long (about 20 minutes of Opus).
const MAX_AUDIO_BYTES: u64 = 50 * 1024 * 1024;

/// A comment as JSON `{"body"}`, or as multipart with `body` and an `audio` recording.
/// Comments on a piece of work, or gives feedback (teachers), as JSON; or, for a teacher's
/// voice feedback, as multipart with `body` and an `audio` recording.
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/{id}/comments",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    request_body(content(
        (CommentRequest = "application/json"),
        (VoiceCommentForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The comment made", body = CommentView),
        JsonBody,
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        TooLarge,
        FilesUnavailable,
    )
)]
async fn add_comment(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
    req: Request,
) -> Result<Response> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (comment_id, body, version, audio) = if multipart {
        work_files::check_may_add(
            &state,
            &me.user,
            id,
            crate::domain::policy::can_review_artifact,
            "Voice recordings are for teachers' feedback.",
        )
        .await?;
        let form = Multipart::from_request(req, &state).await.map_err(|e| Error::Invalid(e.body_text()))?;
        let upload = uploads::read(form, &state, &["audio"], MAX_AUDIO_BYTES, MAX_AUDIO_BYTES).await?;
        let version = upload.text("version_id").parse().ok();
        let audio = upload.files.first().cloned();
        if audio.as_ref().is_some_and(|a| media::kind_of(&a.content_type) != media::Kind::Audio) {
            return Err(Error::Invalid("Voice feedback must be a sound recording.".into()));
        }
        (client_id(upload.text("id"))?, upload.text("body").to_string(), version, audio)
    } else {
        let Json(req) = Json::<CommentRequest>::from_request(req, &state).await?;
        (client_id(req.id.as_deref().unwrap_or(""))?, req.body, req.version_id, None)
    };
    let actor = me.user.clone();
    let new = work::NewComment { id: comment_id.map(crate::domain::CommentId), body, audio, version };
    let comment = state.db(move |store| work::add_comment(store, &actor, id, new)).await?;
    Ok((StatusCode::CREATED, Json(CommentView::new(&comment, me.user.display_name.clone(), &state.blobs)))
        .into_response())
}

/// Comments with their authors' names.
pub async fn comment_views(state: &AppState, me: &User, id: ArtifactId) -> Result<Vec<CommentView>> {
    let (viewer, blobs) = (me.clone(), state.blobs.clone());
    state.read_now(move |store| {
        let comments = work::comments(store, &viewer, id)?;
        store.read(|r| {
            comments
                .iter()
                .map(|c| {
                    let name = r.user(c.author)?.map(|u| u.display_name).unwrap_or_default();
                    Ok(CommentView::new(c, name, &blobs))
                })
                .collect()
        })
    })
}

/// The comments and feedback on a piece of work that the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}/comments",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    responses((status = 200, description = "Oldest first", body = Vec<CommentView>), Unauthenticated, NotFound)
)]
async fn list_comments(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
) -> Result<Json<Vec<CommentView>>> {
    Ok(Json(comment_views(&state, &me.user, id).await?))
}

/// Approves a classmate's comment (the class's teachers).
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/{id}/comments/{comment_id}/approve",
    tag = "work",
    params(
        ("id" = ArtifactId, Path, description = "The work's id"),
        ("comment_id" = crate::domain::CommentId, Path, description = "The comment's id"),
    ),
    responses((status = 204, description = "Approved"), Unauthenticated, Forbidden, NotFound)
)]
async fn approve_comment(
    State(state): State<AppState>,
    me: SignedIn,
    Path((id, comment)): Path<(ArtifactId, crate::domain::CommentId)>,
) -> Result<StatusCode> {
    state.db(move |store| work::approve_comment(store, &me.user, id, comment)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct ReviewRequest {
    approved: Option<bool>,
}

/// Marks a piece of work reviewed, and approves it (or takes the approval back).
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/{id}/review",
    tag = "work",
    params(("id" = ArtifactId, Path, description = "The work's id")),
    request_body = ReviewRequest,
    responses((status = 200, description = "The work as it is now", body = ArtifactView), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn review_artifact(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
    Json(req): Json<ReviewRequest>,
) -> Result<Json<ArtifactView>> {
    let actor = me.user.clone();
    let artifact = state.db(move |store| work::review(store, &actor, id, req.approved)).await?;
    Ok(Json(ArtifactView::new(&artifact, &me.user, &state.blobs)))
}

/// A student's portfolio: the work of theirs the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/artifacts",
    tag = "work",
    params(("id" = UserId, Path, description = "The student's id")),
    responses((status = 200, description = "Newest first", body = Vec<ArtifactView>), Unauthenticated, NotFound)
)]
async fn list_portfolio(
    State(state): State<AppState>,
    me: SignedIn,
    Path(student): Path<UserId>,
) -> Result<Json<Vec<ArtifactView>>> {
    let viewer = me.user.clone();
    let artifacts = state.db(move |store| work::portfolio(store, &viewer, student)).await?;
    Ok(Json(artifacts.iter().map(|a| ArtifactView::new(a, &me.user, &state.blobs)).collect()))
}

/// New work waiting for the caller's review (teachers).
#[utoipa::path(
    get,
    path = "/api/v1/review-queue",
    tag = "work",
    responses((status = 200, description = "Oldest first", body = Vec<ArtifactView>), Unauthenticated)
)]
async fn review_queue(State(state): State<AppState>, me: SignedIn) -> Result<Json<Vec<ArtifactView>>> {
    let viewer = me.user.clone();
    let queue = state.db(move |store| work::review_queue(store, &viewer)).await?;
    Ok(Json(queue.iter().map(|a| ArtifactView::new(a, &me.user, &state.blobs)).collect()))
}
