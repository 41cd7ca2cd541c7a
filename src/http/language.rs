//! The language of each request, and answers in it.
//!
//! `localize` (the outermost layer) chooses the request's [`Locale`] (the person's own
//! setting, the device's cookie, `Accept-Language`, the school's default, English), puts it
//! in the request's extensions for handlers (the `Locale` extractor), and finishes the
//! answer in it: a page handlers returned as a [`Deferred`] template is rendered with the
//! locale as its context (askama's runtime values, read by `i18n::filters`), and an API
//! refusal gets its `message` in the language (its `code` unchanged).

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::extract::MaybeSignedIn;
use super::openapi::ErrorBody;
use crate::i18n::filters::Context;
use crate::i18n::{self, Locale, Msg};
use crate::store::Queries;

/// A page waiting for the request's language (see the module doc).
#[derive(Clone)]
pub struct Deferred(Arc<Mutex<Option<Box<dyn askama::DynTemplate + Send>>>>);

impl Deferred {
    pub fn answer(status: StatusCode, page: impl askama::Template + Send + 'static) -> Response {
        let mut res = (status, Html(String::new())).into_response();
        res.extensions_mut().insert(Deferred(Arc::new(Mutex::new(Some(Box::new(page))))));
        res
    }
}

/// What an API refusal says, to be said in the request's language.
#[derive(Clone)]
pub struct ErrorText {
    pub code: &'static str,
    /// The heading of the page that says it, when a person followed a link to it.
    pub heading: &'static str,
    pub message: Msg,
}

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Locale>().copied().unwrap_or_default())
    }
}

/// The device's chosen language, from its cookie.
fn cookie_language(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == i18n::COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` that keeps a device's language for a year.
pub fn language_cookie(locale: Locale, secure: bool) -> String {
    format!(
        "{}={}; Path=/; SameSite=Lax; Max-Age=31536000{}",
        i18n::COOKIE,
        locale.code(),
        if secure { "; Secure" } else { "" }
    )
}

/// The request's language, in folio's order.
async fn choose(parts: &mut Parts, state: &AppState) -> Locale {
    // Static files are the same in every language: no session lookup for them.
    let path = parts.uri.path();
    if path.starts_with("/static/") || path == "/sw.js" || path == "/manifest.webmanifest" {
        return Locale::ENGLISH;
    }
    let me = MaybeSignedIn::from_request_parts(parts, state).await.ok().and_then(|m| m.0);
    let own = me.as_ref().and_then(|m| m.user.language.clone());
    let cookie = cookie_language(parts);
    let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(chosen) = Locale::chosen(own.as_deref(), cookie.as_deref(), accept.as_deref()) {
        return chosen;
    }
    // Only now is the school asked: the signed-in person's, or (a signed-out device) the
    // school this box holds.
    let school = me.map(|m| m.user.school);
    let default = state
        .read_now(|store| {
            store.read(|r| {
                let school = match school {
                    Some(id) => r.school(id)?,
                    None => r.schools()?.into_iter().next(),
                };
                Ok::<_, crate::error::Error>(school.and_then(|s| s.default_language))
            })
        })
        .ok()
        .flatten();
    Locale::negotiate(None, None, None, || default)
}

pub async fn localize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let locale = choose(&mut parts, &state).await;
    parts.extensions.insert(locale);
    // A person who followed a link to an API address (a file on a piece of work's page)
    // and was refused gets a page in words, not the JSON a program gets.
    let followed_a_link = parts.headers.get("sec-fetch-mode").is_some_and(|m| m == "navigate");
    let mut res = next.run(Request::from_parts(parts, body)).await;
    if followed_a_link && let Some(text) = res.extensions_mut().remove::<ErrorText>() {
        let mut page = super::pages::error_page(res.status(), text.heading, text.message);
        if let Some(retry) = res.headers().get(header::RETRY_AFTER) {
            page.headers_mut().insert(header::RETRY_AFTER, retry.clone());
        }
        res = page;
    }
    if let Some(Deferred(page)) = res.extensions_mut().remove::<Deferred>() {
        let page = page.lock().ok().and_then(|mut p| p.take());
        let html = match page.map(|p| p.dyn_render_with_values(&Context(locale))) {
            Some(Ok(html)) => html,
            Some(Err(e)) => {
                tracing::error!(error = %e, "a page could not be rendered");
                *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                locale.tr("error-internal")
            }
            None => String::new(),
        };
        res.headers_mut().remove(header::CONTENT_LENGTH);
        res.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(locale.code()));
        *res.body_mut() = Body::from(html);
    } else if let Some(text) = res.extensions_mut().remove::<ErrorText>()
        && locale != Locale::ENGLISH
    {
        let body = ErrorBody { error: text.code, message: text.message.in_locale(locale) };
        if let Ok(json) = serde_json::to_vec(&body) {
            res.headers_mut().remove(header::CONTENT_LENGTH);
            *res.body_mut() = Body::from(json);
        }
    }
    res
}
