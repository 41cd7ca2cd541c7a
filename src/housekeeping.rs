//! Work folio does in the background: thumbnails for new images (from the durable to-do list
//! the upload's transaction wrote, each decode through the `heavy` gate), removing expired resumable uploads and files other boxes
//! stopped sending a day ago (`<data>/incoming/`), and collecting blobs
//! no file uses any more. Thumbnails are derived state: delete `thumbs/` and they come back
//! on request.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::app::Folio;
use crate::blobs::{BlobHash, BlobStore};
use crate::heavy::{Heavy, Job, Refused};
use crate::media;
use crate::store::{Queries, StoreError, tables, uploads};

pub fn thumbnail_path(data_dir: &Path, hash_hex: &str) -> PathBuf {
    data_dir.join("thumbs").join(format!("{hash_hex}.jpg"))
}

/// Makes the thumbnail for one stored image, if it is missing. Returns its path.
///
/// The decode goes through the [`Heavy`] gate: a few at once, one per file, and a picture that
/// failed (or was being decoded when folio died) is not decoded again: it has no preview
/// and is still served as itself.
pub fn ensure_thumbnail(
    data_dir: &Path,
    blobs: &BlobStore,
    heavy: &Heavy,
    hash_hex: &str,
) -> Result<PathBuf, Refused<media::MediaError>> {
    let dest = thumbnail_path(data_dir, hash_hex);
    if dest.exists() {
        return Ok(dest);
    }
    let hash = BlobHash::from_hex(hash_hex).ok_or(Refused::Failed(media::MediaError::Unsupported))?;
    let source = blobs.path(&hash);
    heavy.run(
        Job::Thumbnail,
        &hash,
        || {
            // Made meanwhile by the request this one waited for.
            if dest.exists() {
                return Ok(dest.clone());
            }
            std::fs::create_dir_all(dest.parent().expect("thumbs/ has a parent"))?;
            media::make_thumbnail(&source, &dest)?;
            Ok(dest.clone())
        },
        |e| lies_in_the_file(e, &source),
    )
}

/// Whether a thumbnail failure is the picture's own (remembered, never tried again) rather
/// than the box's (a full disk, a file still on its way from another box).
fn lies_in_the_file(e: &media::MediaError, source: &Path) -> bool {
    match e {
        media::MediaError::Io(io) => {
            source.is_file() && matches!(io.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData)
        }
        media::MediaError::Unsupported | media::MediaError::TooLarge | media::MediaError::Image(_) => true,
    }
}

/// Works through the thumbnail to-do list; an image that cannot be read is dropped from the
/// list (it is still served as itself), and so is one that folio died decoding (the gate
/// finds its started mark), so a restart never loops on it.
fn make_pending_thumbnails(folio: &Folio) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let batch = folio.store.read(|r| r.thumbnail_todo(16))?;
        if batch.is_empty() {
            return Ok(done);
        }
        for (hash, _) in &batch {
            // A file still on its way from another box: its arrival queues the thumbnail again.
            if BlobHash::from_hex(hash).is_some_and(|h| !folio.blobs.contains(&h)) {
                continue;
            }
            if let Err(e) = ensure_thumbnail(&folio.config.data_dir, &folio.blobs, &folio.heavy, hash) {
                tracing::info!(%hash, "no thumbnail: {e}");
            }
            done += 1;
        }
        folio.store.write(|tx| {
            let mut todo = tx.txn().open_table(tables::THUMBNAIL_TODO)?;
            for (hash, _) in &batch {
                todo.remove(hash.as_str())?;
            }
            Ok::<_, StoreError>(())
        })?;
    }
}

/// How often expired uploads are looked for: every minute, or sooner when uploads expire
/// sooner (tests).
fn sweep_every(config: &crate::config::Config) -> Duration {
    (config.upload_expiry / 2).clamp(Duration::from_millis(50), Duration::from_secs(60))
}

/// Removes resumable uploads that expired at least one sweep ago: the row, the unfinished
/// file, and a finished upload's blob if nothing else uses it. (The sweep's wait means a
/// client coming back just after its upload expired is told 410 Gone, as tus asks, rather
/// than 404, whenever the sweep happens to run.) An upload a request is working on right
/// now is left for the next round. Blocking.
pub fn sweep_expired_uploads(folio: &Folio) -> Result<usize, StoreError> {
    let grace = sweep_every(&folio.config).as_millis() as u64;
    let now = crate::domain::hlc::wall_clock_ms().saturating_sub(grace);
    let expired: Vec<_> =
        folio.store.read(uploads::all)?.into_iter().filter(|(_, u)| u.expired(now)).map(|(id, _)| id).collect();
    let mut removed = 0;
    for id in expired {
        let Some(mut held) = folio.partials.try_hold(id) else { continue };
        let gone = folio.store.write(|tx| match uploads::get(tx.txn(), id)? {
            Some(u) if u.expired(now) => uploads::remove(tx.txn(), id),
            _ => Ok(None),
        })?;
        let Some(upload) = gone else { continue };
        folio.partials.remove(id);
        held.forget();
        if let Some(finished) = upload.finished {
            collect_garbage(folio, Some(vec![finished.hash]))?;
        }
        removed += 1;
    }
    Ok(removed)
}

