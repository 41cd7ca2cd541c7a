//! Server-rendered pages (askama templates in `web/templates`). They work without JavaScript:
//! every action is a plain form post that carries the session's token, answered with a
//! redirect (or the same page with a message when something needs fixing).

mod activity_edit;
mod assessment;
mod backup;
mod class_pictures;
mod classes;
mod device;
mod digest;
mod family;
mod home;
mod language;
mod peers;
pub(crate) mod peers_nearby;
mod people;
mod reports;
mod restore;
mod school_report;
mod search;
mod signin;
mod skills;
mod work;
mod work_form;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::extract::{MaybeSignedIn, SignedIn};
use super::language::Deferred;
use crate::domain::User;
use crate::error::Error;
// Every module with templates names the translation filters so (see `i18n::filters`).
use crate::i18n::Msg;
use crate::i18n::filters;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(signin::router())
        .merge(home::router())
        .merge(classes::router())
        .merge(activity_edit::router())
        .merge(class_pictures::router())
        .merge(people::router())
        .merge(work::router())
        .merge(search::router())
        .merge(backup::router())
        .merge(peers::router())
        .merge(restore::router())
        .merge(device::router())
        .merge(family::router())
        .merge(digest::router())
        .merge(peers_nearby::router())
        .merge(language::router())
        .merge(skills::router())
        .merge(reports::router())
        .merge(school_report::router())
}

/// What every page's frame shows. Texts are [`Msg`]s, said in the request's language when
/// the page is rendered.
pub struct Chrome {
    pub title: Msg,
    /// Which main menu entry this page belongs to ("home", "classes", "people"), for
    /// `aria-current`.
    pub section: &'static str,
    pub user: Option<User>,
    pub csrf: String,
    pub notice: Option<Msg>,
    pub error: Option<Msg>,
}

impl Chrome {
    /// `title`: a message id (`"title-home"`) or, as a `String`, a name (a class's).
    pub fn anonymous(title: impl Into<Msg>) -> Self {
        Chrome { title: title.into(), section: "", user: None, csrf: String::new(), notice: None, error: None }
    }
    pub fn for_user(title: impl Into<Msg>, me: &SignedIn) -> Self {
        Chrome {
            title: title.into(),
            section: "",
            user: Some(me.user.clone()),
            csrf: me.session.csrf_token.clone(),
            notice: None,
            error: None,
        }
    }
    pub fn in_section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }
    pub fn with_error(mut self, error: &Error) -> Self {
        self.error = Some(error.message());
        self
    }
    /// The message and status of a page shown again after an action: the error if there is
    /// one, else (after a refused import) a pointer to the list of problems by the form.
    pub fn with_outcome(mut self, error: Option<&Error>, import_problems: usize) -> (Self, StatusCode) {
        if let Some(e) = error {
            self.error = Some(e.message());
            return (self, e.status_code());
        }
        if import_problems > 0 {
            self.error = Some(Msg::with("import-refused", vec![("count", import_problems.into())]));
            return (self, StatusCode::UNPROCESSABLE_ENTITY);
        }
        (self, StatusCode::OK)
    }
    pub fn with_notice(mut self, notice: Option<Msg>) -> Self {
        self.notice = notice;
        self
    }
}

/// A template as a page with a status, rendered in the request's language on its way out
/// (`http::language::localize`).
pub fn render(status: StatusCode, page: impl Template + Send + 'static) -> Response {
    Deferred::answer(status, page)
}

pub fn page(template: impl Template + Send + 'static) -> Response {
    render(StatusCode::OK, template)
}

/// After a successful form post: back to a page (POST-redirect-GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: Msg,
    message: Msg,
}

/// An error on a page: people get a page that says what to do next, and a missing session
/// sends them to sign in.
pub struct PageError(pub Error);

impl From<crate::domain::Invalid> for PageError {
    fn from(e: crate::domain::Invalid) -> Self {
        PageError(e.into())
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        if matches!(e, Error::Unauthenticated) {
            return see_other("/signin");
        }
        e.finish(error_page(e.status_code(), e.heading(), e.message()))
    }
}

/// The page that tells a person what went wrong and what to do next.
pub fn error_page(status: StatusCode, heading: &'static str, message: Msg) -> Response {
    render(status, ErrorPage { chrome: Chrome::anonymous(heading), heading: Msg::id(heading), message })
}

pub type PageResult = Result<Response, PageError>;

/// The refusal of a form whose token is stale (translated by `Error::message`).
pub const FORM_OUT_OF_DATE: &str = "This form is out of date. Go back, reload the page and try again.";

/// The signed-in person, for pages: without a session, a redirect to the sign-in page.
pub struct PageUser(pub SignedIn);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match MaybeSignedIn::from_request_parts(parts, state).await?.0 {
            Some(me) => Ok(PageUser(me)),
            None => Err(PageError(Error::Unauthenticated)),
        }
    }
}

