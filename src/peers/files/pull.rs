//! Pulling: fetching the blobs this box lacks from a peer, resumed with `Range`.

use crate::store::FileReads;
use futures_util::StreamExt;

use std::collections::HashSet;
use std::io;

use axum::http::{StatusCode, header};
use tokio_util::task::AbortOnDropHandle;

use super::partial::{Appended, Busy, append, partial_len, partial_path, record_arrivals, take_in};
use super::{
    ARRIVALS_EVERY, ARRIVALS_PER_COMMIT, FileCounts, FilesError, MAX_PULLS_PER_ROUND, PARALLEL_TRANSFERS, allowed,
};
use crate::app::Folio;
use crate::blobs::BlobHash;
use crate::peers::Peer;
use crate::store::StoreError;

/// What fetching one blob came to.
enum Pulled {
    Got(u64),
    NotThere,
    Wrong,
    Busy,
}

/// Pulls the missing files within the peer's scope, except those `passed_over`, to which
/// it adds those the peer does not have or that another transfer is bringing.
pub(super) async fn pull(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    counts: &mut FileCounts,
    passed_over: &mut HashSet<BlobHash>,
) -> Result<(), FilesError> {
    let p = peer.clone();
    let store = folio.store.clone();
    let wanted: Vec<(String, u64)> = tokio::task::spawn_blocking(move || {
        store.read(|r| {
            let mut wanted = Vec::new();
            for (hex, size) in r.missing_blobs(usize::MAX)? {
                // Asking a peer for a file outside its scope would only be answered 404.
                if allowed(r, &p, &hex)?.is_some() {
                    wanted.push((hex, size));
                    if wanted.len() == MAX_PULLS_PER_ROUND {
                        break;
                    }
                }
            }
            Ok::<_, StoreError>(wanted)
        })
    })
    .await
    .map_err(io::Error::other)??;
    // A few files at a time, each on its own connection: one transfer at a time leaves the
    // link idle during every request's round trip and every file's sync and rename, which
    // for thousands of photos is most of the time. Each pull is its own task, so transfers
    // keep going while this loop records arrivals.
    let base: std::sync::Arc<str> = base.into();
    let wanted: Vec<(BlobHash, u64)> = wanted
        .into_iter()
        .filter_map(|(hex, size)| Some((BlobHash::from_hex(&hex)?, size)))
        .filter(|(hash, _)| !passed_over.contains(hash))
        .collect();
    let mut pulls = futures_util::stream::iter(wanted.into_iter().map(|(hash, size)| {
        let (http, base, folio) = (http.clone(), base.clone(), folio.clone());
        AbortOnDropHandle::new(tokio::spawn(async move { (hash, pull_one(&http, &base, &folio, &hash, size).await) }))
    }))
    .buffer_unordered(PARALLEL_TRANSFERS);
    let mut arrived = Vec::new();
    let mut last_recorded = std::time::Instant::now();
    let mut failed = None;
    while let Some(done) = pulls.next().await {
        let (hash, pulled) = done.map_err(io::Error::other)?;
        match pulled {
            Ok(Pulled::Got(bytes)) => {
                counts.files_received += 1;
                counts.bytes_received += bytes;
                arrived.push(hash);
            }
            Ok(Pulled::Wrong) => {
                counts.wrong_bytes += 1;
                tracing::warn!(peer = %peer.id.short(), %hash, "the peer sent a file whose bytes do not match its name; deleted");
            }
            Ok(Pulled::NotThere | Pulled::Busy) => {
                passed_over.insert(hash);
            }
            Err(e) => {
                // Stop starting new transfers; those under way are stopped when the stream
                // is dropped (what reached the disk is kept for the next round).
                failed = Some(e);
                break;
            }
        }
        if arrived.len() >= ARRIVALS_PER_COMMIT || last_recorded.elapsed() >= ARRIVALS_EVERY {
            record_arrivals(folio, std::mem::take(&mut arrived)).await?;
            last_recorded = std::time::Instant::now();
        }
    }
    drop(pulls);
    record_arrivals(folio, arrived).await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn pull_one(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    hash: &BlobHash,
    size: u64,
) -> Result<Pulled, FilesError> {
    if folio.blobs.contains(hash) {
        return Ok(Pulled::NotThere);
    }
    let path = partial_path(&folio.config.data_dir, hash);
    let Some(_busy) = Busy::take(&path) else { return Ok(Pulled::Busy) };
    let mut start = partial_len(&path).await;
    if start > size {
        tokio::fs::remove_file(&path).await?;
        start = 0;
    }
    let mut received = 0;
    // The hash of what is in the partial file, when this call wrote it.
    let mut computed = None;
    if start < size {
        let mut request = http.get(format!("{base}/peer/v1/blobs/{hash}"));
        if start > 0 {
            request = request.header(header::RANGE, format!("bytes={start}-"));
        }
        let response = request.send().await?;
        match response.status() {
            StatusCode::NOT_FOUND => return Ok(Pulled::NotThere),
            StatusCode::RANGE_NOT_SATISFIABLE => {
                // The partial file is longer than the peer's copy: something is off; start over.
                tokio::fs::remove_file(&path).await?;
                return Ok(Pulled::NotThere);
            }
            StatusCode::PARTIAL_CONTENT => {
                let from = response.headers().get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok());
                if from.and_then(content_range_start) != Some(start) {
                    return Err(FilesError::Refused {
                        what: "a request for part of a file",
                        status: 206,
                        message: "it sent another part than the one asked for".into(),
                    });
                }
            }
            // The whole file (the peer ignored the range): start from the beginning.
            StatusCode::OK => start = 0,
            status => {
                let message = response.text().await.unwrap_or_default();
                return Err(FilesError::Refused { what: "a request for a file", status: status.as_u16(), message });
            }
        }
        match append(&path, start, size, response.bytes_stream()).await? {
            Appended::Ended(n, hash) => {
                received = n - start;
                computed = Some(hash);
            }
            Appended::Broken(_, why) => return Err(FilesError::Unreachable(why)),
            Appended::TooMuch => {
                tokio::fs::remove_file(&path).await?;
                return Ok(Pulled::Wrong);
            }
        }
        if start + received < size {
            return Err(FilesError::Unreachable("a file arrived shorter than its size".into()));
        }
    }
    Ok(if take_in(folio, &path, hash, size, computed).await? { Pulled::Got(received) } else { Pulled::Wrong })
}

/// The first byte of a `Content-Range: bytes a-b/n`.
fn content_range_start(v: &str) -> Option<u64> {
    v.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}
