//! Resumable uploads: the tus 1.0.0 protocol (core, creation, termination, expiration) at
//! `/api/v1/uploads`, for people who are signed in.
//!
//! A client creates an upload with its size (`POST`), sends the bytes in as many `PATCH`es
//! as its network allows, asks where it stands after a break (`HEAD`), and finally names the
//! upload in `POST /api/v1/artifacts` (or `.../versions`) as a text part `upload`. Every
//! acknowledged byte is on disk (see `resumable`). When the last byte arrives the file is
//! checked against the digest the client announced (if any), goes into the blob store
//! (photos lose their EXIF/GPS there like every upload), and waits, held from garbage
//! collection by its row, until a piece of work uses it or it expires.
//!
//! Refusals use folio's JSON errors: 400 for a header folio cannot read, 404 for an upload
//! that does not exist or is someone else's, 409 for a PATCH at the wrong offset, 410 for an
//! expired upload, 412 for another tus version, 413 over a limit, 415 for a PATCH that is not
//! `application/offset+octet-stream`, 460 when the finished file does not match its digest,
//! 507 when the box's disk cannot hold the file.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::hlc::wall_clock_ms;
use crate::domain::upload::{self, Checksum, UploadId};
use crate::domain::{FileId, FileRef, User};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{
    BadRequest, Binary, ChecksumMismatch, Conflict, DiskFull, FilesUnavailable, Forbidden, Gone, NotFound, TooLarge,
    TusVersion, Unauthenticated, UnsupportedMediaType,
};
use crate::http::uploads::human_bytes;
use crate::media;
use crate::resumable::{End, Held};
use crate::store::uploads::{self, Finished, Upload};

use super::input::Path;

const TUS_VERSION: &str = "1.0.0";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload, describe_uploads))
        .routes(routes!(upload_offset, append_to_upload, delete_upload, describe_upload))
        .layer(axum::middleware::map_response(tus_headers))
}

/// Every tus answer says which protocol it speaks, and none is cached.
async fn tus_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// What this box supports
// (The doc comment above is the answer's description in the API description.)
#[derive(utoipa::IntoResponses)]
#[response(status = 204, headers(
    ("tus-version" = String, description = "1.0.0"),
    ("tus-extension" = String, description = "creation,termination,expiration"),
    ("tus-max-size" = u64, description = "The largest file, in bytes"),
))]
struct Capabilities;

/// What this box supports of tus. Says nothing about anyone, so no sign-in needed.
#[utoipa::path(
    options,
    path = "/api/v1/uploads",
    tag = "uploads",
    security(()),
    responses(Capabilities)
)]
async fn describe_uploads(state: State<AppState>) -> Response {
    describe(state).await
}

/// The same as `OPTIONS /api/v1/uploads`, which tus clients may also ask of an upload.
#[utoipa::path(
    options,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    security(()),
    params(("id" = String, Path, description = "The upload's id")),
    responses(Capabilities)
)]
async fn describe_upload(state: State<AppState>) -> Response {
    describe(state).await
}

/// `OPTIONS`: what this server supports.
async fn describe(State(state): State<AppState>) -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            ("tus-version", TUS_VERSION.to_string()),
            ("tus-extension", "creation,termination,expiration".to_string()),
            ("tus-max-size", state.config.max_file_bytes.to_string()),
        ],
    )
        .into_response()
}

fn check_version(headers: &HeaderMap) -> Result<()> {
    match headers.get("tus-resumable") {
        Some(v) if v.as_bytes() == TUS_VERSION.as_bytes() => Ok(()),
        _ => Err(Error::TusVersion),
    }
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>> {
    headers
        .get(name)
        .map(|v| v.to_str().map_err(|_| Error::BadRequest(format!("The {name} header is not plain text."))))
        .transpose()
}

fn bad(e: crate::domain::Invalid) -> Error {
    Error::BadRequest(e.0)
}

/// An RFC 7231 date, as `Upload-Expires` wants it.
fn http_date(ms: u64) -> HeaderValue {
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms));
    HeaderValue::from_str(&date).expect("an HTTP date is a valid header")
}

fn expiry_ms(state: &AppState) -> u64 {
    state.config.upload_expiry.as_millis().min(u64::MAX as u128) as u64
}

fn parse_upload_id(raw: &str) -> Result<UploadId> {
    raw.parse().map_err(|_| Error::NotFound)
}

