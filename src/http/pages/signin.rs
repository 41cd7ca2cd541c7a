//! Pages for getting in: first-run setup, password sign-in, picture sign-in (class code →
//! name → three pictures), QR card sign-in, and signing out.

use crate::i18n::filters;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Chrome, PageError, PageForm, PageResult, PageUser, page, render, see_other};
use crate::actions::setup::SetupInput;
use crate::actions::signin::{self, SignedInNow};
use crate::auth::session;
use crate::domain::pictures::{PICTURES, SEQUENCE_LEN};
use crate::domain::{ClassId, UserId};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{ClientAddr, MaybeSignedIn, ViaHttps};
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(start))
        .route("/setup", get(setup_form).post(setup_submit))
        .route("/signin", get(signin_form).post(signin_submit))
        .route("/signin/class", get(class_form).post(class_submit))
        .route("/signin/class/{code}", get(class_students))
        .route("/signin/class/{code}/{user}", get(pictures_form).post(pictures_submit))
        .route("/q/{token}", get(card_confirm).post(card_submit))
        .route("/signout", post(signout))
}

async fn is_set_up(state: &AppState) -> Result<bool, Error> {
    state.db(|store| Ok(store.read(|r| r.is_set_up())?)).await
}

async fn start(State(state): State<AppState>, MaybeSignedIn(me): MaybeSignedIn) -> PageResult {
    if !is_set_up(&state).await? {
        return Ok(see_other("/setup"));
    }
    Ok(see_other(if me.is_some() { "/home" } else { "/signin" }))
}

/// Signed in: set the cookie and go home.
fn enter(state: &AppState, https: bool, done: SignedInNow) -> Response {
    let cookie = session::cookie(&done.session_id, https, state.config.sessions.absolute);
    ([(header::SET_COOKIE, cookie)], see_other("/home")).into_response()
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    setup_code: String,
    school_name: String,
    display_name: String,
    username: String,
}

async fn setup_form(State(state): State<AppState>) -> PageResult {
    if is_set_up(&state).await? {
        return Ok(see_other("/signin"));
    }
    Ok(page(SetupPage {
        chrome: Chrome::anonymous("title-setup"),
        setup_code: String::new(),
        school_name: String::new(),
        display_name: String::new(),
        username: String::new(),
    }))
}

#[derive(Deserialize)]
struct SetupForm {
    setup_code: String,
    school_name: String,
    display_name: String,
    username: String,
    password: String,
}

async fn setup_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Form(form): Form<SetupForm>,
) -> PageResult {
    let input = SetupInput {
        setup_code: form.setup_code.clone(),
        school_name: form.school_name.clone(),
        username: form.username.clone(),
        display_name: form.display_name.clone(),
    };
    match crate::http::api::setup::run_setup(&state, addr, input, form.password).await {
        Ok(user) => {
            let session_user = user.clone();
            let session_id = state.db(move |store| Ok(session::create(store, &session_user)?)).await?;
            Ok(enter(&state, https, SignedInNow { user, session_id }))
        }
        Err(Error::Conflict(_)) => Ok(see_other("/signin")),
        Err(e) => Ok(render(
            e.status_code(),
            SetupPage {
                chrome: Chrome::anonymous("title-setup").with_error(&e),
                setup_code: form.setup_code,
                school_name: form.school_name,
                display_name: form.display_name,
                username: form.username,
            },
        )),
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    chrome: Chrome,
    username: String,
}

async fn signin_form(State(state): State<AppState>, MaybeSignedIn(me): MaybeSignedIn) -> PageResult {
    if !is_set_up(&state).await? {
        return Ok(see_other("/setup"));
    }
    if me.is_some() {
        return Ok(see_other("/home"));
    }
    Ok(page(SigninPage { chrome: Chrome::anonymous("title-signin"), username: String::new() }))
}

#[derive(Deserialize)]
struct SigninForm {
    username: String,
    password: String,
}

async fn signin_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Form(form): Form<SigninForm>,
) -> PageResult {
    match signin::with_password(&state, &state.guard, addr, &form.username, form.password).await {
        Ok(done) => Ok(enter(&state, https, done)),
        Err(e @ (Error::BadCredentials | Error::Throttled(_))) => {
            let res = render(
                e.status_code(),
                SigninPage { chrome: Chrome::anonymous("title-signin").with_error(&e), username: form.username },
            );
            Ok(e.finish(res))
        }
        Err(e) => Err(e.into()),
    }
}

