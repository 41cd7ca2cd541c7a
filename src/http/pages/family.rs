//! Family pages: printing a class's invitation sheets (`/classes/{id}/family-invitations`),
//! joining with one (`/family/join`, and `/f/{code}` from the QR code), and unlinking a
//! family account from a student's person page.

use crate::i18n::filters;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Chrome, CsrfForm, HostHeader, PageForm, PageId, PageResult, PageUser, page, render, see_other};
use crate::actions::family::{self, Joining};
use crate::auth::session;
use crate::domain::family::display_code;
use crate::domain::{ClassId, Role, User, UserId};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{ClientAddr, MaybeSignedIn, SignedIn, ViaHttps};
use crate::http::parse_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/classes/{id}/family-invitations", get(sheets_form).post(print_sheets))
        .route("/family/join", get(join_form).post(join_submit))
        .route("/f/{code}", get(join_from_qr))
        .route("/family/add/{student}", get(add_from_home))
        .route("/people/{id}/family/{family}/unlink", post(unlink))
}

#[derive(Template)]
#[template(path = "family_sheets_confirm.html")]
struct SheetsConfirmPage {
    chrome: Chrome,
    class_id: String,
    class_name: String,
}

async fn sheets_form(State(state): State<AppState>, me: PageUser, PageId(id): PageId<ClassId>) -> PageResult {
    let actor = me.0.user.clone();
    let class = state.db(move |store| store.read(|r| crate::actions::classes::managed(r, &actor, id))).await?;
    Ok(page(SheetsConfirmPage {
        chrome: Chrome::for_user("title-family-invitations", &me.0).in_section("classes"),
        class_id: class.id.to_string(),
        class_name: class.name,
    }))
}

pub struct SheetView {
    pub first_name: String,
    pub code: String,
    pub url: String,
    pub svg: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "family_sheets.html")]
struct SheetsPage {
    class_name: String,
    back: String,
    sheets: Vec<SheetView>,
}

