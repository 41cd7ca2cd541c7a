//! Search over every portfolio with tantivy, each person finding only what they may open.
//!
//! - [`schema`]: the fields, and how text becomes words (folded, stemmed).
//! - [`query`]: a request (words, phrases, filters, sort) turned into one tantivy query that
//!   also carries the caller's principals, so hits, totals and facets only ever count what
//!   the caller may open; highlighted snippets.
//! - [`indexer`]: the one task that owns the `IndexWriter`. It follows the store's
//!   `SEARCH_TODO` rows (written in the same transaction as each change), rebuilds the
//!   documents of each artifact named there (delete, then add), commits at most about once a
//!   second under load and reloads the reader.
//!
//! The index is derived: it lives in `<data>/search/` and is rebuilt from redb when it is
//! missing or of another [`schema::INDEX_VERSION`] (in the background, while folio serves),
//! or by `folio reindex`. Only this module imports tantivy.

mod expand;
pub mod indexer;
pub mod query;
pub mod schema;

use std::path::{Path, PathBuf};

use tantivy::{Index, IndexReader, ReloadPolicy};

pub use query::{Facets, Hit, SearchRequest, SearchResults, Sort};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index files: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The query side of the index: cheap to share between requests.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: schema::Fields,
    root: PathBuf,
    /// Typo and prefix words' automata and their terms per segment, kept between queries.
    expansions: expand::Expansions,
}

/// The folder in the index's root where extracted file text is cached.
const TEXT_CACHE: &str = "text";

impl SearchIndex {
    pub fn root(data_dir: &Path) -> PathBuf {
        data_dir.join("search")
    }

    /// Opens the index under `data_dir`, or makes a new empty one when it is missing, damaged
    /// or of another version. Returns whether it was made new (and so must be filled from
    /// the store).
    pub fn open(data_dir: &Path) -> Result<(SearchIndex, bool), SearchError> {
        let root = Self::root(data_dir);
        let dir = root.join("index");
        let version_file = root.join("VERSION");
        let fields = schema::Fields::new();
        let current = std::fs::read_to_string(&version_file).ok().and_then(|v| v.trim().parse::<u32>().ok())
            == Some(schema::INDEX_VERSION);
        let opened = if current { Index::open_in_dir(&dir).ok() } else { None };
        let (index, fresh) = match opened {
            Some(index) if index.schema() == fields.schema => (index, false),
            _ => {
                if dir.exists() {
                    tracing::info!("the search index is missing, old or damaged; rebuilding it from the store");
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let index = Index::create_in_dir(&dir, fields.schema.clone())?;
                std::fs::write(&version_file, format!("{}\n", schema::INDEX_VERSION))?;
                (index, true)
            }
        };
        schema::register_tokenizers(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok((SearchIndex { index, reader, fields, root, expansions: Default::default() }, fresh))
    }

    /// Where extracted file text is kept, by blob hash, so re-indexing an artifact after a
    /// comment does not parse its PDFs again. Derived like the index.
    pub fn text_cache(&self) -> PathBuf {
        self.root.join(TEXT_CACHE)
    }

    /// [`SearchIndex::text_cache`] of the index in `data_dir`.
    pub fn text_cache_in(data_dir: &Path) -> PathBuf {
        Self::root(data_dir).join(TEXT_CACHE)
    }

    /// Drops the cached text of a file that is gone from the box.
    pub fn forget_file_text(&self, hash: &crate::blobs::BlobHash) {
        let _ = std::fs::remove_file(self.text_cache().join(hash.to_hex()));
    }

    /// How many documents the index holds (an artifact has one per audience).
    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// `folio reindex`: deletes the index under `data_dir` and builds it again from the store,
/// with a progress bar on stderr. The store must not be open elsewhere (folio stopped).
pub async fn rebuild(data_dir: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let data = data_dir.to_path_buf();
    let store = tokio::task::spawn_blocking(move || crate::store::Store::open(&data)).await?.map_err(|e| match e {
        crate::store::StoreError::InUse(_) => anyhow::anyhow!(
            "folio is running on {}. Stop it first (sudo systemctl stop folio), or just restart it after deleting {}: it rebuilds a missing index by itself while it serves.",
            data_dir.display(),
            SearchIndex::root(data_dir).join("index").display()
        ),
        other => other.into(),
    })?;
    let root = SearchIndex::root(data_dir);
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let (index, _) = SearchIndex::open(data_dir)?;
    let blobs = crate::blobs::BlobStore::open(data_dir)?;
    let total = store.queue_all_for_search()?;
    let heavy = crate::heavy::Heavy::open(data_dir);
    let mut indexer = indexer::Indexer::new(std::sync::Arc::new(index), store, blobs, heavy)?;
    let started = std::time::Instant::now();
    let mut done = 0u64;
    let mut err = std::io::stderr();
    loop {
        let n = tokio::task::block_in_place(|| indexer.pass())? as u64;
        done = (done + n).min(total);
        let width = 30usize;
        let filled = (done * width as u64).checked_div(total).map_or(width, |f| f as usize);
        let _ = write!(err, "\r  [{}{}] {done}/{total} pieces of work", "#".repeat(filled), ".".repeat(width - filled));
        let _ = err.flush();
        if n == 0 {
            break;
        }
    }
    let _ = writeln!(err);
    println!("Search index rebuilt: {total} pieces of work in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}
