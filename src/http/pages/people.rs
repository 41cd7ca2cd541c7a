//! People pages: the admin's list (with OneRoster import), and one person's sign-in options
//! (pictures, QR card, password, disabling), which teachers reach for their own students.

use crate::i18n::filters;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{
    Chrome, DoneQuery, HostHeader, PageForm, PageId, PageResult, PageUser, cards_page, notice_text, render, see_other,
};
use crate::actions::credentials;
use crate::actions::roster;
use crate::actions::users::{self, NewUser};
use crate::domain::pictures::PictureSequence;
use crate::domain::policy::SecretChange;
use crate::domain::roster::{FileLineError, parse_oneroster};
use crate::domain::{Language, Role, User, UserId, policy};
use crate::error::Error;
use crate::http::AppState;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/people", get(list).post(create))
        .route("/people/oneroster", post(import_oneroster))
        .route("/people/search-language", post(set_search_language))
        .route("/people/language", post(set_school_language))
        .route("/people/{id}", get(show))
        .route("/people/{id}/pictures", post(new_pictures))
        .route("/people/{id}/card", post(new_card))
        .route("/people/{id}/password", post(set_password))
        .route("/people/{id}/disabled", post(set_disabled))
        .route("/people/{id}/family", post(link_family))
        .route("/people/{id}/erase", post(erase))
}

struct PersonRow {
    id: UserId,
    name: String,
    username: String,
    role: &'static str,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    chrome: Chrome,
    school_name: String,
    /// (code, name, chosen): the school's search language.
    languages: Vec<(&'static str, &'static str, bool)>,
    /// The school's default language for pages, if it has one.
    school_language: Option<String>,
    people: Vec<PersonRow>,
    line_errors: Vec<FileLineError>,
}

async fn people_page(
    state: &AppState,
    me: &PageUser,
    error: Option<Error>,
    notice: Option<crate::i18n::Msg>,
    line_errors: Vec<FileLineError>,
) -> PageResult {
    if me.0.user.role != Role::Admin {
        return Err(Error::NotFound.into());
    }
    let actor = me.0.user.clone();
    let (school_name, search_language, school_language, people) = state
        .db(move |store| {
            let people = users::visible_people(store, &actor)?;
            let school = store.read(|r| r.school(actor.school))?;
            let language = school.as_ref().map(|s| s.search_language).unwrap_or_default();
            let default = school.as_ref().and_then(|s| s.default_language.clone());
            Ok((school.map(|s| s.name).unwrap_or_default(), language, default, people))
        })
        .await?;
    let (chrome, status) = Chrome::for_user("title-people", &me.0)
        .in_section("people")
        .with_notice(notice)
        .with_outcome(error.as_ref(), line_errors.len());
    Ok(render(
        status,
        PeoplePage {
            chrome,
            school_name,
            school_language,
            languages: Language::ALL.iter().map(|l| (l.code(), l.name(), *l == search_language)).collect(),
            people: people
                .into_iter()
                .map(|u| PersonRow {
                    id: u.id,
                    name: u.display_name,
                    username: u.username,
                    role: u.role.as_str(),
                    disabled: u.disabled,
                })
                .collect(),
            line_errors,
        },
    ))
}

async fn list(State(state): State<AppState>, me: PageUser, Query(q): Query<DoneQuery>) -> PageResult {
    people_page(&state, &me, None, notice_text(q.done.as_deref()), Vec::new()).await
}

#[derive(Deserialize)]
struct CreateForm {
    display_name: String,
    username: String,
    role: Role,
    #[serde(default)]
    password: String,
}

