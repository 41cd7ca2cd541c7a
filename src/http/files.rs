//! Sending stored files back: streamed from disk, with `Range` for seeking in video and
//! audio, and headers that keep user content from ever running as part of folio's pages:
//! HTML, SVG, XML and other active types go out as attachments, everything with
//! `nosniff` and a sandboxing CSP.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::blobs::BlobHash;
use crate::domain::FileRef;
use crate::error::{Error, Result};
use crate::media;

use super::AppState;

/// Answers a request for one stored file, honouring a single byte `Range`.
pub async fn serve(state: &AppState, file: &FileRef, request: &HeaderMap) -> Result<Response> {
    let hash = BlobHash::from_hex(&file.hash).ok_or_else(|| Error::internal(anyhow::anyhow!("bad stored hash")))?;
    let etag = format!("\"{}\"", file.hash);
    let presentation = media::presentation(&file.content_type);
    let mut headers = HeaderMap::new();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(&mut headers, header::CONTENT_TYPE, media::served_content_type(&file.content_type).to_string());
    set(&mut headers, header::CONTENT_DISPOSITION, media::content_disposition(presentation, &file.name));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Always revalidated (a cheap 304 thanks to the ETag), so the access check runs every
    // time: a shared classroom tablet must not hand the next child a cached copy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    set(&mut headers, header::ETAG, etag.clone());
    if request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    // Work synced from another box arrives before its files do.
    let size = state.blobs.size_as_recorded(&hash, file.size).await?.ok_or(Error::OnItsWay)?;
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let wanted = match range.map(|r| media::parse_range(r, size)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(r))) => Some(r),
        Some(Err(_)) => {
            set(&mut headers, header::CONTENT_RANGE, format!("bytes */{size}"));
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
        }
    };
    let (status, start, len) = match wanted {
        Some((start, end)) => {
            set(&mut headers, header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        None => (StatusCode::OK, 0, size),
    };
    set(&mut headers, header::CONTENT_LENGTH, len.to_string());
    let body = Body::from_stream(state.blobs.stream(&hash, start, len).await?);
    Ok((status, headers, body).into_response())
}

/// A thumbnail (JPEG) for an image file, made now if the background worker has not yet.
pub async fn serve_thumbnail(state: &AppState, file: &FileRef) -> Result<Response> {
    if !media::thumbnailable(&file.content_type) {
        return Err(Error::NotFound);
    }
    let (dir, blobs, hash) = (state.config.data_dir.clone(), state.blobs.clone(), file.hash.clone());
    let heavy = state.heavy.clone();
    // A picture that cannot be previewed (broken, too large, given up on) is "not found":
    // the page shows no preview and the file itself still downloads.
    // Housekeeping may trim the thumbnail between its making and its reading
    // (`disk_cache::trim`): then it is made once more.
    let bytes = tokio::task::spawn_blocking(move || {
        let mut tries = 0;
        loop {
            let path = crate::media::ensure_thumbnail(&dir, &blobs, &heavy, &hash).map_err(|_| Error::NotFound)?;
            match std::fs::read(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && tries == 0 => tries += 1,
                read => return read.map_err(Error::internal),
            }
        }
    })
    .await
    .map_err(Error::internal)??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-cache"),
            (header::CONTENT_SECURITY_POLICY, "sandbox"),
        ],
        bytes,
    )
        .into_response())
}
