//! Class pages: the list, one class with its roster, adding people, importing a roster, and
//! printing QR sign-in cards.

use crate::i18n::{Msg, filters};
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{
    Chrome, CsrfForm, DoneQuery, HostHeader, PageForm, PageId, PageResult, PageUser, cards_page, notice_text, page,
    render, see_other,
};
use crate::actions::{classes, roster, users};
use crate::domain::roster::{LineError, parse_simple};
use crate::domain::{Class, ClassId, Role, User, UserId, policy};
use crate::error::Error;
use crate::http::AppState;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/classes", get(list).post(create))
        .route("/classes/{id}", get(show))
        .route("/classes/{id}/students", post(add_student))
        .route("/classes/{id}/members", post(add_member))
        .route("/classes/{id}/roster", post(import_roster))
        .route("/classes/{id}/cards", post(print_cards))
        .route("/classes/{id}/settings", post(save_settings))
}

#[derive(Template)]
#[template(path = "classes.html")]
struct ClassesPage {
    chrome: Chrome,
    classes: Vec<Class>,
    can_create: bool,
}

async fn list(State(state): State<AppState>, PageUser(me): PageUser) -> PageResult {
    let actor = me.user.clone();
    let found = state.db(move |store| classes::visible(store, &actor)).await?;
    Ok(page(ClassesPage {
        chrome: Chrome::for_user("title-classes", &me).in_section("classes"),
        can_create: policy::can_create_class(&me.user),
        classes: found.into_iter().map(|(c, _)| c).collect(),
    }))
}

#[derive(Deserialize)]
struct CreateForm {
    name: String,
}

async fn create(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<CreateForm>) -> PageResult {
    let actor = me.0.user.clone();
    let class = state.db(move |store| classes::create(store, &actor, &form.name)).await?;
    Ok(see_other(&format!("/classes/{}?done=class-created", class.id)))
}

struct MemberRow {
    id: UserId,
    name: String,
    username: String,
    /// The ways this person signs in (or the one message saying there is none yet).
    credentials: Vec<Msg>,
}

impl MemberRow {
    fn new(u: User) -> Self {
        let mut ways = Vec::new();
        if u.pictures_hash.is_some() {
            ways.push(Msg::id("class-credentials-pictures"));
        }
        if u.qr_token_hash.is_some() {
            ways.push(Msg::id("class-credentials-card"));
        }
        if u.password_hash.is_some() {
            ways.push(Msg::id("class-credentials-password"));
        }
        if ways.is_empty() {
            ways.push(Msg::id("class-credentials-none"));
        }
        MemberRow { id: u.id, name: u.display_name, username: u.username, credentials: ways }
    }
}

#[derive(Template)]
#[template(path = "class.html")]
struct ClassPage {
    chrome: Chrome,
    class: Class,
    teachers: Vec<MemberRow>,
    students: Vec<MemberRow>,
    line_errors: Vec<LineError>,
    activities: Vec<(crate::domain::ActivityId, String, Option<String>)>,
    /// The school's skills, for the activity form.
    skill_groups: Vec<super::work_form::SkillGroup>,
    /// The viewer may open the class's report (its teachers, the school's leaders).
    teaches: bool,
    /// The class's teachers and administrators manage it; the school's leaders only read
    /// its lists (no forms, no join code).
    can_manage: bool,
}

pub(super) async fn class_page(
    state: &AppState,
    me: &PageUser,
    id: ClassId,
    chrome_error: Option<Error>,
    notice: Option<crate::i18n::Msg>,
    line_errors: Vec<LineError>,
) -> PageResult {
    let actor = me.0.user.clone();
    let (class, members, activities, skills, can_manage) = state.read_now(move |store| {
        store.read(|r| {
            let class = classes::readable(r, &actor, id)?;
            let can_manage =
                policy::can_manage_class(&actor, class.school == actor.school, r.relation(actor.id, class.id)?);
            let members = r.members(class.id)?;
            let activities = r.activities_of_class(class.id)?.into_iter().map(|a| (a.id, a.title, a.due)).collect();
            let skills: Vec<_> = r.skills(class.school)?.into_iter().filter(|s| !s.retired).collect();
            Ok((class, members, activities, skills, can_manage))
        })
    })?;
    // The class's teachers and the school's leaders read its report (`policy::can_read_class_report`).
    let teaches = me.0.user.role == Role::Leader
        || members.iter().any(|(u, role)| *role == Role::Teacher && u.id == me.0.user.id);
    let (teachers, students): (Vec<_>, Vec<_>) = members.into_iter().partition(|(_, role)| *role == Role::Teacher);
    let (chrome, status) = Chrome::for_user(&class.name, &me.0)
        .in_section("classes")
        .with_notice(notice)
        .with_outcome(chrome_error.as_ref(), line_errors.len());
    Ok(render(
        status,
        ClassPage {
            chrome,
            class,
            teachers: teachers.into_iter().map(|(u, _)| MemberRow::new(u)).collect(),
            students: students.into_iter().map(|(u, _)| MemberRow::new(u)).collect(),
            line_errors,
            activities,
            skill_groups: super::work_form::groups(&skills, |_| false),
            teaches,
            can_manage,
        },
    ))
}