/// `POST /api/v1/uploads`: a new upload of `Upload-Length` bytes.
#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "uploads",
    params(
        ("tus-resumable" = String, Header, description = "1.0.0"),
        ("upload-length" = u64, Header, description = "The file's size in bytes"),
        ("upload-metadata" = Option<String>, Header, description = "tus metadata: `filename` and `checksum` (`sha256 <base64>` or `blake3 <base64>`), values in base64"),
    ),
    responses(
        (status = 201, description = "Made; send the bytes to Location", headers(
            ("location" = String, description = "The upload's address"),
            ("upload-offset" = u64, description = "0"),
            ("upload-expires" = String, description = "When an upload not continued is removed"),
        )),
        BadRequest,
        Unauthenticated,
        Forbidden,
        Conflict,
        TusVersion,
        TooLarge,
        DiskFull,
        FilesUnavailable,
    )
)]
async fn create_upload(State(state): State<AppState>, me: SignedIn, headers: HeaderMap) -> Result<Response> {
    check_version(&headers)?;
    let length = match text(&headers, "upload-length")? {
        Some(v) => upload::parse_size("Upload-Length", v).map_err(bad)?,
        None if headers.contains_key("upload-defer-length") => {
            return Err(Error::BadRequest(
                "This box needs the file's size when an upload starts: send Upload-Length.".into(),
            ));
        }
        None => return Err(Error::BadRequest("Send the file's size in bytes as Upload-Length.".into())),
    };
    let metadata = text(&headers, "upload-metadata")?.unwrap_or("").to_string();
    let parsed = upload::parse_metadata(&metadata).map_err(bad)?;
    let (id, expires) = crate::actions::uploads::start(&state, &me.user, length, metadata, parsed).await?;
    let mut res = StatusCode::CREATED.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_str(&format!("/api/v1/uploads/{id}")).expect("hex is a valid header"));
    h.insert("upload-expires", http_date(expires));
    h.insert("upload-offset", HeaderValue::from(0u64));
    Ok(res)
}

/// The upload's lock, if the upload is the caller's: someone else (or a guessed id) never
/// gets to stop a PATCH in progress. Look at the row again (`load`) once it is held.
async fn hold_mine(state: &AppState, id: UploadId, me: &User) -> Result<Held> {
    let found = state.db(move |store| Ok(store.read(|r| uploads::get(r, id))?)).await?;
    if found.is_none_or(|u| u.owner != me.id) {
        return Err(Error::NotFound);
    }
    Ok(state.partials.hold(id).await)
}

/// The caller's upload, or 404 (unknown or someone else's) or 410 (expired, and removed now).
async fn load(state: &AppState, held: &mut Held, me: &User) -> Result<Upload> {
    let id = held.id();
    let found = state.db(move |store| Ok(store.read(|r| uploads::get(r, id))?)).await?;
    match found {
        Some(upload) if upload.owner == me.id => {
            if upload.expired(wall_clock_ms()) {
                discard(state, held).await?;
                return Err(Error::Gone(
                    "This upload expired because it was not continued in time. Start it again.".into(),
                ));
            }
            Ok(upload)
        }
        _ => Err(Error::NotFound),
    }
}

/// The caller's upload, held ([`hold_mine`]) and then read again ([`load`]).
async fn hold_and_load(state: &AppState, id: UploadId, me: &User) -> Result<(Held, Upload)> {
    let mut held = hold_mine(state, id, me).await?;
    let upload = load(state, &mut held, me).await?;
    Ok((held, upload))
}

/// Removes an upload: its row, its file, its digests, and a finished one's blob if nothing
/// else uses it.
async fn discard(state: &AppState, held: &mut Held) -> Result<()> {
    let id = held.id();
    let removed = state.db(move |store| Ok(store.write(|tx| uploads::remove(tx.txn(), id))?)).await?;
    let partials = state.partials.clone();
    tokio::task::spawn_blocking(move || partials.remove(id)).await.map_err(Error::internal)?;
    held.forget();
    if let Some(finished) = removed.and_then(|u| u.finished) {
        state.collect_now(vec![finished.hash]).await?;
    }
    Ok(())
}

/// `HEAD /api/v1/uploads/{id}`: how many bytes the box has. Waits for a PATCH still running
/// for this upload, so the offset is final.
#[utoipa::path(
    head,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), ("tus-resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 200, description = "Where the upload stands (no body)", headers(
            ("upload-offset" = u64, description = "The bytes the box has"),
            ("upload-length" = u64, description = "The file's size"),
            ("upload-expires" = String, description = "When it is removed unless continued"),
            ("upload-metadata" = String, description = "The metadata it was made with"),
        )),
        Unauthenticated,
        NotFound,
        Gone,
        TusVersion,
    )
)]
async fn upload_offset(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    check_version(&headers)?;
    let id = parse_upload_id(&raw)?;
    // Waits for (and stops) a PATCH still running for this upload, so the offset is final.
    let (_held, upload) = hold_and_load(&state, id, &me.user).await?;
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    h.insert("upload-offset", HeaderValue::from(upload.offset));
    h.insert("upload-length", HeaderValue::from(upload.length));
    h.insert("upload-expires", http_date(upload.expires_ms));
    if !upload.metadata.is_empty()
        && let Ok(v) = HeaderValue::from_str(&upload.metadata)
    {
        h.insert("upload-metadata", v);
    }
    Ok(res)
}

