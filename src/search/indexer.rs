//! The one writer of the index. It follows the store's `SEARCH_TODO` rows: for each artifact
//! named there it deletes the artifact's documents and adds them again as they are now (none
//! if the work was deleted or its owner erased), commits, reloads the reader, and only then
//! drops the rows, so a crash at any point leaves them to be done again.
//!
//! A file whose text cannot be read because the store it is on is unreachable (a bucket,
//! `blobs::s3`) does not lose the work its words: the work is indexed without them, so it
//! stays findable by the rest, with who may see it as it is now, but its row stays on the
//! list and it is tried again (`STORE_RETRY`), until the text is in. Meanwhile the rest of the
//! list goes on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tantivy::schema::Facet;
use tantivy::{IndexWriter, TantivyDocument, Term};
use tokio_util::sync::CancellationToken;

use super::schema::Fields;
use super::{SearchError, SearchIndex};
use crate::blobs::{BlobHash, BlobStore};
use crate::domain::{Activity, Artifact, ArtifactId, Class, Comment, Language};
use crate::heavy::{Heavy, Job};
use crate::store::{Queries, Store};

/// Artifacts taken from the to-do list at a time.
const BATCH: usize = 500;
/// Under load a batch is cut short after this long, so changes become searchable within
/// about a second even while a rebuild runs.
const COMMIT_EVERY: Duration = Duration::from_millis(800);
/// Text taken from one file. Enough for any essay or report; a 500-page PDF is cut.
const MAX_FILE_TEXT: usize = 200_000;
/// Stored text snippets are cut from.
const MAX_PREVIEW: usize = 20_000;
/// The writer's memory budget (tantivy's minimum is 15 MB).
const WRITER_MEMORY: usize = 20_000_000;
/// How long work indexed without its files' text, because their store was unreachable,
/// waits before it is tried again.
pub const STORE_RETRY: Duration = Duration::from_secs(10);

pub struct Indexer {
    index: Arc<SearchIndex>,
    writer: IndexWriter,
    store: Store,
    blobs: BlobStore,
    heavy: Heavy,
    /// Work indexed without some file's text (its store unreachable), left on the to-do list
    /// and passed over until `retry_at`.
    waiting_for_files: std::collections::HashSet<ArtifactId>,
    retry_at: Option<Instant>,
    /// Set when the store was found unreachable in this round: the round's other files are
    /// not asked for (each ask waits out the client's retries).
    store_out: std::cell::Cell<bool>,
}

/// The store holding a file could not be reached: its text is not known now.
struct StoreOut;

/// What one artifact's documents are made of, read in one transaction.
struct Gathered {
    artifact: Artifact,
    audiences: Vec<crate::domain::audience::Audience>,
    owner_names: Vec<String>,
    class: Option<Class>,
    activity: Option<Activity>,
    comments: Vec<Comment>,
    language: Language,
}

impl Indexer {
    pub fn new(index: Arc<SearchIndex>, store: Store, blobs: BlobStore, heavy: Heavy) -> Result<Indexer, SearchError> {
        let writer = index.index.writer_with_num_threads(1, WRITER_MEMORY)?;
        Ok(Indexer {
            index,
            writer,
            store,
            blobs,
            heavy,
            waiting_for_files: Default::default(),
            retry_at: None,
            store_out: Default::default(),
        })
    }

    /// Artifacts waiting to be indexed.
    pub fn waiting(&self) -> Result<u64, SearchError> {
        Ok(self.store.read(|r| r.search_todo_len())?)
    }

