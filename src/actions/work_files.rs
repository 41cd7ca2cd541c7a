//! Work that arrives with files, over the whole [`Folio`] rather than the store alone: the
//! checks made before any byte is stored (may this person add to this piece of work; how
//! much room is left), recording the operation that names the stored files (then waking the
//! media worker for their thumbnails), and deleting work with the files nothing else uses.
//! The API and the pages read the upload itself (`http::uploads`) and call these, so both
//! do the same thing in the same order.

use crate::app::Folio;
use crate::domain::policy::ArtifactFacts;
use crate::domain::upload::UploadId;
use crate::domain::{Activity, Artifact, ArtifactId, ClassId, FileId, FileRef, Role, User, Version, VersionId};
use crate::error::{Error, Result};
use crate::store::Queries;

use super::work::{self, NewActivity, NewArtifact};

/// Refuses, before any byte is stored, someone who could never keep a portfolio.
pub fn may_keep_work(me: &User) -> Result<()> {
    // Family members add to their child's portfolio (`for_student`, checked with the rest).
    if me.role != Role::Student && me.role != Role::Family {
        return Err(Error::forbidden("Only students keep portfolios. Teachers post activities from a class page."));
    }
    Ok(())
}

/// Checks a rule before any byte of an upload is stored: someone who may not add to a piece
/// of work makes the box store nothing.
pub async fn check_may_add(
    folio: &Folio,
    me: &User,
    id: ArtifactId,
    rule: fn(&User, &ArtifactFacts) -> bool,
    refusal: &'static str,
) -> Result<()> {
    let viewer = me.clone();
    folio
        .db(move |store| {
            store.read(|r| {
                let (_, facts) = work::visible(r, &viewer, id)?;
                if rule(&viewer, &facts) { Ok(()) } else { Err(Error::forbidden(refusal)) }
            })
        })
        .await
}

/// The room a student has left for uploads (their resumable uploads' sizes are taken).
pub async fn room_for_uploads(folio: &Folio, student: &User) -> Result<u64> {
    let id = student.id;
    let used = folio.db(move |store| work::used_bytes(store, id)).await?;
    Ok(folio.config.student_quota_bytes.saturating_sub(used))
}

/// What a new piece of work is, from its first file's type ("text" with none).
fn kind_of(files: &[FileRef]) -> String {
    files.first().map_or("text", |f| crate::media::kind_of(&f.content_type).as_str()).to_string()
}

/// Records a new piece of work naming stored `files` (those of the resumable `uploads` are
/// used up in the same transaction), and wakes the media worker for their thumbnails.
pub async fn create_artifact(
    folio: &Folio,
    me: &User,
    new: NewArtifact,
    files: Vec<FileRef>,
    uploads: Vec<UploadId>,
) -> Result<Artifact> {
    let (actor, kind) = (me.clone(), kind_of(&files));
    let artifact = folio.db(move |store| work::create(store, &actor, new, kind, files, &uploads)).await?;
    folio.media_work.notify_one();
    Ok(artifact)
}

/// Records a new version naming stored `files`, as [`create_artifact`] does.
pub async fn add_version(
    folio: &Folio,
    me: &User,
    id: ArtifactId,
    version: Option<VersionId>,
    note: String,
    files: Vec<FileRef>,
    uploads: Vec<UploadId>,
) -> Result<Version> {
    let actor = me.clone();
    let version = folio.db(move |store| work::add_version(store, &actor, id, version, &note, files, &uploads)).await?;
    folio.media_work.notify_one();
    Ok(version)
}

/// Refuses, before any byte is stored, someone who does not run `class`.
pub async fn check_manages(folio: &Folio, me: &User, class: ClassId) -> Result<()> {
    let actor = me.clone();
    folio.db(move |store| store.read(|r| super::classes::managed(r, &actor, class).map(|_| ()))).await
}

/// Records a new activity with its example `files`, as [`create_artifact`] does.
pub async fn create_activity(
    folio: &Folio,
    me: &User,
    class: ClassId,
    new: NewActivity,
    files: Vec<FileRef>,
) -> Result<Activity> {
    let actor = me.clone();
    let activity = folio.db(move |store| work::create_activity(store, &actor, class, new, files)).await?;
    folio.media_work.notify_one();
    Ok(activity)
}

/// Deletes a piece of work, then removes the files nothing else uses.
pub async fn delete_artifact(folio: &Folio, me: &User, id: ArtifactId) -> Result<()> {
    let actor = me.clone();
    let hashes = folio.db(move |store| work::delete(store, &actor, id)).await?;
    folio.collect_now(hashes).await?;
    Ok(())
}

/// A file of a piece of work `me` may see (or of a comment on it `me` may see, as voice
/// feedback), and whether `me` is one of the work's owners; NotFound otherwise.
pub async fn visible_file(folio: &Folio, me: &User, id: ArtifactId, file: FileId) -> Result<(FileRef, bool)> {
    let viewer = me.clone();
    folio
        .db(move |store| {
            store.read(|r| {
                let (artifact, facts) = work::visible(r, &viewer, id)?;
                let own = artifact.is_owner(viewer.id);
                if let Some(f) = artifact.file(file) {
                    return Ok((f.clone(), own));
                }
                // Voice feedback hangs off a comment, and follows the comment's visibility.
                r.comments(id)?
                    .into_iter()
                    .filter(|c| crate::domain::policy::can_view_comment(&viewer, &facts, c))
                    .filter_map(|c| c.audio)
                    .find(|a| a.id == file)
                    .map(|a| (a, own))
                    .ok_or(Error::NotFound)
            })
        })
        .await
}
