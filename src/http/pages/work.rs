//! Pages for student work: making something, an artifact with its files, versions, feedback
//! and comments, the review queue, a student's portfolio and activities. Uploads from these
//! pages go through the same streaming path as the API (and JavaScript shows progress).

use crate::i18n::filters;
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, CsrfForm, PageForm, PageId, PageResult, PageUser, page, see_other};
use crate::actions::work::{self, ArtifactEdit};
use crate::actions::{work_files, work_form};
use crate::domain::summary::Summary;
use crate::domain::work::{Inline, paragraphs, parse_labels};
use crate::domain::{ActivityId, Artifact, ArtifactId, ClassId, CommentKind, Role, User, UserId, Visibility, policy};
use crate::http::api::activities::store_new_activity;
use crate::http::api::artifacts::{client_id, comment_views, store_new_artifact};
use crate::http::{AppState, parse_id, uploads};
use crate::media;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work", post(create).layer(DefaultBodyLimit::disable()))
        .route("/work/{id}", get(show))
        .route("/work/{id}/edit", post(edit))
        .route("/work/{id}/versions", post(add_version).layer(DefaultBodyLimit::disable()))
        .route("/work/{id}/comments", post(add_comment).layer(DefaultBodyLimit::max(51 * 1024 * 1024)))
        .route("/work/{id}/comments/{comment}/approve", post(approve_comment))
        .route("/work/{id}/review", post(review))
        .route("/work/{id}/assessment", post(super::assessment::rate_from_page))
        .route("/work/{id}/delete", post(delete))
        .route("/review", get(review_queue))
        .route("/review/{id}", post(review_and_next))
        .route("/students/{id}", get(portfolio))
        .route("/classes/{id}/activities", post(create_activity).layer(DefaultBodyLimit::disable()))
        .route("/activities/{id}", get(activity))
}

/// A tile in a grid of work.
pub struct WorkTile {
    pub id: ArtifactId,
    pub title: String,
    pub kind: String,
    /// The kind of its first file (`media::Kind`'s name), which the page names in words.
    pub kind_label: &'static str,
    pub thumbnail: Option<String>,
    /// How many new pieces of feedback it has (for its owner).
    pub fresh: usize,
}

impl WorkTile {
    pub fn new(a: &Artifact, fresh: usize) -> Self {
        WorkTile::of(&Summary::of(a, &[]), fresh)
    }

    /// The tile from the work's summary (`domain::summary`), without its record.
    pub fn of(s: &Summary, fresh: usize) -> Self {
        WorkTile {
            id: s.id,
            title: s.title.clone(),
            kind: s.kind.clone(),
            kind_label: media::kind_of(s.latest_type.as_deref().unwrap_or("text/plain")).as_str(),
            thumbnail: s.thumbnail.map(|f| format!("/api/v1/artifacts/{}/files/{f}/thumbnail", s.id)),
            fresh,
        }
    }
}

/// Making something new, without JavaScript (with it, `upload.js` posts to the API instead
/// and shows progress).
async fn create(State(state): State<AppState>, me: PageUser, form: Multipart) -> PageResult {
    let artifact = store_checked(&state, &me, form).await?;
    // Work a family adds from home is the child's, private until the teacher has seen it:
    // the family goes back home, told where it went.
    if me.0.user.role == Role::Family {
        return Ok(see_other("/home?done=from-home-sent"));
    }
    Ok(see_other(&format!("/work/{}", artifact.id)))
}

async fn store_checked(state: &AppState, me: &PageUser, mut form: Multipart) -> Result<Artifact, super::PageError> {
    me.check_multipart_csrf(&mut form).await?;
    Ok(store_new_artifact(state, &me.0.user, form).await?)
}

struct FileShow {
    url: String,
    name: String,
    size: u64,
    show: &'static str,
    /// The beginning of a text or code file, shown escaped in the page.
    text: Option<String>,
    /// False while the file is on its way from another box: no preview, no link.
    available: bool,
}