    /// One round: rebuilds the documents of up to [`BATCH`] waiting artifacts (fewer if it
    /// takes longer than [`COMMIT_EVERY`]), commits, and reloads the reader. Returns how many
    /// artifacts were done; 0 means nothing was waiting.
    pub fn pass(&mut self) -> Result<usize, SearchError> {
        if self.retry_at.is_some_and(|at| Instant::now() >= at) {
            self.waiting_for_files.clear();
            self.retry_at = None;
        }
        self.store_out.set(false);
        let passed_over = self.waiting_for_files.len();
        let todo: Vec<(ArtifactId, u64)> = self
            .store
            .read(|r| r.search_todo(BATCH + passed_over))?
            .into_iter()
            .filter(|(artifact, _)| !self.waiting_for_files.contains(artifact))
            .take(BATCH)
            .collect();
        if todo.is_empty() {
            return Ok(0);
        }
        let started = Instant::now();
        let mut done = Vec::with_capacity(todo.len());
        let mut indexed = 0;
        for (artifact, ticket) in todo {
            let (documents, complete) = self.documents(artifact)?;
            self.writer.delete_term(Term::from_field_text(self.index.fields.artifact, &artifact.to_string()));
            for document in documents {
                self.writer.add_document(document)?;
            }
            indexed += 1;
            if complete {
                done.push((artifact, ticket));
            } else {
                self.waiting_for_files.insert(artifact);
                self.retry_at.get_or_insert_with(|| Instant::now() + STORE_RETRY);
            }
            if started.elapsed() > COMMIT_EVERY {
                break;
            }
        }
        self.writer.commit()?;
        self.index.reader.reload()?;
        self.store.finish_search_todo(&done)?;
        Ok(indexed)
    }

    /// Whether some work waits to be indexed again with its files' text (see [`STORE_RETRY`]).
    pub fn waits_for_files(&self) -> bool {
        !self.waiting_for_files.is_empty()
    }

    /// Stops the writer once its merges are done, releasing the index's lock (for a process
    /// that indexes and then hands the index to a server: `folio reindex`, the benchmark).
    pub fn finish(self) {
        drop(self.writer.wait_merging_threads());
    }

    fn gather(&self, id: ArtifactId) -> Result<Option<Gathered>, SearchError> {
        Ok(self.store.read(|r| {
            let Some(artifact) = r.artifact(id)?.filter(|a| !a.deleted) else {
                return Ok::<_, crate::store::StoreError>(None);
            };
            let audiences = r.audiences_of(&artifact)?;
            let mut owner_names = Vec::new();
            for owner in &artifact.owners {
                owner_names.extend(r.user(*owner)?.map(|u| u.display_name));
            }
            let class = artifact.class.map(|c| r.class(c)).transpose()?.flatten();
            let activity = artifact.activity.map(|a| r.activity(a)).transpose()?.flatten();
            let comments = r.comments(id)?;
            let language = r.school(artifact.school)?.map(|s| s.search_language).unwrap_or_default();
            Ok(Some(Gathered { artifact, audiences, owner_names, class, activity, comments, language }))
        })?)
    }