async fn print_sheets(
    State(state): State<AppState>,
    me: PageUser,
    host: HostHeader,
    PageId(id): PageId<ClassId>,
    PageForm(_): PageForm<CsrfForm>,
) -> PageResult {
    let actor = me.0.user.clone();
    let (class, sheets) = state.db(move |store| family::issue_sheets(store, &actor, id)).await?;
    let expires =
        crate::domain::calendar::day_of(crate::domain::hlc::wall_clock_ms() + crate::domain::family::SHEET_LIFETIME_MS);
    let sheets = sheets
        .into_iter()
        .map(|(student, code)| {
            let url = crate::http::api::family::join_url(&host.0, &code);
            Ok(SheetView {
                first_name: family::first_name(&student.display_name),
                svg: super::qr_svg(&url)?,
                code: display_code(&code),
                url: format!("http://{}/family/join", host.0),
                expires: expires.clone(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(page(SheetsPage { class_name: class.name, back: format!("/classes/{id}"), sheets }))
}

#[derive(Template)]
#[template(path = "family_join.html")]
struct JoinPage {
    chrome: Chrome,
    /// The code as the QR link or the person gave it, kept in the form.
    code: String,
    /// The child's first name, when the code was checked.
    child: Option<String>,
    /// Signed in as a family member: joining adds this child to the account.
    sibling: bool,
    username: String,
    display_name: String,
}

fn join_chrome(me: &Option<SignedIn>) -> Chrome {
    match me {
        Some(me) => Chrome::for_user("title-family-join", me),
        None => Chrome::anonymous("title-family-join"),
    }
}

fn is_family(me: &Option<SignedIn>) -> bool {
    me.as_ref().is_some_and(|m| m.user.role == Role::Family)
}

async fn join_form(MaybeSignedIn(me): MaybeSignedIn) -> PageResult {
    let sibling = is_family(&me);
    let chrome = join_chrome(&me);
    let blank = JoinPage {
        chrome,
        code: String::new(),
        child: None,
        sibling,
        username: String::new(),
        display_name: String::new(),
    };
    Ok(page(blank))
}

/// From the QR code: the code is checked (throttled) so the page can say whose sheet it is.
async fn join_from_qr(
    State(state): State<AppState>,
    MaybeSignedIn(me): MaybeSignedIn,
    ClientAddr(addr): ClientAddr,
    Path(code): Path<String>,
) -> PageResult {
    let sibling = is_family(&me);
    let mut chrome = join_chrome(&me);
    let child = match family::child_of_code(&state, &state.guard, addr, &code).await {
        Ok(name) => Some(name),
        Err(e @ Error::Throttled(_)) => return Err(e.into()),
        Err(e) => {
            chrome = chrome.with_error(&e);
            None
        }
    };
    let code = if child.is_some() { code } else { String::new() };
    Ok(page(JoinPage { chrome, code, child, sibling, username: String::new(), display_name: String::new() }))
}

#[derive(Deserialize)]
struct JoinForm {
    code: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// Present when a signed-in family member adds a child (the form carries the session's
    /// token then, like every signed-in form).
    #[serde(default)]
    csrf: Option<String>,
}

async fn join_submit(
    State(state): State<AppState>,
    MaybeSignedIn(me): MaybeSignedIn,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Form(form): Form<JoinForm>,
) -> PageResult {
    if let Some(me) = me.as_ref().filter(|m| m.user.role == Role::Family) {
        let me = PageUser(me.clone());
        me.check_csrf(form.csrf.as_deref().unwrap_or_default())?;
        return match family::join_sibling(&state, &state.guard, addr, &me.0.user, &form.code).await {
            Ok(_) => Ok(see_other("/home?done=family-joined")),
            Err(e @ (Error::Invalid(_) | Error::Refused(_))) => again(Some(me.0), form, e),
            Err(e) => Err(e.into()),
        };
    }
    let joining = Joining {
        code: form.code.clone(),
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password: form.password.clone(),
    };
    match family::join_new(&state, &state.guard, addr, joining).await {
        Ok((done, _)) => {
            let cookie = session::cookie(&done.session_id, https, state.config.sessions.absolute);
            Ok(([(header::SET_COOKIE, cookie)], see_other("/home?done=family-joined")).into_response())
        }
        Err(e @ (Error::Invalid(_) | Error::Refused(_) | Error::Conflict(_))) => again(me, form, e),
        Err(e) => Err(e.into()),
    }
}

/// The form again with what was typed (never the password) and what to fix.
fn again(me: Option<SignedIn>, form: JoinForm, e: Error) -> PageResult {
    let sibling = is_family(&me);
    let status = e.status_code();
    let chrome = join_chrome(&me).with_error(&e);
    let page = JoinPage {
        chrome,
        code: form.code,
        child: None,
        sibling,
        username: form.username,
        display_name: form.display_name,
    };
    Ok(render(status, page))
}

async fn unlink(
    State(state): State<AppState>,
    me: PageUser,
    Path((id, family_id)): Path<(String, String)>,
    PageForm(_): PageForm<CsrfForm>,
) -> PageResult {
    let student = parse_id(&id)?;
    let family_id = parse_id(&family_id)?;
    let actor = me.0.user.clone();
    state.db(move |store| family::unlink(store, &actor, student, family_id)).await?;
    Ok(see_other(&format!("/people/{student}?done=family-unlinked")))
}

/// The family linked to a student, for the person page (empty for people who may not see
/// it, and for anyone but students).
pub async fn linked_family(state: &AppState, actor: &User, student: &User) -> Result<Vec<User>, Error> {
    if student.role != Role::Student {
        return Ok(Vec::new());
    }
    let (actor, id) = (actor.clone(), student.id);
    match state.db(move |store| family::family_of(store, &actor, id)).await {
        Ok(people) => Ok(people),
        Err(Error::NotFound) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "family_add.html")]
struct AddFromHomePage {
    chrome: Chrome,
    child_name: String,
    /// The new-work form's fields (`work_form.html`): adding to this child, from home.
    form: super::work_form::WorkForm,
}

/// A family member adds a photo, video, recording or note to their child's portfolio. The
/// form posts to `/work` (or, with scripts, to the API through the outbox) with `for_student`.
/// The page is marked for the family's own phone to keep: opened at home with no way to the
/// box, the outbox holds what they add until the phone is back on the school's Wi-Fi. It
/// holds the child's first name and nothing of their work.
async fn add_from_home(State(state): State<AppState>, me: PageUser, PageId(student): PageId<UserId>) -> PageResult {
    let family = me.0.user.clone();
    let child = state.db(move |store| family::child_to_add_for(store, &family, student)).await?;
    let res = page(AddFromHomePage {
        chrome: Chrome::for_user("title-family-add", &me.0),
        child_name: family::first_name(&child.display_name),
        form: super::work_form::WorkForm::family(child.id),
    });
    Ok(crate::http::offline::keep(res, me.0.user.id))
}