/// Classes this device has signed in to with pictures, remembered in a cookie so a shared
/// classroom tablet shows its classes first. The cookie holds class ids, not join codes: the
/// cookie is the client's to write, and ids (UUIDv7, 74 random bits) cannot be guessed the
/// way six-letter codes could.
const DEVICE_CLASSES_COOKIE: &str = "folio_device_classes";

fn remembered_classes(headers: &HeaderMap) -> Vec<ClassId> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == DEVICE_CLASSES_COOKIE)
        .flat_map(|(_, v)| v.split('.').filter_map(|id| id.parse().ok()).collect::<Vec<_>>())
        .take(12)
        .collect()
}

#[derive(Template)]
#[template(path = "signin_class.html")]
struct ClassCodePage {
    chrome: Chrome,
    remembered: Vec<(String, String)>,
    join_code: String,
}

async fn class_page(state: &AppState, headers: &HeaderMap, error: Option<&Error>, join_code: String) -> PageResult {
    let ids = remembered_classes(headers);
    let remembered = state
        .db(move |store| {
            store.read(|r| {
                let mut out = Vec::new();
                for id in ids {
                    if let Some(class) = r.class(id)? {
                        out.push((class.join_code, class.name));
                    }
                }
                Ok(out)
            })
        })
        .await?;
    let (chrome, status) = Chrome::anonymous("title-signin-pictures").with_outcome(error, 0);
    Ok(render(status, ClassCodePage { chrome, remembered, join_code }))
}

async fn class_form(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    class_page(&state, &headers, None, String::new()).await
}

#[derive(Deserialize)]
struct ClassCodeForm {
    join_code: String,
}

async fn class_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<ClassCodeForm>,
) -> PageResult {
    match signin::class_students(&state, &state.guard, addr, &form.join_code).await {
        Ok((class, _)) => {
            let mut ids = remembered_classes(&headers);
            ids.retain(|id| *id != class.id);
            ids.insert(0, class.id);
            ids.truncate(12);
            let ids: Vec<String> = ids.iter().map(ClassId::to_string).collect();
            let cookie = format!(
                "{DEVICE_CLASSES_COOKIE}={}; Path=/signin; Max-Age=31536000; SameSite=Lax; HttpOnly",
                ids.join(".")
            );
            Ok(([(header::SET_COOKIE, cookie)], see_other(&format!("/signin/class/{}", class.join_code)))
                .into_response())
        }
        Err(e) => Ok(e.finish(class_page(&state, &headers, Some(&e), form.join_code).await?)),
    }
}

struct StudentTile {
    id: UserId,
    name: String,
    initial: String,
}

#[derive(Template)]
#[template(path = "signin_students.html")]
struct StudentsPage {
    chrome: Chrome,
    class_name: String,
    join_code: String,
    students: Vec<StudentTile>,
}

async fn class_students(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(code): Path<String>,
) -> PageResult {
    let (class, students) = signin::class_students(&state, &state.guard, addr, &code).await?;
    let students = students
        .into_iter()
        .map(|u| StudentTile {
            id: u.id,
            initial: u.display_name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default(),
            name: u.display_name,
        })
        .collect();
    Ok(page(StudentsPage {
        chrome: Chrome::anonymous(&class.name),
        class_name: class.name,
        join_code: class.join_code,
        students,
    }))
}

struct PictureButton {
    index: usize,
    stem: &'static str,
}

#[derive(Template)]
#[template(path = "signin_pictures.html")]
struct PicturesPage {
    chrome: Chrome,
    student_name: String,
    student_id: UserId,
    join_code: String,
    picks: String,
    picked: usize,
    dots: Vec<bool>,
    pictures: Vec<PictureButton>,
}

