//! What can go wrong for the person using folio, in one enum. Actions return it, `?` works
//! everywhere, and `http::error` turns it into a JSON answer or an HTML page. Internal
//! failures are logged in full and shown only as "something went wrong".

use std::time::Duration;

use crate::domain::Invalid;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Please sign in first.")]
    Unauthenticated,
    #[error("That username and password (or pictures) do not match. Check them and try again.")]
    BadCredentials,
    #[error("Too many tries. Wait {} seconds, then try again.", .0.as_secs().max(1))]
    Throttled(Duration),
    /// Something the caller may not see, or that does not exist: the same answer for both.
    #[error("That page or item does not exist, or you do not have access to it.")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// A file whose work came from another box before the file itself did.
    #[error("This file is on its way from another box and is not here yet. Try again after the boxes have synced.")]
    OnItsWay,
    #[error("This request came from another website and was refused. Open folio directly and try again.")]
    CrossOrigin,
    #[error("{0}")]
    Invalid(String),
    /// Like `Invalid`, in a message of the catalogue: said in the reader's language
    /// (in English in logs and wherever no request's language applies).
    #[error("{}", .0.in_locale(crate::i18n::Locale::ENGLISH))]
    Refused(crate::i18n::Msg),
    #[error("{0}")]
    Conflict(String),
    /// A change a box holding only some classes of a school may not make (it joined them):
    /// it belongs on the box that holds the whole school.
    #[error("{0}")]
    WholeSchoolOnly(String),
    /// A request folio cannot read at all (a malformed protocol header).
    #[error("{0}")]
    BadRequest(String),
    /// A body of a type this endpoint does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Something that existed and is gone for good (an expired upload).
    #[error("{0}")]
    Gone(String),
    /// A resumable upload's bytes do not match the digest its client announced.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// A resumable-upload client speaking a tus version other than 1.0.0.
    #[error("This box speaks version 1.0.0 of the resumable upload protocol (tus); send Tus-Resumable: 1.0.0.")]
    TusVersion,
    #[error(
        "The setup code is not right. Find it on the box's screen or in the file setup-code in folio's data folder."
    )]
    WrongSetupCode,
    /// An upload over a limit (file size, portfolio quota).
    #[error("{0}")]
    TooLarge(String),
    #[error("The box's disk is full, so the file was not saved. Tell your school's IT person; nothing else was lost.")]
    DiskFull,
    /// The bucket the files are on (a district's S3 store) cannot be reached: nothing that
    /// needs a file can be done for now, and everything else goes on.
    #[error(
        "The school's file store cannot be reached just now, so files cannot be saved or opened. Try again in a minute; everything else works. If it keeps happening, tell your school's IT person."
    )]
    FilesUnavailable,
    /// Another folio box could not be reached, or answered wrongly (sync, pairing).
    #[error("{0}")]
    BadGateway(String),
    #[error("Something went wrong on the box. Try again; if it keeps happening, tell your school's IT person.")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(message.into())
    }
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Internal(e.into())
    }
    /// A short machine-readable name for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated => "unauthenticated",
            Error::BadCredentials => "bad_credentials",
            Error::Throttled(_) => "too_many_attempts",
            Error::NotFound => "not_found",
            Error::Forbidden(_) => "forbidden",
            Error::OnItsWay => "on_its_way",
            Error::CrossOrigin => "cross_origin",
            Error::Invalid(_) | Error::Refused(_) => "invalid",
            Error::Conflict(_) => "conflict",
            Error::WholeSchoolOnly(_) => "whole_school_only",
            Error::BadRequest(_) => "bad_request",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::Gone(_) => "gone",
            Error::ChecksumMismatch(_) => "checksum_mismatch",
            Error::TusVersion => "tus_version",
            Error::WrongSetupCode => "wrong_setup_code",
            Error::TooLarge(_) => "too_large",
            Error::DiskFull => "disk_full",
            Error::FilesUnavailable => "files_unavailable",
            Error::BadGateway(_) => "other_box",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Invalid(e.0)
    }
}

impl From<crate::auth::password::Busy> for Error {
    fn from(_: crate::auth::password::Busy) -> Self {
        Error::Throttled(Duration::from_secs(2))
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Erased => {
                Error::Invalid("That person's account was erased; nothing more can be added for them.".into())
            }
            e @ StoreError::WholeSchoolOnly { .. } => Error::WholeSchoolOnly(e.to_string()),
            e => Error::Internal(e.into()),
        }
    }
}

impl From<crate::blobs::BlobError> for Error {
    fn from(e: crate::blobs::BlobError) -> Self {
        use crate::blobs::BlobError;
        match e {
            BlobError::TooBig { .. } => Error::TooLarge(e.to_string()),
            BlobError::DiskFull => Error::DiskFull,
            BlobError::Io(io) => Error::internal(io),
            BlobError::Unavailable(detail) => {
                tracing::warn!("the file store is unreachable: {detail}");
                Error::FilesUnavailable
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