/// Runs until the process ends: thumbnails when woken (and every minute), expired uploads
/// every minute (sooner when uploads expire sooner), garbage hourly.
pub fn spawn(folio: Folio) -> tokio::task::JoinHandle<()> {
    let tick = sweep_every(&folio.config);
    tokio::spawn(async move {
        let mut last_gc = None::<std::time::Instant>;
        loop {
            let s = folio.clone();
            match tokio::task::spawn_blocking(move || make_pending_thumbnails(&s)).await {
                Ok(Err(e)) => tracing::warn!("thumbnails: {e}"),
                Err(e) => tracing::warn!("thumbnails: {e}"),
                Ok(Ok(_)) => {}
            }
            let s = folio.clone();
            match tokio::task::spawn_blocking(move || sweep_expired_uploads(&s)).await {
                Ok(Ok(n)) if n > 0 => tracing::info!("removed {n} expired uploads"),
                Ok(Err(e)) => tracing::warn!("expired uploads: {e}"),
                _ => {}
            }
            if last_gc.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                last_gc = Some(std::time::Instant::now());
                let dir = folio.config.data_dir.clone();
                let swept = tokio::task::spawn_blocking(move || {
                    crate::peers::files::sweep_stale_partials(&dir, crate::peers::files::PARTIAL_MAX_AGE)
                })
                .await;
                match swept {
                    Ok(Ok(n)) if n > 0 => tracing::info!("removed {n} files other boxes stopped sending a day ago"),
                    Ok(Err(e)) => tracing::warn!("unfinished files from other boxes: {e}"),
                    _ => {}
                }
                let s = folio.clone();
                let result = tokio::task::spawn_blocking(move || collect_garbage(&s, None)).await;
                if let Ok(Ok(n)) = result
                    && n > 0
                {
                    tracing::info!("removed {n} files no longer used");
                }
            }
            tokio::select! {
                _ = folio.media_work.notified() => {},
                _ = tokio::time::sleep(tick) => {},
            }
        }
    })
}

/// Blobs younger than this are never collected by the periodic sweep: an upload in progress
/// has stored its files but not yet committed the operation that uses them.
const GRACE: Duration = Duration::from_secs(3600);

/// Removes blobs (and their thumbnails and extracted text) that no file uses. With `only`, just those hashes are
/// considered, at once (after a delete or an erasure); otherwise every blob older than an hour.
pub fn collect_garbage(folio: &Folio, only: Option<Vec<String>>) -> Result<usize, StoreError> {
    let (store, blobs, in_flight, data_dir) = (&folio.store, &folio.blobs, &folio.in_flight, &folio.config.data_dir);
    let candidates: Vec<BlobHash> = match &only {
        Some(hashes) => hashes.iter().filter_map(|h| BlobHash::from_hex(h)).collect(),
        None => blobs.all()?,
    };
    let mut removed = 0;
    for hash in candidates {
        let hex = hash.to_hex();
        if only.is_none() {
            let young = std::fs::metadata(blobs.path(&hash))
                .and_then(|m| m.modified())
                .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() < GRACE);
            if young {
                continue;
            }
        }
        let gone = in_flight.remove_unless_held(
            &hex,
            || store.read(|r| r.blob_in_use(&hex)).map(|in_use| !in_use),
            || Ok::<_, StoreError>(blobs.remove(&hash)?),
        )?;
        if gone {
            // What was derived from the file goes with it: erasure must leave nothing behind.
            let _ = std::fs::remove_file(thumbnail_path(data_dir, &hex));
            folio.search.forget_file_text(&hash);
            folio.heavy.forget(&hash);
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes at once the blobs a delete or an erasure released, if nothing else uses them.
pub async fn collect_now(folio: &Folio, hashes: Vec<String>) -> crate::error::Result<usize> {
    let folio = folio.clone();
    let removed = tokio::task::spawn_blocking(move || collect_garbage(&folio, Some(hashes)))
        .await
        .map_err(crate::error::Error::internal)??;
    Ok(removed)
}