/// How much of a text file the page shows; the whole file is a click away.
const TEXT_PREVIEW_BYTES: u64 = 64 * 1024;

struct CommentShow {
    id: String,
    author: String,
    body: String,
    feedback: bool,
    approved: bool,
    audio_url: Option<String>,
}

struct VersionShow {
    /// When it was made (ms since the epoch).
    when: u64,
    note: String,
    files: Vec<FileShow>,
}

#[derive(Template)]
#[template(path = "artifact.html")]
struct ArtifactPage {
    chrome: Chrome,
    a: Artifact,
    /// The kind of the latest file, by its stable name (`"image"`), for the `kind` message.
    kind: &'static str,
    owners: String,
    needs_approval: bool,
    files: Vec<FileShow>,
    reflection: Vec<Vec<(String, bool)>>,
    conflicts: Vec<String>,
    comments: Vec<CommentShow>,
    versions: Vec<VersionShow>,
    tags: String,
    visibilities: Vec<&'static str>,
    can_edit: bool,
    can_delete: bool,
    can_review: bool,
    can_comment: bool,
    /// The rating controls, for those who may see the work's ratings.
    ratings: Option<super::assessment::RatingPanel>,
    back_url: String,
    /// A message id.
    back_label: &'static str,
}

/// How the page shows one file of the work or activity whose API address is `owner_url`
/// (the file itself is at `{owner_url}/files/{id}`).
fn file_show(owner_url: &str, f: &crate::domain::FileRef, blobs: &crate::blobs::BlobStore) -> FileShow {
    let show = match (media::presentation(&f.content_type), media::kind_of(&f.content_type)) {
        (media::Presentation::InlineMedia, media::Kind::Image) => "image",
        (media::Presentation::InlineMedia, media::Kind::Video) => "video",
        (media::Presentation::InlineMedia, media::Kind::Audio) => "audio",
        (media::Presentation::InlineText, _) => "text",
        _ => "download",
    };
    FileShow {
        url: format!("{owner_url}/files/{}", f.id),
        name: f.name.clone(),
        size: f.size,
        show,
        text: None,
        available: crate::blobs::BlobHash::from_hex(&f.hash).is_some_and(|h| blobs.contains(&h)),
    }
}

/// The files of a piece of work or an activity as the page shows them: pictures, players,
/// and the beginning of text files (read off the async threads).
async fn shown_files(
    state: &AppState,
    owner_url: String,
    files: Vec<crate::domain::FileRef>,
) -> Result<Vec<FileShow>, super::PageError> {
    let reader = state.clone();
    let shown = tokio::task::spawn_blocking(move || {
        files
            .iter()
            .map(|f| {
                let mut file = file_show(&owner_url, f, &reader.blobs);
                if file.show == "text" && file.available {
                    file.text = preview(&reader, f);
                }
                file
            })
            .collect()
    })
    .await
    .map_err(crate::error::Error::internal)?;
    Ok(shown)
}

/// The first bytes of a stored text file, as text (lossy: a cut character becomes `�`).
fn preview(state: &AppState, f: &crate::domain::FileRef) -> Option<String> {
    use std::io::Read;
    let hash = crate::blobs::BlobHash::from_hex(&f.hash)?;
    let mut head = Vec::new();
    let (_, reader) = state.blobs.reader(&hash).ok()??;
    reader.take(TEXT_PREVIEW_BYTES).read_to_end(&mut head).ok()?;
    let mut text = String::from_utf8_lossy(&head).into_owned();
    if f.size > TEXT_PREVIEW_BYTES {
        text.push_str("\n…");
    }
    Some(text)
}

async fn show(State(state): State<AppState>, me: PageUser, PageId(id): PageId<ArtifactId>) -> PageResult {
    artifact_page(&state, &me, id).await
}