async fn show(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ClassId>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    class_page(&state, &me, id, None, notice_text(q.done.as_deref()), Vec::new()).await
}

/// A failed action shows the class page again with the reason, unless the class itself is
/// out of reach (then the error page).
async fn or_show_error(
    state: &AppState,
    me: &PageUser,
    id: ClassId,
    result: Result<(), Error>,
    done: &str,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("/classes/{id}?done={done}"))),
        Err(e @ (Error::Invalid(_) | Error::Refused(_) | Error::Conflict(_) | Error::WholeSchoolOnly(_))) => {
            class_page(state, me, id, Some(e), None, Vec::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AddStudentForm {
    display_name: String,
    username: String,
}

async fn add_student(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ClassId>,
    PageForm(form): PageForm<AddStudentForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let result = state
        .db(move |store| classes::add_new_student(store, &actor, id, &form.username, &form.display_name).map(|_| ()))
        .await;
    or_show_error(&state, &me, id, result, "student-added").await
}

#[derive(Deserialize)]
struct AddMemberForm {
    username: String,
    role: Role,
}

async fn add_member(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ClassId>,
    PageForm(form): PageForm<AddMemberForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let result = state
        .db(move |store| {
            let person = users::by_username(store, &actor, &form.username)?;
            classes::add_member(store, &actor, id, person.id, form.role).map(|_| ())
        })
        .await;
    or_show_error(&state, &me, id, result, "member-added").await
}

async fn import_roster(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ClassId>,
    mut form: Multipart,
) -> PageResult {
    let (mut csrf, mut text) = (String::new(), None);
    while let Some(field) =
        form.next_field().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("roster") => {
                let bytes =
                    field.bytes().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?;
                text = Some(
                    String::from_utf8(bytes.to_vec()).map_err(|_| Error::Refused(Msg::id("error-roster-not-utf8"))),
                );
            }
            _ => {}
        }
    }
    me.check_csrf(&csrf)?;
    let text = match text {
        Some(Ok(t)) => t,
        Some(Err(e)) => return class_page(&state, &me, id, Some(e), None, Vec::new()).await,
        None => {
            return class_page(
                &state,
                &me,
                id,
                Some(Error::Refused(Msg::id("error-roster-choose-file"))),
                None,
                Vec::new(),
            )
            .await;
        }
    };
    let actor = me.0.user.clone();
    let report = state.db(move |store| roster::import_simple(store, &actor, id, parse_simple(&text))).await?;
    if report.errors.is_empty() {
        let n = report.created.len() + report.enrolled.len();
        class_page(
            &state,
            &me,
            id,
            None,
            Some(Msg::with("class-imported", vec![("count", n.into()), ("new", report.created.len().into())])),
            Vec::new(),
        )
        .await
    } else {
        class_page(&state, &me, id, None, None, report.errors).await
    }
}

async fn print_cards(
    State(state): State<AppState>,
    me: PageUser,
    host: HostHeader,
    PageId(id): PageId<ClassId>,
    PageForm(_): PageForm<CsrfForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let (class, cards) = state.db(move |store| users::issue_class_cards(store, &actor, id)).await?;
    cards_page(class.name, format!("/classes/{id}"), &host.0, cards)
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    require_approval: bool,
    #[serde(default)]
    comments_allowed: bool,
    #[serde(default)]
    family_sharing: bool,
    #[serde(default)]
    hold_family_comments: bool,
    #[serde(default)]
    family_sees_ratings: bool,
}

/// Unchecked boxes are simply absent from the form, hence the defaults of false.
async fn save_settings(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<ClassId>,
    PageForm(form): PageForm<SettingsForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    state
        .db(move |store| {
            let change = crate::actions::work::SettingsChange {
                require_approval: Some(form.require_approval),
                comments_allowed: Some(form.comments_allowed),
                family_sharing: Some(form.family_sharing),
                hold_family_comments: Some(form.hold_family_comments),
                family_sees_ratings: Some(form.family_sees_ratings),
            };
            crate::actions::work::set_class_settings(store, &actor, id, change)
        })
        .await?;
    Ok(see_other(&format!("/classes/{id}?done=settings-saved")))
}