    /// The artifact's documents as they should be now: one per audience; and whether they
    /// hold the text of every file (false when a file's store was unreachable).
    fn documents(&self, id: ArtifactId) -> Result<(Vec<TantivyDocument>, bool), SearchError> {
        let Some(g) = self.gather(id)? else {
            return Ok((Vec::new(), true));
        };
        let mut complete = true;
        let f: &Fields = &self.index.fields;
        let a = &g.artifact;

        // What every audience reads: the work itself and where it sits.
        let mut shared: Vec<String> = Vec::new();
        shared.push(a.reflection.clone());
        for version in &a.versions {
            shared.push(version.note.clone());
        }
        let mut seen = std::collections::HashSet::new();
        for file in a.versions.iter().flat_map(|v| &v.files) {
            shared.push(file.name.clone());
            if seen.insert(file.hash.clone()) {
                match self.file_text(&file.hash, &file.name) {
                    Ok(Some(text)) => shared.push(text),
                    Ok(None) => {}
                    Err(StoreOut) => complete = false,
                }
            }
        }
        shared.extend(a.tags.iter().cloned());
        shared.extend(a.skills.iter().cloned());
        if let Some(activity) = &g.activity {
            shared.push(activity.title.clone());
            shared.push(activity.prompt.clone());
        }
        shared.extend(g.owner_names.iter().cloned());
        if let Some(class) = &g.class {
            shared.push(class.name.clone());
        }
        let thumbnail = a
            .latest()
            .and_then(|v| v.files.iter().find(|f| crate::media::thumbnailable(&f.content_type)))
            .map(|file| format!("/api/v1/artifacts/{}/files/{}/thumbnail", a.id, file.id));

        let mut documents = Vec::with_capacity(g.audiences.len());
        for audience in &g.audiences {
            let comments: Vec<&str> =
                g.comments.iter().filter(|c| audience.reach.reads(c)).map(|c| c.body.as_str()).collect();
            let mut doc = TantivyDocument::default();
            doc.add_text(f.artifact, a.id.to_string());
            doc.add_text(f.audience, audience.reach.name());
            for p in &audience.readers {
                doc.add_text(f.readers, p);
            }
            for p in &audience.outranked_by {
                doc.add_text(f.outranked_by, p);
            }
            doc.add_text(f.title, &a.title);
            let mut body = a.title.clone();
            for part in shared.iter().map(String::as_str).chain(comments.iter().copied()) {
                body.push('\n');
                body.push_str(part);
            }
            doc.add_text(f.body, &body);
            doc.add_text(f.stem(g.language), &body);
            // Snippets come from the reflection, the comments, then the rest.
            let mut preview = a.reflection.clone();
            for part in comments.iter().copied().chain(shared.iter().skip(1).map(String::as_str)) {
                if preview.len() >= MAX_PREVIEW {
                    break;
                }
                preview.push('\n');
                preview.push_str(part);
            }
            doc.add_text(f.preview, truncate(&preview, MAX_PREVIEW));
            for owner in &a.owners {
                doc.add_text(f.owner, owner.to_string());
            }
            doc.add_text(f.owners_shown, g.owner_names.join(", "));
            if let Some(class) = a.class {
                doc.add_text(f.class, class.to_string());
                doc.add_facet(f.facets, Facet::from_path(["class", &class.to_string()]));
            }
            if let Some(activity) = a.activity {
                doc.add_text(f.activity, activity.to_string());
            }
            for tag in &a.tags {
                doc.add_text(f.tag, tag);
                doc.add_facet(f.facets, Facet::from_path(["tag", tag.as_str()]));
            }
            for skill in &a.skills {
                doc.add_text(f.skill, skill);
                doc.add_facet(f.facets, Facet::from_path(["skill", skill.as_str()]));
            }
            doc.add_text(f.kind, &a.kind);
            doc.add_facet(f.facets, Facet::from_path(["kind", a.kind.as_str()]));
            doc.add_i64(f.created, a.created_ms as i64);
            if let Some(thumbnail) = &thumbnail {
                doc.add_text(f.thumbnail, thumbnail);
            }
            documents.push(doc);
        }
        Ok((documents, complete))
    }