async fn create(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<CreateForm>) -> PageResult {
    users::check_may_create(&me.0.user)?;
    let password = Some(form.password).filter(|p| !p.is_empty());
    let hash = match credentials::password_hash(&state.guard, password).await {
        Ok(hash) => hash,
        Err(e) => return people_page(&state, &me, Some(e), None, Vec::new()).await,
    };
    let actor = me.0.user.clone();
    let new = NewUser { username: form.username, display_name: form.display_name, role: form.role, external_id: None };
    match state.db(move |store| users::create(store, &actor, new, hash)).await {
        Ok(_) => Ok(see_other("/people?done=person-added")),
        Err(e @ (Error::Invalid(_) | Error::Refused(_) | Error::Conflict(_) | Error::WholeSchoolOnly(_))) => {
            people_page(&state, &me, Some(e), None, Vec::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn import_oneroster(State(state): State<AppState>, me: PageUser, mut form: Multipart) -> PageResult {
    let (mut csrf, mut files) = (String::new(), std::collections::HashMap::new());
    while let Some(field) =
        form.next_field().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let text = field.text().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?;
        if name == "csrf" {
            csrf = text;
        } else {
            files.insert(name, text);
        }
    }
    me.check_csrf(&csrf)?;
    let get = |k: &str| files.get(k).cloned().unwrap_or_default();
    let parsed = parse_oneroster(&get("users"), &get("classes"), &get("enrollments"));
    let actor = me.0.user.clone();
    let report = state.db(move |store| roster::import_oneroster(store, &actor, parsed)).await?;
    if report.errors.is_empty() {
        let notice = format!(
            "Imported: {} new people, {} updated, {} new classes, {} class places, {} family links; \
             {} people disabled, {} class places removed.",
            report.created.len(),
            report.updated,
            report.classes_created,
            report.enrollments,
            report.family_links,
            report.disabled,
            report.enrollments_removed
        );
        people_page(&state, &me, None, Some(notice.into()), Vec::new()).await
    } else {
        people_page(&state, &me, None, None, report.errors).await
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    is_self: bool,
    /// What changing this person's sign-in asks of the viewer (`policy::secret_change`):
    /// "reset", "password" (the forms ask for it), or "teacher" (no forms: pages cannot
    /// take pictures as proof, and a card proves nothing).
    secret_change: &'static str,
    person: User,
    can_disable: bool,
    new_pictures: Vec<(&'static str, &'static str)>,
    /// The family accounts linked to a student, for the student's teachers and admins.
    family: Vec<User>,
}

async fn person_page(
    state: &AppState,
    me: &PageUser,
    id: UserId,
    notice: Option<crate::i18n::Msg>,
    error: Option<Error>,
    new_pictures: Vec<(&'static str, &'static str)>,
) -> PageResult {
    let actor = me.0.user.clone();
    let (person, rule) = state
        .db(move |store| {
            let person = users::manageable(store, &actor, id)?;
            let rule = users::secret_rule(store, &actor, id).ok().map(|(_, rule)| rule);
            Ok((person, rule))
        })
        .await?;
    let secret_change = match rule {
        Some(SecretChange::Reset) => "reset",
        Some(SecretChange::CurrentPassword) => "password",
        _ => "teacher",
    };
    let family = super::family::linked_family(state, &me.0.user, &person).await?;
    let (chrome, status) = Chrome::for_user(&person.display_name, &me.0)
        .in_section("people")
        .with_notice(notice)
        .with_outcome(error.as_ref(), 0);
    Ok(render(
        status,
        PersonPage {
            chrome,
            is_self: person.id == me.0.user.id,
            secret_change,
            can_disable: policy::can_disable_users(&me.0.user, &person),
            person,
            new_pictures,
            family,
        },
    ))
}

async fn show(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<UserId>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    person_page(&state, &me, id, notice_text(q.done.as_deref()), None, Vec::new()).await
}

/// A form that changes a sign-in secret: people changing their own give their current
/// password (see `actions::credentials`).
#[derive(Deserialize)]
struct SecretForm {
    #[serde(default)]
    current_password: Option<String>,
}

impl SecretForm {
    fn current(&self) -> credentials::Current {
        credentials::Current { current_password: self.current_password.clone(), current_pictures: None }
    }
}

/// A sign-in secret that could not be changed: the person page again with the reason when
/// it is one to fix there (a weak password, a wrong current secret), else the error page.
async fn again_with(state: &AppState, me: &PageUser, id: UserId, e: Error) -> PageResult {
    match e {
        Error::Invalid(_) | Error::Refused(_) | Error::Forbidden(_) => {
            person_page(state, me, id, None, Some(e), Vec::new()).await
        }
        e => Err(e.into()),
    }
}

/// New random pictures, shown once on the page that answers the post.
async fn new_pictures(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<UserId>,
    PageForm(form): PageForm<SecretForm>,
) -> PageResult {
    let sequence = PictureSequence::random();
    match credentials::set_pictures(&state, &state.guard, &me.0, id, &sequence, form.current()).await {
        Ok(()) => person_page(&state, &me, id, None, None, sequence.pictures()).await,
        Err(e) => again_with(&state, &me, id, e).await,
    }
}

async fn new_card(
    State(state): State<AppState>,
    me: PageUser,
    host: HostHeader,
    PageId(id): PageId<UserId>,
    PageForm(form): PageForm<SecretForm>,
) -> PageResult {
    let card = match credentials::issue_card(&state, &state.guard, &me.0, id, form.current()).await {
        Ok(card) => card,
        Err(e) => return again_with(&state, &me, id, e).await,
    };
    let title = card.0.display_name.clone();
    let cards = vec![card];
    cards_page(title, format!("/people/{id}"), &host.0, cards)
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    #[serde(default)]
    current_password: Option<String>,
}

async fn set_password(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<UserId>,
    PageForm(form): PageForm<PasswordForm>,
) -> PageResult {
    let current = credentials::Current { current_password: form.current_password, current_pictures: None };
    match credentials::set_password(&state, &state.guard, &me.0, id, form.password, current).await {
        Ok(()) => {}
        Err(e) => return again_with(&state, &me, id, e).await,
    }
    Ok(see_other(&format!("/people/{id}?done=password-set")))
}

#[derive(Deserialize)]
struct DisabledForm {
    disabled: bool,
}

async fn set_disabled(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<UserId>,
    PageForm(form): PageForm<DisabledForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let disabled = form.disabled;
    state
        .db(move |store| {
            let target = users::manageable(store, &actor, id)?;
            users::set_disabled(store, &actor, &target, disabled)
        })
        .await?;
    Ok(see_other(&format!("/people/{id}?done={}", if disabled { "disabled" } else { "enabled" })))
}

#[derive(Deserialize)]
struct FamilyForm {
    student_username: String,
}

async fn link_family(
    State(state): State<AppState>,
    me: PageUser,
    PageId(family): PageId<UserId>,
    PageForm(form): PageForm<FamilyForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let result = state
        .db(move |store| {
            let student = users::by_username(store, &actor, &form.student_username)?;
            crate::actions::work::link_family(store, &actor, family, student.id)
        })
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/people/{family}?done=family-linked"))),
        Err(e @ (Error::Invalid(_) | Error::Refused(_))) => {
            person_page(&state, &me, family, None, Some(e), Vec::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct EraseForm {
    confirm: String,
}

async fn erase(
    State(state): State<AppState>,
    me: PageUser,
    PageId(target): PageId<UserId>,
    PageForm(form): PageForm<EraseForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let person = state.db(move |store| users::manageable(store, &actor, target)).await?;
    if form.confirm.trim().to_lowercase() != person.username {
        let e = Error::Invalid("Type the username exactly to confirm the erasure.".into());
        return person_page(&state, &me, target, None, Some(e), Vec::new()).await;
    }
    crate::http::api::activities::erase_and_collect(&state, &me.0.user, target).await?;
    Ok(see_other("/people?done=erased"))
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
}

async fn set_search_language(
    State(state): State<AppState>,
    me: PageUser,
    PageForm(form): PageForm<LanguageForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    match state.db(move |store| crate::actions::search::set_language(store, &actor, &form.language)).await {
        Ok(()) => Ok(see_other("/people?done=language-set")),
        Err(e @ (Error::Invalid(_) | Error::Refused(_))) => people_page(&state, &me, Some(e), None, Vec::new()).await,
        Err(e) => Err(e.into()),
    }
}

/// The school's default language for pages (empty: none, each browser's).
async fn set_school_language(
    State(state): State<AppState>,
    me: PageUser,
    PageForm(form): PageForm<LanguageForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let code = Some(form.language).filter(|c| !c.is_empty());
    let set = move |store: &crate::store::Store| {
        crate::actions::language::set_school_default(store, &actor, code.as_deref()).map(|_| ())
    };
    match state.db(set).await {
        Ok(()) => Ok(see_other("/people?done=school-language-set")),
        Err(e @ (Error::Invalid(_) | Error::Refused(_))) => people_page(&state, &me, Some(e), None, Vec::new()).await,
        Err(e) => Err(e.into()),
    }
}
