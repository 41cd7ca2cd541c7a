//! Reading multipart uploads: text parts into a map, file parts streamed chunk by chunk into
//! the blob store (never whole in memory), each becoming a `FileRef`. A file over the limit
//! answers 413, a full disk 507; in both cases the writer's drop guard removes the temp file
//! and nothing was recorded in the store.
//!
//! A form that makes or extends a piece of work may also name finished resumable uploads
//! (tus, `api::tus`) in text parts called `upload`; [`Upload::use_resumable`] turns them into
//! files in their place among the form's files.

use std::collections::HashMap;

use axum::extract::Multipart;

use crate::blobs::BlobError;
use crate::domain::{FileId, FileRef};
use crate::error::{Error, Result};
use crate::media;

use super::AppState;

/// How many bytes of each file are kept to recognise its type.
const HEAD_BYTES: usize = 4096;
/// Text parts are short (titles, reflections); anything longer is refused.
const MAX_TEXT_PART: usize = 256 * 1024;
/// A form has a handful of fields, and a piece of work a few dozen files at most. Parts are
/// counted as they come, whatever their names: 10,000 parts under one name cost as much to
/// read as 10,000 names, so counting distinct names (the map's size) bounded nothing. The
/// new-work form sends one part per skill ticked and per classmate chosen, hence room for 64.
const MAX_TEXT_PARTS: usize = 64;
/// Fields a form may send once per value (checkboxes): their parts are joined with commas,
/// the way the API takes them in one part.
const LISTS: [&str; 3] = ["skills", "co_owners", "skill_ids"];
const MAX_FILES: usize = 100;

#[derive(Default)]
pub struct Upload {
    pub text: HashMap<String, String>,
    pub files: Vec<FileRef>,
    /// `upload` parts: (how many files came before it, the upload's id or address).
    pub resumable: Vec<(usize, String)>,
    /// The resumable uploads whose files are in `files`, to be used up in the transaction
    /// that records them (see [`Upload::use_resumable`]).
    pub consumes: Vec<crate::domain::upload::UploadId>,
    /// Keeps the stored blobs from garbage collection until the upload is dropped, which
    /// handlers do after the operation naming them has committed (or failed).
    _held: Vec<crate::blobs::InFlightGuard>,
}

impl Upload {
    pub fn text(&self, name: &str) -> &str {
        self.text.get(name).map(String::as_str).unwrap_or("")
    }

    /// Puts the files of the finished resumable uploads named by `upload` parts among the
    /// form's files, where the parts were, and remembers the uploads in `consumes`.
    pub async fn use_resumable(&mut self, state: &AppState, me: &crate::domain::User) -> Result<()> {
        let refs = std::mem::take(&mut self.resumable);
        let (files, ids) = super::api::tus::files_for_use(state, me, &refs).await?;
        for (inserted, (position, file)) in files.into_iter().enumerate() {
            self._held.push(state.in_flight.hold(&file.hash));
            self.files.insert(position + inserted, file);
        }
        self.consumes = ids;
        Ok(())
    }
}

fn unreadable(e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("The upload could not be read ({e}). Try again."))
}

/// Reads every part. File parts are those named in `file_fields`; `limit` is the most bytes
/// all files together may hold (the smaller of the file limit and what the quota has left).
pub async fn read(
    mut form: Multipart,
    state: &AppState,
    file_fields: &[&str],
    max_file: u64,
    mut budget: u64,
) -> Result<Upload> {
    let mut upload = Upload::default();
    // Every part is one of these two, counted before its body is read.
    let (mut file_parts, mut text_parts) = (0usize, 0usize);
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        let is_file = file_fields.contains(&name.as_str()) && field.file_name().is_some();
        // `upload` parts name files (finished resumable uploads): they count as files.
        if is_file || name == "upload" {
            file_parts += 1;
        } else {
            text_parts += 1;
        }
        if file_parts > MAX_FILES || text_parts > MAX_TEXT_PARTS {
            return Err(Error::Invalid(format!(
                "Too many files or fields: at most {MAX_FILES} files and {MAX_TEXT_PARTS} fields at once."
            )));
        }
        if is_file {
            let display = media::display_name(field.file_name().unwrap_or(""));
            let limit = max_file.min(budget);
            let mut writer = state.blobs.writer(limit).map_err(Error::internal)?;
            let mut head = Vec::with_capacity(HEAD_BYTES);
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                if head.len() < HEAD_BYTES {
                    head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
                }
                writer.write(&chunk).await.map_err(|e| over_limit(e, max_file, budget))?;
            }
            let in_flight = state.in_flight.clone();
            let (stored, held) = writer
                .finish_holding(move |hash| in_flight.hold(&hash.to_hex()))
                .await
                .map_err(|e| over_limit(e, max_file, budget))?;
            upload._held.push(held);
            budget = budget.saturating_sub(stored.size);
            upload.files.push(FileRef {
                id: FileId::new(),
                content_type: media::sniff_content_type(&head, &display).to_string(),
                name: display,
                size: stored.size,
                hash: stored.hash.to_hex(),
            });
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_TEXT_PART {
                    return Err(Error::TooLarge(format!("The field \"{name}\" is too long.")));
                }
            }
            let text =
                String::from_utf8(text).map_err(|_| Error::Invalid(format!("The field \"{name}\" is not text.")))?;
            if name == "upload" {
                upload.resumable.push((upload.files.len(), text));
            } else {
                match upload.text.entry(name) {
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(text);
                    }
                    std::collections::hash_map::Entry::Occupied(mut taken) if LISTS.contains(&taken.key().as_str()) => {
                        let list = taken.get_mut();
                        list.push(',');
                        list.push_str(&text);
                    }
                    // Keeping one of two values would lose the other without a word.
                    std::collections::hash_map::Entry::Occupied(taken) => {
                        let name = taken.key();
                        return Err(Error::Invalid(format!("The field \"{name}\" was sent twice. Send it once.")));
                    }
                }
            }
        }
    }
    Ok(upload)
}

/// Says which limit a too-big file ran into, in words a student understands.
fn over_limit(e: BlobError, max_file: u64, budget: u64) -> Error {
    match e {
        BlobError::TooBig { .. } if budget < max_file => Error::TooLarge(format!(
            "Your portfolio is full: it has room for {} more. Ask your teacher to make room.",
            human_bytes(budget)
        )),
        BlobError::TooBig { .. } => {
            Error::TooLarge(format!("This file is too big: files can be at most {}.", human_bytes(max_file)))
        }
        other => other.into(),
    }
}

pub use crate::domain::words::human_bytes;
