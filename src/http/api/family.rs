//! Families: `/api/v1/classes/{id}/family-invitations` (printing sheets),
//! `/api/v1/family/join` (joining with one), `/api/v1/users/{id}/family` (a student's linked
//! family, read) and `/api/v1/users/{id}/family/{family_id}` (unlinking).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::family::{self, Joining};
use crate::auth::session;
use crate::domain::{ArtifactId, ClassId, UserId};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{ClientAddr, MaybeSignedIn, SignedIn, ViaHttps};
use crate::http::openapi::{Conflict, Forbidden, Invalid, JsonBody, NotFound, Throttled, Unauthenticated};
use crate::http::pages::HostHeader;

use super::input::{Json, Path};
use super::users::UserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(print_invitations))
        .routes(routes!(join))
        .routes(routes!(list_family))
        .routes(routes!(unlink_family))
        .routes(routes!(family_feed))
}

/// The address a sheet's QR code holds: the join page with the code filled in.
pub fn join_url(host: &str, code: &str) -> String {
    format!("http://{host}/f/{code}")
}

#[derive(Serialize, ToSchema)]
struct FamilyInvitation {
    student_id: UserId,
    /// The sheet's code (also printed, in groups of four, for typing).
    token: String,
    /// The join page with the code, printed as a QR code.
    url: String,
}

#[derive(Serialize, ToSchema)]
struct FamilyInvitations {
    invitations: Vec<FamilyInvitation>,
}

/// Makes a family invitation sheet for every student of a class (the class's teachers,
/// administrators). Each is good for 60 days and 4 family members; the students' earlier
/// sheets stop working.
#[utoipa::path(
    post,
    path = "/api/v1/classes/{id}/family-invitations",
    tag = "family",
    params(("id" = ClassId, Path, description = "The class's id")),
    responses(
        (status = 201, description = "One sheet per student", body = FamilyInvitations),
        Unauthenticated,
        Forbidden,
        NotFound,
    )
)]
async fn print_invitations(
    State(state): State<AppState>,
    me: SignedIn,
    host: HostHeader,
    Path(class): Path<ClassId>,
) -> Result<(StatusCode, Json<FamilyInvitations>)> {
    let (_, sheets) = state.db(move |store| family::issue_sheets(store, &me.user, class)).await?;
    let invitations = sheets
        .into_iter()
        .map(|(student, code)| FamilyInvitation { student_id: student.id, url: join_url(&host.0, &code), token: code })
        .collect();
    Ok((StatusCode::CREATED, Json(FamilyInvitations { invitations })))
}

