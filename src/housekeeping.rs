//! When folio's background upkeep runs, and in what order: thumbnails for new images (from
//! the durable to-do list the upload's transaction wrote; made by `media::ensure_thumbnail`
//! through the `heavy` gate), removing expired resumable uploads and files other boxes
//! stopped sending a day ago (`<data>/incoming/`), and collecting blobs no file uses any more
//! (`blobs::collect`, through `Folio::collect_garbage`), and keeping thumbnails and extracted
//! text under their size (`disk_cache::trim`, every `Config::trim_caches_every`). Thumbnails
//! are derived state: delete `thumbs/` and they come back on request.

use std::time::Duration;

use crate::app::Folio;
use crate::blobs::BlobHash;
use crate::store::{Queries, StoreError, tables, uploads};
use crate::{disk_cache, media};

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
            if let Err(e) = media::ensure_thumbnail(&folio.config.data_dir, &folio.blobs, &folio.heavy, hash) {
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
            folio.collect_garbage(Some(vec![finished.hash]))?;
        }
        removed += 1;
    }
    Ok(removed)
}

/// Runs until the process ends: thumbnails when woken (and every minute), expired uploads
/// every minute (sooner when uploads expire sooner), the caches' size every ten minutes,
/// garbage hourly.
pub fn spawn(folio: Folio) -> tokio::task::JoinHandle<()> {
    let tick = sweep_every(&folio.config);
    tokio::spawn(async move {
        let (mut last_gc, mut last_trim) = (None::<std::time::Instant>, None::<std::time::Instant>);
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
            if last_trim.is_none_or(|t| t.elapsed() >= folio.config.trim_caches_every) {
                last_trim = Some(std::time::Instant::now());
                let (folders, bound) = (disk_cache::folders(&folio.config.data_dir), folio.config.cache_bytes);
                match tokio::task::spawn_blocking(move || disk_cache::trim(&folders, bound)).await {
                    Ok(Ok(t)) if t.files_removed > 0 => tracing::info!(
                        "thumbnails and file text took {} bytes of the {bound} allowed: removed the {} least used ({} bytes)",
                        t.bytes_before,
                        t.files_removed,
                        t.bytes_removed
                    ),
                    Ok(Err(e)) => tracing::warn!("trimming thumbnails and file text: {e}"),
                    _ => {}
                }
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
                let result = tokio::task::spawn_blocking(move || s.collect_garbage(None)).await;
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