    /// The text inside a stored file, from the cache or extracted now. None for files with no
    /// text (photos, video) and for files not on this box yet; `StoreOut` when the store the
    /// file is on cannot be reached.
    fn file_text(&self, hash_hex: &str, name: &str) -> Result<Option<String>, StoreOut> {
        let Some(hash) = BlobHash::from_hex(hash_hex) else { return Ok(None) };
        let cached = self.index.text_cache().join(hash.to_hex());
        if let Ok(text) = std::fs::read_to_string(&cached) {
            crate::disk_cache::used(&cached);
            return Ok(Some(text).filter(|t| !t.is_empty()));
        }
        if self.store_out.get() {
            return Err(StoreOut);
        }
        let out = |e: &crate::blobs::BlobError| {
            tracing::info!(hash = %hash.to_hex(), "file not readable for search now: {e}");
            if matches!(e, crate::blobs::BlobError::Unavailable(_)) {
                self.store_out.set(true);
                Err(StoreOut)
            } else {
                Ok(None)
            }
        };
        // A file on a bucket is fetched to a temporary copy on the box's disk (the extractors
        // seek) only when its first bytes say it has text; its text is then cached, so that
        // happens once per file.
        if self.blobs.bucket().is_some() {
            match self.blobs.head_of(&hash, crate::extract::SNIFF_LEN) {
                Ok(Some((size, head))) if crate::extract::worth_reading(&head, name, size) => {}
                Ok(Some(_)) => {
                    if let Err(e) = write_atomically(&cached, "") {
                        tracing::debug!("could not cache the text of a file: {e}");
                    }
                    return Ok(None);
                }
                Ok(None) => return Ok(None),
                Err(e) => return out(&e),
            }
        }
        let path = match self.blobs.local_copy(&hash) {
            Ok(Some(copy)) => copy,
            Ok(None) => return Ok(None),
            Err(e) => return out(&e),
        };
        // Through the gate: a few decodes at once, and a file that folio died extracting (out
        // of memory, an abort) is skipped after the restart instead of killing it again while
        // its artifact stays on the to-do list. It is then indexed without its text.
        let extracted = self.heavy.run(
            Job::Text,
            &hash,
            || Ok::<_, std::convert::Infallible>(crate::extract::extract_text(&path, name, MAX_FILE_TEXT)),
            |_| false,
        );
        let text = match extracted {
            Ok(text) => text,
            Err(e) => {
                tracing::info!(hash = %hash.to_hex(), "no text from a file: {e}");
                None
            }
        };
        // An empty cache file remembers "no text here" so the file is not read again.
        if let Err(e) = write_atomically(&cached, text.as_deref().unwrap_or_default()) {
            tracing::debug!("could not cache the text of a file: {e}");
        }
        // The file may have been collected (deleted, erased) while it was being read: then
        // its text must not outlive it.
        if !self.blobs.contains(&hash) {
            self.index.forget_file_text(&hash);
            return Ok(None);
        }
        Ok(text.filter(|t| !t.is_empty()))
    }
}

fn truncate(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().expect("cache files are in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp: PathBuf = dir.join(format!(".{}.tmp", rand::random::<u64>()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Runs the indexer until `stop` is cancelled: a round whenever the store records a change,
/// and every half minute in case a wake-up was missed.
pub fn spawn(indexer: Indexer, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    let changed = indexer.store.changed();
    tokio::spawn(async move {
        let mut indexer = Some(indexer);
        while let Some(mut working) = indexer.take() {
            let started = Instant::now();
            let round = tokio::task::spawn_blocking(move || {
                let result = working.pass();
                (working, result)
            })
            .await;
            let took = started.elapsed();
            let Ok((working, result)) = round else {
                tracing::error!("the search indexer stopped unexpectedly");
                return;
            };
            let working_waits_for_files = working.waits_for_files();
            indexer = Some(working);
            // After a round that found work, rest as long as it took before the next: a
            // backlog (a big sync arriving, thousands of comments) is then indexed in bigger
            // batches (an artifact commented on ten times is rebuilt once, not ten times)
            // with at most half the CPU, which the work arriving needs. A lone edit on a
            // quiet box still finds the indexer waiting, and is searchable at once.
            let (wait, rest) = match result {
                Ok(0) if working_waits_for_files => (STORE_RETRY, false),
                Ok(0) => (Duration::from_secs(30), false),
                Ok(_) => (took.min(COMMIT_EVERY), true),
                Err(e) => {
                    tracing::warn!("search indexing failed, trying again shortly: {e}");
                    (Duration::from_secs(5), false)
                }
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = changed.notified(), if !rest => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        // Dropping the writer here, not later on some pool thread, releases the index's lock
        // before `run` returns, so a restart in the same process can open it again.
        if let Some(indexer) = indexer {
            indexer.finish();
        }
    })
}