#[derive(Deserialize, ToSchema)]
struct FamilyJoinRequest {
    /// The sheet's code, as printed or from its QR code.
    token: String,
    /// For a new family account; leave the three out when signed in as a family member
    /// joining another child.
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct FamilyJoined {
    /// The family account, signed in.
    user: UserView,
    /// The child the sheet was printed for, now linked.
    student_id: UserId,
}

/// Joins as a family member with an invitation sheet: a new family account (username,
/// display name, password) signed in at once, or, signed in as a family member, the sheet's
/// child linked to one's own account. Throttled like signing in.
#[utoipa::path(
    post,
    path = "/api/v1/family/join",
    tag = "family",
    security((), ("session" = [])),
    request_body = FamilyJoinRequest,
    responses(
        (status = 201, description = "FamilyJoined: the account and the child (and, for a new account, the session cookie)",
            body = FamilyJoined, headers(("set-cookie" = String, description = "The session cookie, for a new account"))),
        JsonBody,
        Unauthenticated,
        Forbidden,
        Conflict,
        Invalid,
        Throttled,
    )
)]
async fn join(
    State(state): State<AppState>,
    me: MaybeSignedIn,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Json(req): Json<FamilyJoinRequest>,
) -> Result<Response> {
    match (req.username, req.display_name, req.password) {
        (Some(username), Some(display_name), Some(password)) => {
            let joining = Joining { code: req.token, username, display_name, password };
            let (done, child) = family::join_new(&state, &state.guard, addr, joining).await?;
            let cookie = session::cookie(&done.session_id, https, state.config.sessions.absolute);
            let body = FamilyJoined { user: UserView::from(&done.user), student_id: child.id };
            Ok((StatusCode::CREATED, [(header::SET_COOKIE, cookie)], Json(body)).into_response())
        }
        (None, None, None) => {
            let me = me.0.ok_or(Error::Unauthenticated)?;
            let child = family::join_sibling(&state, &state.guard, addr, &me.user, &req.token).await?;
            let body = FamilyJoined { user: UserView::from(&me.user), student_id: child.id };
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        _ => Err(Error::Invalid(
            "To make a family account, give a username, a display name and a password; to add a child to your account, only the code."
                .into(),
        )),
    }
}

#[derive(Serialize, ToSchema)]
struct FamilyList {
    family: Vec<UserView>,
}

/// The family accounts linked to a student (the student's teachers, administrators).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/family",
    tag = "family",
    params(("id" = UserId, Path, description = "The student's id (for GET; POST takes a family account's id)")),
    responses((status = 200, description = "The linked family accounts", body = FamilyList), Unauthenticated, NotFound)
)]
async fn list_family(
    State(state): State<AppState>,
    me: SignedIn,
    Path(student): Path<UserId>,
) -> Result<Json<FamilyList>> {
    let people = state.db(move |store| family::family_of(store, &me.user, student)).await?;
    Ok(Json(FamilyList { family: people.iter().map(UserView::from).collect() }))
}

/// Removes a family account's link to a student (the student's teachers, administrators).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/family/{family_id}",
    tag = "family",
    params(
        ("id" = UserId, Path, description = "The student's id"),
        ("family_id" = UserId, Path, description = "The family account's id"),
    ),
    responses((status = 204, description = "Unlinked"), Unauthenticated, Forbidden, NotFound)
)]
async fn unlink_family(
    State(state): State<AppState>,
    me: SignedIn,
    Path((student, family_id)): Path<(UserId, UserId)>,
) -> Result<StatusCode> {
    state.db(move |store| family::unlink(store, &me.user, student, family_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum FamilyFeedKind {
    /// A piece of the child's work shared with the family.
    Work,
    /// A teacher's feedback on it.
    Feedback,
}

#[derive(Serialize, ToSchema)]
struct FamilyFeedItem {
    student_id: UserId,
    artifact_id: ArtifactId,
    kind: FamilyFeedKind,
    /// When it was shared or written, in ms since 1970.
    at: u64,
    /// Not opened by the caller since it arrived.
    new: bool,
}

#[derive(Serialize, ToSchema)]
struct FamilyFeed {
    items: Vec<FamilyFeedItem>,
}

/// What is shared with the caller's family (family accounts): their children's approved
/// work and the feedback on it, newest first. Reading it marks nothing as seen; opening the
/// work does.
#[utoipa::path(
    get,
    path = "/api/v1/family/feed",
    tag = "family",
    responses((status = 200, description = "The feed, newest first", body = FamilyFeed), Unauthenticated, Forbidden)
)]
async fn family_feed(State(state): State<AppState>, me: SignedIn) -> Result<Json<FamilyFeed>> {
    let items = state.db(move |store| family::feed(store, &me.user)).await?;
    let items = items
        .into_iter()
        .map(|i| FamilyFeedItem {
            student_id: i.student,
            artifact_id: i.artifact.id,
            kind: match i.kind {
                family::FeedKind::Work => FamilyFeedKind::Work,
                family::FeedKind::Feedback => FamilyFeedKind::Feedback,
            },
            at: i.at_ms,
            new: i.new,
        })
        .collect();
    Ok(Json(FamilyFeed { items }))
}