fn no_content(offset: u64, expires_ms: u64) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert("upload-offset", HeaderValue::from(offset));
    res.headers_mut().insert("upload-expires", http_date(expires_ms));
    res
}

/// `PATCH /api/v1/uploads/{id}`: the next bytes, at `Upload-Offset`. When the last byte is
/// in, the file is checked against the announced checksum and kept for use.
#[utoipa::path(
    patch,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(
        ("id" = String, Path, description = "The upload's id"),
        ("tus-resumable" = String, Header, description = "1.0.0"),
        ("upload-offset" = u64, Header, description = "Where these bytes start in the file"),
    ),
    request_body(content = Binary, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "The bytes are on disk", headers(
            ("upload-offset" = u64, description = "The bytes the box has now"),
            ("upload-expires" = String, description = "When it is removed unless continued"),
        )),
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        Gone,
        TusVersion,
        TooLarge,
        UnsupportedMediaType,
        ChecksumMismatch,
        DiskFull,
        FilesUnavailable,
    )
)]
async fn append_to_upload(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_version(&headers)?;
    let id = parse_upload_id(&raw)?;
    let content_type = text(&headers, header::CONTENT_TYPE.as_str())?.unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/offset+octet-stream") {
        return Err(Error::UnsupportedMediaType(
            "Send the upload's bytes with Content-Type: application/offset+octet-stream.".into(),
        ));
    }
    let offset = text(&headers, "upload-offset")?
        .ok_or_else(|| Error::BadRequest("Send Upload-Offset: where these bytes start in the file.".into()))?;
    let offset = upload::parse_size("Upload-Offset", offset).map_err(bad)?;
    let announced = text(&headers, header::CONTENT_LENGTH.as_str())?.and_then(|v| v.parse::<u64>().ok());
    // In a task of its own: if the connection drops and this handler is dropped with it,
    // what arrived is still synced and counted.
    let user = me.user.clone();
    tokio::spawn(async move { patch(state, user, id, offset, announced, body).await }).await.map_err(Error::internal)?
}

async fn patch(
    state: AppState,
    user: User,
    id: UploadId,
    offset: u64,
    announced: Option<u64>,
    body: Body,
) -> Result<Response> {
    let (mut held, upload) = hold_and_load(&state, id, &user).await?;
    if upload.offset == upload.length {
        // All bytes are in: a repeated last PATCH (its answer was lost) is answered again.
        if offset == upload.length && announced.unwrap_or(0) == 0 {
            if upload.finished.is_none() {
                finish(&state, &mut held, &upload).await?;
            }
            return Ok(no_content(upload.length, upload.expires_ms));
        }
        return Err(Error::conflict("This upload is complete already: it takes no more bytes."));
    }
    if offset != upload.offset {
        return Err(Error::conflict(format!(
            "This upload is at byte {}, not {offset}. Ask where it stands (HEAD) and continue from there.",
            upload.offset
        )));
    }
    let room = upload.length - upload.offset;
    let past_the_end =
        || Error::TooLarge("These bytes go past the end of the file (its Upload-Length); none were kept.".into());
    if announced.is_some_and(|n| n > room) {
        return Err(past_the_end());
    }
    let want_sha256 = matches!(upload.checksum, Some(Checksum::Sha256(_)));
    let appended = state.partials.append(&mut held, offset, room, want_sha256, body.into_data_stream()).await?;
    if appended.end == End::TooMuch {
        return Err(past_the_end());
    }
    let new_offset = offset + appended.written;
    let expires_ms = wall_clock_ms().saturating_add(expiry_ms(&state));
    if appended.written > 0 {
        state
            .db(move |store| {
                Ok(store.write(|tx| {
                    if let Some(mut u) = uploads::get(tx.txn(), id)? {
                        u.offset = new_offset;
                        u.expires_ms = expires_ms;
                        uploads::put(tx.txn(), id, &u)?;
                    }
                    Ok::<_, crate::store::StoreError>(())
                })?)
            })
            .await?;
    }
    match appended.end {
        End::Complete | End::TooMuch => {}
        End::ClientGone | End::Idle => {
            return Err(Error::BadRequest(format!(
                "The bytes stopped arriving; the box kept the first {new_offset}. Continue from there."
            )));
        }
        End::Interrupted => {
            return Err(Error::conflict(format!(
                "Another request for this upload arrived, so this one stopped at byte {new_offset}."
            )));
        }
    }
    if new_offset == upload.length {
        let upload = Upload { offset: new_offset, expires_ms, ..upload };
        finish(&state, &mut held, &upload).await?;
    }
    Ok(no_content(new_offset, expires_ms))
}

