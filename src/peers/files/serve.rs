//! Serving: the peer port's file endpoints (`/peer/v1/blobs/…`), each hash checked against
//! the caller's grant.

use axum::response::IntoResponse;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, head, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::partial::{Appended, Busy, append, partial_len, partial_path, record_arrivals, take_in};
use super::{MAX_HASHES_PER_ASK, allowed};
use crate::app::Folio;
use crate::blobs::BlobHash;
use crate::peers::PeerCaller;
use crate::store::StoreError;

/// The file endpoints of the peer port. The peer listener mounts them behind the layer that
/// puts a [`PeerCaller`] into every request.
pub fn peer_routes() -> Router<Folio> {
    Router::new()
        .route("/peer/v1/blobs/missing", post(blobs_missing))
        .route("/peer/v1/blobs/{hash}", get(get_blob).patch(patch_blob).layer(DefaultBodyLimit::disable()))
        .route("/peer/v1/blobs/{hash}/partial", head(partial_offset))
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({"error": message}))).into_response()
}

fn not_here() -> Response {
    refusal(StatusCode::NOT_FOUND, "this box has no file by that name that it may give you")
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!("peer file request: {e}");
    refusal(StatusCode::INTERNAL_SERVER_ERROR, "something went wrong on this box")
}

/// A stored file that cannot be read now: on a bucket that cannot be reached, 503 with
/// Retry-After, so the other box tries again later rather than counting it as a fault.
fn blob_refusal(e: crate::blobs::BlobError) -> Response {
    match e {
        crate::blobs::BlobError::Unavailable(detail) => {
            tracing::warn!("peer file request: the file store is unreachable: {detail}");
            let mut res = refusal(StatusCode::SERVICE_UNAVAILABLE, "this box's file store cannot be reached just now");
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(30));
            res
        }
        other => internal(other),
    }
}

async fn read<T: Send + 'static>(
    folio: &Folio,
    f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    let store = folio.store.clone();
    match tokio::task::spawn_blocking(move || store.read(f)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(e)),
    }
}

#[derive(Serialize, Deserialize)]
pub struct Hashes {
    pub hashes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
pub struct Missing {
    pub missing: Vec<String>,
}

/// `POST /peer/v1/blobs/missing`: which of these blobs this box wants and lacks: a file
/// within the caller's scope names it, and it is not in the blob store.
async fn blobs_missing(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    Json(ask): Json<Hashes>,
) -> Response {
    if ask.hashes.len() > MAX_HASHES_PER_ASK {
        return refusal(StatusCode::PAYLOAD_TOO_LARGE, "ask about at most 1000 files at a time");
    }
    let Some(hashes) = ask.hashes.iter().map(|h| BlobHash::from_hex(h)).collect::<Option<Vec<_>>>() else {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "a file name is not a BLAKE3 hash (64 hex digits)");
    };
    let blobs = folio.blobs.clone();
    let wanted = read(&folio, move |r| {
        let mut missing = Vec::new();
        for hash in hashes {
            let hex = hash.to_hex();
            if allowed(r, &caller.peer, &hex)?.is_some() && !blobs.contains(&hash) {
                missing.push(hex);
            }
        }
        Ok(missing)
    })
    .await;
    match wanted {
        Ok(missing) => Json(Missing { missing }).into_response(),
        Err(res) => res,
    }
}