async fn artifact_page(state: &AppState, me: &PageUser, id: ArtifactId) -> PageResult {
    let viewer = me.0.user.clone();
    let (artifact, facts, owners, needs_approval, back, ratings) = state.read_now(move |store| {
        store.read(|r| {
            let (a, facts) = work::visible(r, &viewer, id)?;
            let ratings = super::assessment::panel(r, &viewer, &a)?;
            let mut names = Vec::new();
            for o in &a.owners {
                names.extend(r.user(*o)?.map(|u| u.display_name));
            }
            let class = a.class.map(|c| r.class(c)).transpose()?.flatten();
            let needs = class.as_ref().is_none_or(|c| c.require_approval);
            let back = match (viewer.role, &class) {
                (Role::Teacher | Role::Leader, Some(c)) => (format!("/classes/{}", c.id), "artifact-back-class"),
                _ => ("/home".to_string(), "nav-home"),
            };
            Ok((a, facts, names.join(", "), needs, back, ratings))
        })
    })?;
    let comments = comment_views(state, &me.0.user, id).await?;
    if artifact.is_owner(me.0.user.id) || me.0.user.role == Role::Family {
        let user = me.0.user.id;
        // In memory: a page view makes no durable write (`store::lazy`).
        state.store.mark_seen(user, id);
    }
    let viewer = &me.0.user;
    let owner_url = format!("/api/v1/artifacts/{}", artifact.id);
    let latest = artifact.latest().map(|v| v.files.clone()).unwrap_or_default();
    let files = shown_files(state, owner_url.clone(), latest).await?;
    let page_data = ArtifactPage {
        chrome: Chrome::for_user(&artifact.title, &me.0),
        kind: media::kind_of(
            artifact.latest().and_then(|v| v.files.first()).map_or("text/plain", |f| f.content_type.as_str()),
        )
        .as_str(),
        owners,
        needs_approval,
        files,
        reflection: paragraphs(&artifact.reflection)
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|i| match i {
                        Inline::Text(t) => (t, false),
                        Inline::Link(l) => (l, true),
                    })
                    .collect()
            })
            .collect(),
        conflicts: if artifact.is_owner(viewer.id) { artifact.reflection_conflicts.clone() } else { Vec::new() },
        comments: comments
            .into_iter()
            .map(|c| CommentShow {
                id: c.id.to_string(),
                author: c.author_name,
                body: c.body,
                feedback: c.kind == CommentKind::Feedback,
                approved: c.approved,
                audio_url: c.audio.map(|a| a.url),
            })
            .collect(),
        versions: artifact
            .versions
            .iter()
            .rev()
            .map(|v| VersionShow {
                when: v.created_ms,
                note: v.note.clone(),
                files: v.files.iter().map(|f| file_show(&owner_url, f, &state.blobs)).collect(),
            })
            .collect(),
        tags: artifact.tags.iter().cloned().collect::<Vec<_>>().join(", "),
        visibilities: Visibility::ALL.iter().map(|v| v.as_str()).collect(),
        can_edit: policy::can_edit_artifact(viewer, &facts),
        can_delete: policy::can_delete_artifact(viewer, &facts),
        can_review: policy::can_review_artifact(viewer, &facts),
        can_comment: policy::can_comment(viewer, &facts),
        ratings,
        back_url: back.0,
        back_label: back.1,
        a: artifact,
    };
    let own = page_data.a.is_owner(viewer.id);
    let res = page(page_data);
    Ok(if own { crate::http::offline::keep(res, viewer.id) } else { res })
}

#[derive(Deserialize)]
struct EditForm {
    title: String,
    reflection: String,
    #[serde(default)]
    tags: String,
    visibility: String,
}

async fn edit(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    PageForm(form): PageForm<EditForm>,
) -> PageResult {
    let edit = ArtifactEdit {
        title: Some(form.title),
        reflection: Some(form.reflection),
        tags: Some(parse_labels(&form.tags, true)?),
        skills: None,
        visibility: Some(form.visibility.parse()?),
    };
    let actor = me.0.user.clone();
    state.db(move |store| work::edit(store, &actor, id, edit)).await?;
    Ok(see_other(&format!("/work/{id}")))
}

