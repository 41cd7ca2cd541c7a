//! Pushing: sending a peer the blobs it lacks past its file positions, resumed with
//! `HEAD …/partial` and `PATCH`.

use crate::store::PeerReads;
use crate::store::Queries;
use futures_util::StreamExt;

use std::collections::{BTreeSet, HashSet};
use std::io;

use axum::http::{StatusCode, header};

use super::serve::{Hashes, Missing};
use super::{FileCounts, FilesError, MAX_HASHES_PER_ASK, PARALLEL_TRANSFERS};
use crate::app::Folio;
use crate::blobs::{BlobError, BlobHash, BlobStore};
use crate::peers::Peer;
use crate::store::StoreError;
use crate::sync::{Limits, Positions};

pub(super) async fn push(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    counts: &mut FileCounts,
) -> Result<(), FilesError> {
    let store = folio.store.clone();
    let schools =
        tokio::task::spawn_blocking(move || store.read(|r| r.schools())).await.map_err(io::Error::other)??;
    for school in schools {
        let Some(grant) = peer.scope.grant(school.id) else { continue };
        push_school(http, base, folio, peer, &grant, counts).await?;
    }
    Ok(())
}

/// Offers the peer the files of one school's operations past its file positions, a page of
/// operations at a time.
async fn push_school(
    http: &reqwest::Client,
    base: &str,
    folio: &Folio,
    peer: &Peer,
    grant: &crate::sync::Grant,
    counts: &mut FileCounts,
) -> Result<(), FilesError> {
    let (store, school, peer_id) = (folio.store.clone(), grant.school, peer.id.0);
    let mut positions: Positions = tokio::task::spawn_blocking(move || {
        store.read(|r| {
            if let Some(p) = r.peer_file_positions(peer_id, school)? {
                return Ok::<_, StoreError>(p);
            }
            // The peer's own operations' files are its own: the replica it last named is left
            // out (unknown before the first sync: then nothing is).
            let replica = r
                .peer_positions::<Positions>(peer_id, school)?
                .map_or(crate::domain::ReplicaId(uuid::Uuid::nil()), |p| p.replica);
            Ok(Positions { school, replica, have: Vec::new() })
        })
    })
    .await
    .map_err(io::Error::other)??;
    let mut advancing = true;
    loop {
        let (store, grant_now, asked) = (folio.store.clone(), grant.clone(), positions.clone());
        let page = tokio::task::spawn_blocking(move || {
            crate::sync::ops_missing(&store, &asked, &grant_now, Limits { max_ops: 500, max_bytes: 4 << 20 })
        })
        .await
        .map_err(io::Error::other)??;
        let named: BTreeSet<(String, u64)> =
            page.ops.iter().flat_map(|op| op.change.files()).map(|f| (f.hash.clone(), f.size)).collect();
        let mut whole = true;
        let mut offer = Vec::new();
        for (hex, size) in named {
            let Some(hash) = BlobHash::from_hex(&hex) else { continue };
            if folio.blobs.contains(&hash) {
                offer.push((hash, size));
            } else {
                let store = folio.store.clone();
                let hex2 = hex.clone();
                let used = tokio::task::spawn_blocking(move || store.read(|r| r.blob_in_use(&hex2)))
                    .await
                    .map_err(io::Error::other)??;
                // Still on its way here too: offer it again once it has arrived.
                if used {
                    whole = false;
                }
            }
        }
        for chunk in offer.chunks(MAX_HASHES_PER_ASK) {
            let ask = Hashes { hashes: chunk.iter().map(|(h, _)| h.to_hex()).collect() };
            let response = http.post(format!("{base}/peer/v1/blobs/missing")).json(&ask).send().await?;
            if !response.status().is_success() {
                let status = response.status().as_u16();
                let message = response.text().await.unwrap_or_default();
                return Err(FilesError::Refused { what: "a question about missing files", status, message });
            }
            let lacking: HashSet<String> = response.json::<Missing>().await?.missing.into_iter().collect();
            let lacked: Vec<(BlobHash, u64)> =
                chunk.iter().filter(|(h, _)| lacking.contains(&h.to_hex())).copied().collect();
            let blobs = &folio.blobs;
            let mut pushes = futures_util::stream::iter(lacked)
                .map(|(hash, size)| async move { push_one(http, base, blobs, &hash, size).await })
                .buffer_unordered(PARALLEL_TRANSFERS);
            while let Some(pushed) = pushes.next().await {
                match pushed? {
                    Pushed::Sent(bytes) => {
                        counts.files_sent += 1;
                        counts.bytes_sent += bytes;
                    }
                    Pushed::Refused => {
                        counts.refused_by_peer += 1;
                        whole = false;
                    }
                    Pushed::NotNow => whole = false,
                }
            }
        }
        // Later pages are offered from where this one ended, but positions are kept only
        // while every page so far was handled whole.
        positions.advance(&page);
        advancing &= whole;
        if advancing {
            let (store, keep) = (folio.store.clone(), positions.clone());
            tokio::task::spawn_blocking(move || store.write(|tx| tx.set_peer_file_positions(peer_id, school, &keep)))
                .await
                .map_err(io::Error::other)??;
        }
        if !page.more {
            return Ok(());
        }
    }
}

enum Pushed {
    Sent(u64),
    /// The peer says our bytes do not match the name.
    Refused,
    /// The peer is busy with this file, or no longer wants it.
    NotNow,
}

async fn push_one(
    http: &reqwest::Client,
    base: &str,
    blobs: &BlobStore,
    hash: &BlobHash,
    size: u64,
) -> Result<Pushed, FilesError> {
    let url = format!("{base}/peer/v1/blobs/{hash}");
    let head = http.head(format!("{url}/partial")).send().await?;
    if !head.status().is_success() {
        return Ok(Pushed::NotNow);
    }
    let mut offset = match head.headers().get("upload-offset").and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) {
        Some(offset) => offset,
        None => return Ok(Pushed::NotNow),
    };
    let mut sent = 0;
    // A conflict tells the offset the peer holds; follow it a few times at most.
    for _ in 0..3 {
        if offset >= size {
            return Ok(Pushed::Sent(sent));
        }
        let stream = blobs.stream(hash, offset, size - offset).await.map_err(BlobError::into_io)?;
        let body = reqwest::Body::wrap_stream(stream);
        let response = http
            .patch(&url)
            .header("upload-offset", offset)
            .header("upload-length", size)
            .header(header::CONTENT_TYPE, "application/offset+octet-stream")
            .body(body)
            .send()
            .await?;
        let reported = response.headers().get("upload-offset").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        match response.status() {
            StatusCode::NO_CONTENT | StatusCode::OK => {
                let now = reported.unwrap_or(offset);
                sent += now.saturating_sub(offset);
                if now >= size {
                    return Ok(Pushed::Sent(sent));
                }
                return Err(FilesError::Unreachable("the other box stopped taking a file halfway".into()));
            }
            StatusCode::CONFLICT => match reported {
                Some(now) => offset = now,
                None => return Ok(Pushed::NotNow),
            },
            StatusCode::UNPROCESSABLE_ENTITY => return Ok(Pushed::Refused),
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => return Ok(Pushed::NotNow),
            status => {
                let message = response.text().await.unwrap_or_default();
                return Err(FilesError::Refused { what: "a file sent to it", status: status.as_u16(), message });
            }
        }
    }
    Ok(Pushed::NotNow)
}