/// `GET /peer/v1/blobs/{hash}`, with a single byte `Range` (206). 404 unless a file within
/// the caller's scope uses the blob and it is here.
async fn get_blob(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    UrlPath(raw): UrlPath<String>,
    request: HeaderMap,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&raw) else { return not_here() };
    let hex = hash.to_hex();
    let recorded = match read(&folio, move |r| allowed(r, &caller.peer, &hex)).await {
        Ok(Some(recorded)) => recorded,
        Ok(None) => return not_here(),
        Err(res) => return res,
    };
    let size = match folio.blobs.size_as_recorded(&hash, recorded).await {
        Ok(Some(size)) => size,
        Ok(None) => return not_here(),
        Err(e) => return blob_refusal(e),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, len) = match range.map(|r| crate::media::parse_range(r, size)) {
        None | Some(Ok(None)) => (StatusCode::OK, 0, size),
        Some(Ok(Some((start, end)))) => {
            headers.insert(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}").parse().expect("ascii"));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(Err(_)) => {
            headers.insert(header::CONTENT_RANGE, format!("bytes */{size}").parse().expect("ascii"));
            return (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response();
        }
    };
    let stream = match folio.blobs.stream(&hash, start, len).await {
        Ok(stream) => stream,
        Err(e) => return blob_refusal(e),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = Body::from_stream(stream);
    (status, headers, body).into_response()
}

fn offset_headers(offset: u64, length: Option<u64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("upload-offset", HeaderValue::from(offset));
    if let Some(length) = length {
        headers.insert("upload-length", HeaderValue::from(length));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// `HEAD /peer/v1/blobs/{hash}/partial`: how many bytes of a push this box holds
/// (`Upload-Offset`; the whole length when it has the blob already).
async fn partial_offset(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    UrlPath(raw): UrlPath<String>,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&raw) else { return not_here() };
    let hex = hash.to_hex();
    let size = match read(&folio, move |r| allowed(r, &caller.peer, &hex)).await {
        Ok(Some(size)) => size,
        Ok(None) => return not_here(),
        Err(res) => return res,
    };
    if folio.blobs.contains(&hash) {
        return (StatusCode::OK, offset_headers(size, Some(size))).into_response();
    }
    let held = partial_len(&partial_path(&folio.config.data_dir, &hash)).await.min(size);
    (StatusCode::OK, offset_headers(held, Some(size))).into_response()
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    let v = headers.get(name)?.to_str().ok()?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// `PATCH /peer/v1/blobs/{hash}` with `Upload-Offset` and `Upload-Length`: appends the body
/// to the partial file; when it is complete, checks its BLAKE3 against the name (422 and
/// deleted on a mismatch) and takes it into the blob store.
async fn patch_blob(
    State(folio): State<Folio>,
    Extension(caller): Extension<PeerCaller>,
    UrlPath(raw): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(hash) = BlobHash::from_hex(&raw) else { return not_here() };
    let (Some(offset), Some(length)) = (header_u64(&headers, "upload-offset"), header_u64(&headers, "upload-length"))
    else {
        return refusal(StatusCode::BAD_REQUEST, "send Upload-Offset and Upload-Length");
    };
    let (hex, who) = (hash.to_hex(), caller.peer.id.short());
    let size = match read(&folio, move |r| allowed(r, &caller.peer, &hex)).await {
        Ok(Some(size)) => size,
        // No file we share with the caller names this hash: not ours to store.
        Ok(None) => {
            return refusal(
                StatusCode::FORBIDDEN,
                "no work this box shares with you uses that file; it was not accepted",
            );
        }
        Err(res) => return res,
    };
    if length != size {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "Upload-Length is not the size the work gives that file");
    }
    if folio.blobs.contains(&hash) {
        return (StatusCode::NO_CONTENT, offset_headers(size, None)).into_response();
    }
    let path = partial_path(&folio.config.data_dir, &hash);
    let Some(_busy) = Busy::take(&path) else {
        return refusal(StatusCode::CONFLICT, "this file is being copied already; ask for the offset again later");
    };
    let held = partial_len(&path).await;
    if offset != held {
        let mut res = refusal(StatusCode::CONFLICT, "Upload-Offset is not the number of bytes this box holds");
        res.headers_mut().extend(offset_headers(held, Some(size)));
        return res;
    }
    let (now, computed) = match append(&path, held, size, body.into_data_stream()).await {
        Ok(Appended::Ended(n, computed)) => (n, computed),
        // The sender went away: what arrived is kept for its next PATCH.
        Ok(Appended::Broken(n, _)) => return (StatusCode::NO_CONTENT, offset_headers(n, None)).into_response(),
        Ok(Appended::TooMuch) => {
            return refusal(StatusCode::UNPROCESSABLE_ENTITY, "more bytes than the file has; nothing of them was kept");
        }
        Err(e) => return internal(e),
    };
    if now < size {
        return (StatusCode::NO_CONTENT, offset_headers(now, None)).into_response();
    }
    let taken = match take_in(&folio, &path, &hash, size, Some(computed)).await {
        Ok(true) => record_arrivals(&folio, vec![hash]).await.map(|()| true),
        other => other,
    };
    match taken {
        Ok(true) => (StatusCode::NO_CONTENT, offset_headers(size, None)).into_response(),
        Ok(false) => {
            tracing::warn!(peer = %who, %hash, "a peer sent a file whose bytes do not match its name; it was deleted");
            refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the bytes sent do not match the file's name (BLAKE3); nothing of them was kept",
            )
        }
        Err(e) => internal(e),
    }
}