/// Reads the token first (forms put it first), then the rest of a multipart page form.
async fn checked_upload(
    state: &AppState,
    me: &PageUser,
    mut form: Multipart,
    files: &[&str],
    max_file: u64,
    budget: u64,
) -> Result<uploads::Upload, super::PageError> {
    me.check_multipart_csrf(&mut form).await?;
    Ok(uploads::read(form, state, files, max_file, budget).await?)
}

async fn add_version(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    form: Multipart,
) -> PageResult {
    work_files::check_may_add(
        &state,
        &me.0.user,
        id,
        policy::can_edit_artifact,
        "Only the students whose work this is can add a version.",
    )
    .await?;
    let budget = work_files::room_for_uploads(&state, &me.0.user).await?;
    let mut upload = checked_upload(&state, &me, form, &["file"], state.config.max_file_bytes, budget).await?;
    upload.use_resumable(&state, &me.0.user).await?;
    let note = upload.text("note").to_string();
    let version_id = client_id(upload.text("id"))?.map(crate::domain::VersionId);
    let (files, consumes) = (std::mem::take(&mut upload.files), std::mem::take(&mut upload.consumes));
    work_files::add_version(&state, &me.0.user, id, version_id, note, files, consumes).await?;
    drop(upload);
    Ok(see_other(&format!("/work/{id}")))
}

async fn add_comment(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    form: Multipart,
) -> PageResult {
    work_files::check_may_add(&state, &me.0.user, id, policy::can_comment, "Comments are not open on this work.")
        .await?;
    const MAX_AUDIO: u64 = 50 * 1024 * 1024;
    let upload = checked_upload(&state, &me, form, &["audio"], MAX_AUDIO, MAX_AUDIO).await?;
    let comment_id = client_id(upload.text("id"))?.map(crate::domain::CommentId);
    let body = upload.text("body").to_string();
    let audio = upload.files.into_iter().next().filter(|a| media::kind_of(&a.content_type) == media::Kind::Audio);
    let actor = me.0.user.clone();
    let new = work::NewComment { id: comment_id, body, audio, version: None };
    state.db(move |store| work::add_comment(store, &actor, id, new)).await?;
    Ok(see_other(&format!("/work/{id}#feedback-h")))
}

async fn approve_comment(
    State(state): State<AppState>,
    me: PageUser,
    Path((raw, comment)): Path<(String, String)>,
    PageForm(_): PageForm<CsrfForm>,
) -> PageResult {
    let (id, comment): (ArtifactId, _) = (parse_id(&raw)?, parse_id(&comment)?);
    let actor = me.0.user.clone();
    state.db(move |store| work::approve_comment(store, &actor, id, comment)).await?;
    Ok(see_other(&format!("/work/{id}#feedback-h")))
}

#[derive(Deserialize)]
struct ReviewForm {
    approved: bool,
}

async fn review(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    PageForm(form): PageForm<ReviewForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    state.db(move |store| work::review(store, &actor, id, Some(form.approved))).await?;
    Ok(see_other(&format!("/work/{id}")))
}

async fn delete(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    PageForm(_): PageForm<CsrfForm>,
) -> PageResult {
    work_files::delete_artifact(&state, &me.0.user, id).await?;
    Ok(see_other("/home"))
}

struct ReviewItem {
    id: ArtifactId,
    title: String,
    owners: String,
    class_name: String,
    reflection: String,
    files: Vec<ReviewFile>,
    panel: Option<super::assessment::RatingPanel>,
}

struct ReviewFile {
    name: String,
    url: String,
    thumbnail: Option<String>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    item: Option<ReviewItem>,
    remaining: usize,
    skip: usize,
    /// Comments waiting for a teacher (families', classmates'): (work id, work title,
    /// comment id, author, text).
    held: Vec<(ArtifactId, String, crate::domain::CommentId, String, String)>,
}

