//! Starting a resumable upload: the rules a new upload must pass before any byte is taken
//! (the file's size limit, the student's room, how many uploads one person may leave
//! unfinished, the box's free disk), and its file and row made so a row never names a
//! missing file. The tus protocol around it is `http::api::tus`; the files on disk are
//! `resumable`.

use crate::app::Folio;
use crate::domain::User;
use crate::domain::hlc::wall_clock_ms;
use crate::domain::upload::{Metadata, UploadId};
use crate::domain::words::human_bytes;
use crate::error::{Error, Result};
use crate::media;
use crate::store::uploads::{self, Upload};

/// How many uploads (unfinished, or finished and not yet used) one person may have at once.
pub const MAX_LIVE_UPLOADS: usize = 100;
/// Room kept free on the disk beyond what uploads in progress will still need.
const DISK_MARGIN: u64 = 64 * 1024 * 1024;

/// Starts an upload of `length` bytes for `owner`, with the client's `Upload-Metadata` as
/// sent (`metadata`) and as read (`parsed`). Returns its id and when it expires (ms) unless
/// more bytes arrive.
pub async fn start(
    folio: &Folio,
    owner: &User,
    length: u64,
    metadata: String,
    parsed: Metadata,
) -> Result<(UploadId, u64)> {
    let max_file = folio.config.max_file_bytes;
    if length > max_file {
        return Err(Error::TooLarge(format!("This file is too big: files can be at most {}.", human_bytes(max_file))));
    }
    let id = UploadId::random();
    let now = wall_clock_ms();
    let record = Upload {
        owner: owner.id,
        length,
        offset: 0,
        metadata,
        name: media::display_name(parsed.filename.as_deref().unwrap_or("")),
        checksum: parsed.checksum,
        created_ms: now,
        expires_ms: now.saturating_add(folio.config.upload_expiry.as_millis().min(u64::MAX as u128) as u64),
        finished: None,
    };
    let expires = record.expires_ms;
    let partials = folio.partials.clone();
    let free = tokio::task::spawn_blocking(move || {
        // The file first, so a row never names a missing file; a crash in between leaves a
        // stray file that the next start removes.
        partials.create(id)?;
        partials.free_bytes()
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)?;
    let quota = folio.config.student_quota_bytes;
    let created = folio
        .db(move |store| {
            store.write(|tx| {
                let r = tx.txn();
                let mine = uploads::of_owner(r, record.owner, now)?;
                if mine.len() >= MAX_LIVE_UPLOADS {
                    return Err(Error::conflict(format!(
                        "You have {MAX_LIVE_UPLOADS} uploads that are unfinished or not yet used. Finish or delete some first."
                    )));
                }
                let used = super::work::used_bytes_in(r, record.owner, now)?;
                let room = quota.saturating_sub(used);
                if length > room {
                    return Err(Error::TooLarge(format!(
                        "Your portfolio is full: it has room for {} more. Ask your teacher to make room.",
                        human_bytes(room)
                    )));
                }
                // What the uploads in progress on the whole box will still write.
                let pending: u64 = uploads::all(r)?
                    .iter()
                    .filter(|(_, u)| u.finished.is_none() && !u.expired(now))
                    .map(|(_, u)| u.length - u.offset)
                    .sum();
                if free < pending.saturating_add(length).saturating_add(DISK_MARGIN) {
                    return Err(Error::DiskFull);
                }
                uploads::put(r, id, &record)?;
                Ok(())
            })
        })
        .await;
    if let Err(e) = created {
        let partials = folio.partials.clone();
        let _ = tokio::task::spawn_blocking(move || partials.remove(id)).await;
        return Err(e);
    }
    Ok((id, expires))
}