impl PageUser {
    /// For multipart forms: the token is their first field (our forms put it first), read
    /// and checked before any file in the rest of the form is stored.
    pub async fn check_multipart_csrf(&self, form: &mut axum::extract::Multipart) -> Result<(), PageError> {
        let first =
            form.next_field().await.map_err(|e| Error::Invalid(format!("The upload could not be read: {e}")))?;
        let token = match first {
            Some(f) if f.name() == Some("csrf") => f.text().await.unwrap_or_default(),
            _ => String::new(),
        };
        self.check_csrf(&token)
    }

    /// Forms prove they came from our own pages with the session's token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        use subtle::ConstantTimeEq;
        let expected = self.0.session.csrf_token.as_bytes();
        if expected.len() == token.len() && bool::from(expected.ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(PageError(Error::Forbidden(FORM_OUT_OF_DATE.into())))
        }
    }
}

/// A posted form (`application/x-www-form-urlencoded`) whose `csrf` field has been checked
/// against the session's token: a page's action handler takes the form's other fields as
/// `T` and never sees a form from elsewhere. Malformed forms are refused as axum's `Form`
/// refuses them; a stale token answers [`FORM_OUT_OF_DATE`].
pub struct PageForm<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let me = PageUser::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        // The body is read once and parsed twice: for `T`, and for the token.
        let bytes = axum::body::Bytes::from_request(axum::extract::Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let again = |bytes: axum::body::Bytes| axum::extract::Request::from_parts(parts.clone(), bytes.into());
        let axum::Form(form) =
            axum::Form::<T>::from_request(again(bytes.clone()), state).await.map_err(IntoResponse::into_response)?;
        let axum::Form(token) =
            axum::Form::<CsrfForm>::from_request(again(bytes), state).await.map_err(IntoResponse::into_response)?;
        me.check_csrf(&token.csrf).map_err(IntoResponse::into_response)?;
        Ok(PageForm(form))
    }
}

/// An id from the path (`/classes/{id}`), parsed: a malformed one is "not found", like an
/// id that does not exist.
pub struct PageId<T>(pub T);

impl<T: std::str::FromStr, S: Send + Sync> FromRequestParts<S> for PageId<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        super::parse_id(&raw).map(PageId).map_err(|e| PageError(e).into_response())
    }
}

/// The `Host` the browser used to reach us: QR cards must point back at the same address.
/// (HTTP/2 requests get one from their `:authority` in `lib::serve`.)
pub struct HostHeader(pub String);

impl<S: Send + Sync> FromRequestParts<S> for HostHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
            .unwrap_or("folio.local")
            .to_string();
        Ok(HostHeader(host))
    }
}

/// The messages a redirect can ask the next page to show (`?done=...`), so no user text
/// travels in URLs.
pub fn notice_text(done: Option<&str>) -> Option<Msg> {
    Some(Msg::id(match done? {
        "class-created" => "notice-class-created",
        "student-added" => "notice-student-added",
        "member-added" => "notice-member-added",
        "member-removed" => "notice-member-removed",
        "roster-imported" => "notice-roster-imported",
        "person-added" => "notice-person-added",
        "password-set" => "notice-password-set",
        "disabled" => "notice-disabled",
        "enabled" => "notice-enabled",
        "oneroster-imported" => "notice-oneroster-imported",
        "settings-saved" => "notice-settings-saved",
        "activity-saved" => "notice-activity-saved",
        "family-linked" => "notice-family-linked",
        "family-unlinked" => "notice-family-unlinked",
        "family-joined" => "notice-family-joined",
        "from-home-sent" => "notice-from-home-sent",
        "erased" => "notice-erased",
        "language-set" => "notice-search-language-set",
        "school-language-set" => "notice-school-language-set",
        "skill-added" => "notice-skill-added",
        "skill-retired" => "notice-skill-retired",
        "skill-restored" => "notice-skill-restored",
        "skills-imported" => "notice-skills-imported",
        "levels-saved" => "notice-levels-saved",
        _ => return None,
    }))
}

#[derive(serde::Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// A QR code as inline SVG, for printing.
pub fn qr_svg(text: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(Error::internal)?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(180, 180).quiet_zone(true).build();
    // Inline in HTML: drop the XML declaration, and hide the image from screen readers (the
    // card's printed name says whose it is).
    let svg = svg.find("<svg").map_or(svg.as_str(), |start| &svg[start..]);
    Ok(svg.replacen("<svg", "<svg aria-hidden=\"true\" focusable=\"false\"", 1))
}

#[derive(Template)]
#[template(path = "cards.html")]
pub struct CardsPage {
    pub title: String,
    pub back: String,
    pub cards: Vec<CardTile>,
}

pub struct CardTile {
    pub name: String,
    pub svg: String,
}

pub fn cards_page(title: String, back: String, host: &str, cards: Vec<(User, String)>) -> PageResult {
    let cards = cards
        .into_iter()
        .map(|(u, token)| Ok(CardTile { name: u.display_name, svg: qr_svg(&super::api::card_url_for(host, &token))? }))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(page(CardsPage { title, back, cards }))
}
