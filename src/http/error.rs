//! Turning an [`Error`] into an HTTP answer for API clients: a status code and
//! `{"error": code, "message": text}`. Internal errors are logged and never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::language::ErrorText;
use super::openapi::ErrorBody;
use crate::error::Error;
use crate::i18n::Msg;

impl Error {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Error::Unauthenticated | Error::BadCredentials => StatusCode::UNAUTHORIZED,
            Error::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::NotFound | Error::OnItsWay => StatusCode::NOT_FOUND,
            Error::Forbidden(_) | Error::CrossOrigin | Error::WrongSetupCode => StatusCode::FORBIDDEN,
            Error::Invalid(_) | Error::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict(_) | Error::WholeSchoolOnly(_) => StatusCode::CONFLICT,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Gone(_) => StatusCode::GONE,
            // tus's own status for a checksum that does not match (its checksum extension).
            Error::ChecksumMismatch(_) => StatusCode::from_u16(460).expect("a valid status"),
            Error::TusVersion => StatusCode::PRECONDITION_FAILED,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            Error::FilesUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The heading of the page that says it to a person (`pages::PageError`, and an API
    /// refusal reached by following a link: `http::language::localize`).
    pub fn heading(&self) -> &'static str {
        match self {
            Error::NotFound => "error-heading-not-found",
            Error::OnItsWay => "error-heading-on-its-way",
            Error::Throttled(_) | Error::FilesUnavailable => "error-heading-wait",
            Error::Forbidden(_) | Error::CrossOrigin => "error-heading-not-allowed",
            Error::Internal(_) => "error-heading-internal",
            _ => "error-heading-did-not-work",
        }
    }

    /// What to tell the person, as a message of the catalogue where the error's words are
    /// fixed. Errors that carry a sentence made where they happened (most `Invalid`,
    /// `Forbidden` and `Conflict`s) are said as they were made, in English.
    pub fn message(&self) -> Msg {
        let id = match self {
            Error::Unauthenticated => "error-unauthenticated",
            Error::BadCredentials => "error-bad-credentials",
            Error::Throttled(wait) => {
                return Msg::with("error-throttled", vec![("seconds", wait.as_secs().max(1).into())]);
            }
            Error::NotFound => "error-not-found",
            Error::OnItsWay => "error-on-its-way",
            Error::CrossOrigin => "error-cross-origin",
            Error::TusVersion => "error-tus-version",
            Error::WrongSetupCode => "error-wrong-setup-code",
            Error::DiskFull => "error-disk-full",
            Error::FilesUnavailable => "error-files-unavailable",
            Error::Internal(_) => "error-internal",
            Error::Forbidden(text) if text == super::pages::FORM_OUT_OF_DATE => "error-form-out-of-date",
            Error::Refused(said) => return said.clone(),
            other => return Msg::Plain(other.to_string()),
        };
        Msg::id(id)
    }

    /// Logs what the person will not see, and adds headers the status needs.
    pub(super) fn finish(&self, mut res: Response) -> Response {
        if let Error::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        if let Error::TusVersion = self {
            res.headers_mut().insert("tus-version", HeaderValue::from_static("1.0.0"));
        }
        if let Error::FilesUnavailable = self {
            // The store's own retries took seconds already; a store that is down for
            // maintenance is usually back within a minute.
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(30));
        }
        if let Error::Throttled(wait) = self {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody { error: self.code(), message: self.to_string() });
        let mut res = (self.status_code(), body).into_response();
        // `http::language::localize` says the message again in the request's language.
        res.extensions_mut().insert(ErrorText { code: self.code(), heading: self.heading(), message: self.message() });
        self.finish(res)
    }
}
