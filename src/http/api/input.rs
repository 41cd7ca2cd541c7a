//! The API's extractors: axum's `Json`, `Path`, `Query` and `Multipart`, whose refusals (a body that is not
//! JSON, a wrong content type, a path that cannot be read, a bad query) answer folio's JSON
//! error like every other refusal, instead of axum's `text/plain` ones. Pages keep axum's own
//! extractors and their HTML error page.
//!
//! `Json` is also the API's answer type, so a handler names one `Json` for both directions.

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A JSON body in, or a JSON answer out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let axum::Json(value) = <axum::Json<T> as FromRequest<S>>::from_request(req, state).await?;
        Ok(Json(value))
    }
}

/// An optional JSON body: none when the request has no `Content-Type`, else it must be JSON.
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Error> {
        let found = <axum::Json<T> as OptionalFromRequest<S>>::from_request(req, state).await?;
        Ok(found.map(|axum::Json(value)| Json(value)))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parameters from the path.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(value))
    }
}

/// Parameters from the query string.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(value))
    }
}

/// A `multipart/form-data` body, read part by part.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        Ok(Multipart(<axum::extract::Multipart as FromRequest<S>>::from_request(req, state).await?))
    }
}

/// axum's refusal of a request, as folio's error with the same status. axum's own texts say
/// what was wrong precisely enough for the person writing a client, who reads them.
fn refusal(status: StatusCode, text: String) -> Error {
    match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType(text),
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(text),
        StatusCode::UNPROCESSABLE_ENTITY => Error::Invalid(text),
        s if s.is_server_error() => Error::internal(anyhow::anyhow!(text)),
        _ => Error::BadRequest(text),
    }
}

impl From<JsonRejection> for Error {
    fn from(r: JsonRejection) -> Self {
        let text = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                "Send the body as JSON, with the header Content-Type: application/json.".to_string()
            }
            _ => r.body_text(),
        };
        refusal(r.status(), text)
    }
}

impl From<PathRejection> for Error {
    /// A path whose parameters cannot be read (not UTF-8, not an id) names nothing: 404, the
    /// same answer as an id that does not exist (`http::parse_id`).
    fn from(_: PathRejection) -> Self {
        Error::NotFound
    }
}

impl From<QueryRejection> for Error {
    fn from(r: QueryRejection) -> Self {
        refusal(r.status(), r.body_text())
    }
}

impl From<MultipartRejection> for Error {
    fn from(r: MultipartRejection) -> Self {
        refusal(r.status(), r.body_text())
    }
}