#[derive(Deserialize)]
struct SkipQuery {
    #[serde(default)]
    skip: usize,
}

async fn review_queue(State(state): State<AppState>, me: PageUser, Query(q): Query<SkipQuery>) -> PageResult {
    let viewer = me.0.user.clone();
    let held = state
        .read_now(move |store| crate::actions::family::held_comments(store, &viewer))?
        .into_iter()
        .map(|h| (h.artifact.id, h.artifact.title, h.comment.id, h.author, h.comment.body))
        .collect();
    let viewer = me.0.user.clone();
    let (item, remaining) = state.read_now(move |store| {
        store.read(|r| {
            let queue = work::review_queue_summaries(r, &viewer)?;
            let remaining = queue.len();
            let Some(a) = queue.get(q.skip).map(|s| r.artifact(s.id)).transpose()?.flatten() else {
                return Ok((None, remaining));
            };
            let mut names = Vec::new();
            for o in &a.owners {
                names.extend(r.user(*o)?.map(|u| u.display_name));
            }
            let class_name = a.class.map(|c| r.class(c)).transpose()?.flatten().map(|c| c.name).unwrap_or_default();
            let files = a
                .latest()
                .map(|v| {
                    v.files
                        .iter()
                        .map(|f| {
                            let url = format!("/api/v1/artifacts/{}/files/{}", a.id, f.id);
                            ReviewFile {
                                name: f.name.clone(),
                                thumbnail: media::thumbnailable(&f.content_type).then(|| format!("{url}/thumbnail")),
                                url,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let panel = super::assessment::panel(r, &viewer, &a)?;
            Ok((
                Some(ReviewItem {
                    panel,
                    id: a.id,
                    title: a.title,
                    owners: names.join(", "),
                    class_name,
                    reflection: a.reflection,
                    files,
                }),
                remaining,
            ))
        })
    })?;
    Ok(page(ReviewPage {
        chrome: Chrome::for_user("title-review", &me.0).in_section("review"),
        item,
        remaining,
        skip: q.skip,
        held,
    }))
}

/// Feedback, ratings and approval in one step, then the next item in the queue. The form's
/// fields: `csrf`, `feedback`, `decision`, `skip` and the ratings' `level-<skill id>`.
async fn review_and_next(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ArtifactId>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult {
    use super::assessment::{field, ratings_of};
    let actor = me.0.user.clone();
    let approve = field(&fields, "decision") == "approve";
    let feedback = field(&fields, "feedback").trim().to_string();
    let skip: usize = field(&fields, "skip").parse().unwrap_or(0);
    let ratings = ratings_of(&fields)?;
    state
        .db(move |store| {
            if !ratings.is_empty() {
                let new = crate::actions::assessment::NewRatings { ratings, ..Default::default() };
                crate::actions::assessment::rate(store, &actor, id, new)?;
            }
            if !feedback.is_empty() {
                let new = work::NewComment { body: feedback, ..Default::default() };
                work::add_comment(store, &actor, id, new)?;
            }
            work::review(store, &actor, id, approve.then_some(true))?;
            Ok(())
        })
        .await?;
    Ok(see_other(&format!("/review?skip={skip}")))
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    chrome: Chrome,
    name: String,
    work: Vec<WorkTile>,
    empty: &'static str,
    /// Where the student's progress report is, when the viewer may open it.
    report_href: Option<String>,
}

async fn portfolio(State(state): State<AppState>, me: PageUser, PageId(student): PageId<UserId>) -> PageResult {
    let viewer = me.0.user.clone();
    let (name, work, report) = state.read_now(move |store| {
        store.read(|r| {
            let work = work::portfolio_summaries(r, &viewer, student)?;
            let name = r.user(student)?.map(|u| u.display_name).unwrap_or_default();
            let report = crate::actions::student_report::may_open_report(r, &viewer, student)?;
            Ok::<_, crate::error::Error>((name, work, report))
        })
    })?;
    let res = page(PortfolioPage {
        chrome: Chrome::for_user(&name, &me.0),
        work: work.iter().map(|s| WorkTile::of(s, 0)).collect(),
        empty: "work-empty",
        name,
        report_href: report.then(|| format!("/students/{student}/report")),
    });
    // Only a student's own portfolio is kept offline, never one they are shown as a classmate.
    let own = me.0.user.id == student && me.0.user.role == Role::Student;
    Ok(if own { crate::http::offline::keep(res, student) } else { res })
}

async fn create_activity(
    State(state): State<AppState>,
    me: PageUser,
    PageId(class): PageId<ClassId>,
    mut form: Multipart,
) -> PageResult {
    me.check_multipart_csrf(&mut form).await?;
    let activity = store_new_activity(&state, &me.0.user, class, form).await?;
    Ok(see_other(&format!("/activities/{}", activity.id)))
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    chrome: Chrome,
    activity: crate::domain::Activity,
    prompt: Vec<String>,
    /// The example files, shown as a piece of work's files are.
    files: Vec<FileShow>,
    /// The due date as people say it.
    due: Option<String>,
    is_teacher: bool,
    is_student: bool,
    answered: Vec<(String, Vec<(ArtifactId, String)>)>,
    waiting: Vec<String>,
    /// The skills the activity targets (code, name).
    skills: Vec<(String, String)>,
    /// Students: the new-work form, the activity's skills ticked.
    form: super::work_form::WorkForm,
    back_url: String,
}

async fn activity(State(state): State<AppState>, me: PageUser, PageId(aid): PageId<ActivityId>) -> PageResult {
    let viewer = me.0.user.clone();
    let (activity, skills, choices) = state
        .db(move |store| {
            store.read(|r| {
                let activity = work::activity(r, &viewer, aid)?;
                let skills = work_form::activity_skills(r, &activity)?;
                let choices = work_form::for_student(r, &viewer, Some(&activity))?;
                Ok((activity, skills, choices))
            })
        })
        .await?;
    let viewer = me.0.user.clone();
    let status = if viewer.role == Role::Student {
        None
    } else {
        state.db(move |store| work::activity_status(store, &viewer, aid)).await.ok()
    };
    let is_student = me.0.user.role == Role::Student;
    let files = shown_files(&state, format!("/api/v1/activities/{aid}"), activity.files.clone()).await?;
    Ok(page(ActivityPage {
        files,
        due: activity.due.clone(),
        chrome: Chrome::for_user(&activity.title, &me.0),
        prompt: activity.prompt.split("\n\n").map(str::to_string).filter(|p| !p.trim().is_empty()).collect(),
        is_teacher: status.is_some(),
        is_student,
        answered: status
            .as_ref()
            .map(|s| {
                s.answered
                    .iter()
                    .map(|(u, a)| (u.display_name.clone(), a.iter().map(|x| (x.id, x.title.clone())).collect()))
                    .collect()
            })
            .unwrap_or_default(),
        waiting: status
            .as_ref()
            .map(|s| s.waiting.iter().map(|u| u.display_name.clone()).collect())
            .unwrap_or_default(),
        skills: skills.into_iter().map(|s| (s.code, s.name)).collect(),
        form: super::work_form::WorkForm::student(choices, Some(aid)),
        back_url: if is_student { "/home".into() } else { format!("/classes/{}", activity.class) },
        activity,
    }))
}

/// For the home page: a student's own work, newest first, with what is new on each.
pub fn student_tiles(store: &crate::store::Store, student: &User) -> crate::error::Result<Vec<WorkTile>> {
    store.read(|r| {
        let mut tiles = Vec::new();
        for s in crate::store::summaries::of_owner(r, student.id)? {
            let seen = store.seen_ms(r, student.id, s.id)?;
            tiles.push(WorkTile::of(&s, s.feedback_since(seen, student.id)));
        }
        Ok(tiles)
    })
}