/// The last byte is in: check the announced digest, move the file into the blob store and
/// record it. A mismatch throws the upload away (460), so it can never be used.
async fn finish(state: &AppState, held: &mut Held, upload: &Upload) -> Result<Finished> {
    let id = held.id();
    let want_sha256 = matches!(upload.checksum, Some(Checksum::Sha256(_)));
    let digests = state.partials.digests(held, upload.length, want_sha256).await.map_err(Error::internal)?;
    if let Some(announced) = &upload.checksum
        && !digests.matches(announced)
    {
        discard(state, held).await?;
        return Err(Error::ChecksumMismatch(format!(
            "The file that arrived does not match the {} checksum sent with it, so it was damaged on the way and was thrown away. Upload it again.",
            announced.name()
        )));
    }
    // Held from the collector until the row that holds it is committed: from before the
    // rename when the stored bytes are the received ones (a deduplicated blob that a delete
    // just released must not go between the two), else from when the filtered file is in.
    let _before = state.in_flight.hold(&crate::blobs::BlobHash(digests.blake3).to_hex());
    let (stored, head) = state.partials.store(&state.blobs, id, &digests, upload.length).await?;
    let hash = stored.hash.to_hex();
    let _hold = state.in_flight.hold(&hash);
    let finished =
        Finished { hash, size: stored.size, content_type: media::sniff_content_type(&head, &upload.name).to_string() };
    let done = Upload { offset: upload.length, finished: Some(finished.clone()), ..upload.clone() };
    state.db(move |store| Ok(store.write(|tx| uploads::put(tx.txn(), id, &done))?)).await?;
    held.forget();
    Ok(finished)
}

/// `DELETE /api/v1/uploads/{id}`: the upload and its bytes go.
#[utoipa::path(
    delete,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), ("tus-resumable" = String, Header, description = "1.0.0")),
    responses((status = 204, description = "Removed"), Unauthenticated, Forbidden, NotFound, Gone, TusVersion)
)]
async fn delete_upload(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    check_version(&headers)?;
    let id = parse_upload_id(&raw)?;
    let (mut held, _) = hold_and_load(&state, id, &me.user).await?;
    discard(&state, &mut held).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Files for the `upload` parts of a form that makes or extends a piece of work, in form
/// order as (position among the form's files, file). An upload whose last byte is in but
/// that a crash kept from being finished is finished now; an unfinished one is refused
/// (409). One that is unknown, someone else's, expired or used already gets no file here:
/// the transaction that uses the uploads refuses it (after a repeated request with the same
/// artifact `id` has been answered with the artifact it made).
pub async fn files_for_use(
    state: &AppState,
    me: &User,
    refs: &[(usize, String)],
) -> Result<(Vec<(usize, FileRef)>, Vec<UploadId>)> {
    let mut files = Vec::new();
    let mut ids: Vec<UploadId> = Vec::new();
    for (position, reference) in refs {
        let id = UploadId::from_reference(reference).ok_or_else(|| {
            Error::Invalid("\"upload\" must be an upload's id or its address (/api/v1/uploads/…).".into())
        })?;
        if ids.contains(&id) {
            return Err(Error::Invalid("The same upload is named twice.".into()));
        }
        ids.push(id);
        let mut held = match hold_mine(state, id, me).await {
            Ok(held) => held,
            Err(Error::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let found = state.db(move |store| Ok(store.read(|r| uploads::get(r, id))?)).await?;
        let Some(upload) = found.filter(|u| u.owner == me.id && !u.expired(wall_clock_ms())) else { continue };
        let finished = match &upload.finished {
            Some(f) => f.clone(),
            None if upload.offset == upload.length => finish(state, &mut held, &upload).await?,
            None => {
                return Err(Error::conflict(format!(
                    "The upload of \"{}\" is not finished: {} of {} have arrived. Send the rest, then try again.",
                    upload.name,
                    human_bytes(upload.offset),
                    human_bytes(upload.length)
                )));
            }
        };
        files.push((
            *position,
            FileRef {
                id: FileId::new(),
                name: upload.name.clone(),
                content_type: finished.content_type,
                size: finished.size,
                hash: finished.hash,
            },
        ));
    }
    Ok((files, ids))
}