async fn pictures_page(
    state: &AppState,
    addr: std::net::IpAddr,
    code: &str,
    user: &str,
    picks: Vec<usize>,
    error: Option<Error>,
) -> PageResult {
    let user: UserId = crate::http::parse_id(user)?;
    let (class, students) = signin::class_students(state, &state.guard, addr, code).await?;
    let student = students.into_iter().find(|u| u.id == user).ok_or(Error::NotFound)?;
    let (chrome, status) = Chrome::anonymous("title-your-pictures").with_outcome(error.as_ref(), 0);
    let res = render(
        status,
        PicturesPage {
            chrome,
            student_name: student.display_name,
            student_id: student.id,
            join_code: class.join_code,
            picks: picks.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
            picked: picks.len(),
            dots: (0..SEQUENCE_LEN).map(|i| i < picks.len()).collect(),
            pictures: PICTURES.iter().enumerate().map(|(index, (stem, _))| PictureButton { index, stem }).collect(),
        },
    );
    Ok(match error {
        Some(e) => e.finish(res),
        None => res,
    })
}

async fn pictures_form(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path((code, user)): Path<(String, String)>,
) -> PageResult {
    pictures_page(&state, addr, &code, &user, Vec::new(), None).await
}

#[derive(Deserialize)]
struct PickForm {
    #[serde(default)]
    picks: String,
    pick: usize,
}

async fn pictures_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Path((code, user)): Path<(String, String)>,
    Form(form): Form<PickForm>,
) -> PageResult {
    let mut picks: Vec<usize> = form
        .picks
        .split(',')
        .filter_map(|p| p.parse().ok())
        .filter(|&p| p < PICTURES.len())
        .take(SEQUENCE_LEN - 1)
        .collect();
    if form.pick >= PICTURES.len() {
        return Err(Error::Invalid("That is not one of the pictures.".into()).into());
    }
    picks.push(form.pick);
    if picks.len() < SEQUENCE_LEN {
        return pictures_page(&state, addr, &code, &user, picks, None).await;
    }
    let user_id: UserId = user.parse().map_err(|_| PageError(Error::NotFound))?;
    let names: Vec<String> = picks.iter().map(usize::to_string).collect();
    match signin::with_pictures(&state, &state.guard, addr, &code, user_id, &names).await {
        Ok(done) => Ok(enter(&state, https, done)),
        Err(Error::BadCredentials) => {
            let e = Error::Invalid("Those pictures are not right. Try again!".into());
            pictures_page(&state, addr, &code, &user, Vec::new(), Some(e))
                .await
                .map(|r| with_status(r, StatusCode::UNAUTHORIZED))
        }
        Err(e @ Error::Throttled(_)) => pictures_page(&state, addr, &code, &user, Vec::new(), Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

#[derive(Template)]
#[template(path = "card_confirm.html")]
struct CardConfirmPage {
    chrome: Chrome,
    student_name: String,
    token: String,
}

async fn card_confirm(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
) -> PageResult {
    let user = signin::card_owner(&state, &state.guard, addr, &token).await?;
    Ok(page(CardConfirmPage { chrome: Chrome::anonymous("title-signin-card"), student_name: user.display_name, token }))
}

async fn card_submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ViaHttps(https): ViaHttps,
    Path(token): Path<String>,
) -> PageResult {
    let done = signin::with_card(&state, &state.guard, addr, &token).await?;
    Ok(enter(&state, https, done))
}

const CLEAR_SITE_DATA: header::HeaderName = header::HeaderName::from_static("clear-site-data");

async fn signout(
    State(state): State<AppState>,
    ViaHttps(https): ViaHttps,
    me: PageUser,
    PageForm(_): PageForm<super::CsrfForm>,
) -> PageResult {
    signin::sign_out(&state, me.0.session_id).await?;
    // The browser's HTTP cache goes too. The pages the offline app kept are forgotten by the
    // service worker and offline.js as the form is sent; "storage" is not asked for, because it
    // would also delete work waiting in the outbox.
    let headers = [(header::SET_COOKIE, session::clearing_cookie(https)), (CLEAR_SITE_DATA, "\"cache\"".to_string())];
    Ok((headers, see_other("/signin")).into_response())
}
