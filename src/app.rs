//! The application core: one open folio. [`Folio`] owns what the box keeps and the handles
//! its background work is woken through: the store, the files, the uploads in flight and in
//! progress, the search index, the decode gate, this box among boxes, and the backup jobs.
//!
//! Everything that is not a request (thumbnails, collection, the search indexer, sync rounds,
//! bundles, backups, the control socket) takes a `Folio`, never the HTTP state: `http` and
//! the peer port are adapters over it. [`Folio::open`] is the one way to open a data
//! directory, used by `lib::run` and by tests alike; [`Folio::start_workers`] starts the
//! background work and [`Workers::stop`] ends it.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;

/// One open folio: cheap handles, cloned into every worker and request.
#[derive(Clone)]
pub struct Folio {
    pub store: Store,
    pub blobs: crate::blobs::BlobStore,
    /// Wakes the media worker (thumbnails) after an upload.
    pub media_work: Arc<tokio::sync::Notify>,
    /// Blobs of uploads not yet committed, which garbage collection must leave alone.
    pub in_flight: crate::blobs::InFlight,
    /// Resumable (tus) uploads in progress: their files and who is working on which.
    pub partials: crate::resumable::Partials,
    /// The backup (admin page) or restore (setup page) in progress or last finished.
    pub backups: crate::backup::Jobs,
    /// This box among boxes: its identity, its peer port, sync rounds in progress.
    pub net: Arc<crate::peers::Net>,
    /// Boxes seen on the network lately (mDNS), and the hook told when a paired one turns up.
    pub nearby: crate::discovery::Nearby,
    pub search: Arc<crate::search::SearchIndex>,
    /// Searches allowed on the blocking pool at once ([`Folio::search_work`]).
    pub searches: Arc<tokio::sync::Semaphore>,
    /// The gate for decoding uploads (thumbnails, text): few at once, failures remembered.
    pub heavy: crate::heavy::Heavy,
    pub config: Arc<Config>,
}

impl Folio {
    /// Opens the data directory `config` names: a restore chosen on the setup page is swapped
    /// in first, then the store, the box's identity (made on first start), the files, the
    /// resumable uploads (expired ones and leftovers of a crash removed), and the search index
    /// (queued to be filled in the background when it is new). `peer_listen` is where the peer
    /// port listens, if it does. Blocking: call it off the async threads.
    pub fn open(config: Config, peer_listen: Option<SocketAddr>) -> anyhow::Result<Folio> {
        let dir = config.data_dir.clone();
        crate::backup::apply_pending_restore(&dir)?;
        let store = Store::open_with_cache(&dir, config.db_cache_bytes)?;
        let identity = Arc::new(crate::peers::Identity::load_or_create(&dir)?);
        let net = Arc::new(crate::peers::Net::new(identity, peer_listen, config.sync_every));
        let blobs = crate::blobs::BlobStore::open_at(&dir, config.blobs.as_ref(), config.s3.as_ref())?;
        let partials = crate::resumable::Partials::open(&dir)?;
        let found = crate::resumable::reconcile(&store, &partials, &blobs, crate::domain::hlc::wall_clock_ms())?;
        if found != crate::resumable::Reconciled::default() {
            tracing::info!(?found, "checked the resumable uploads left by an earlier run");
        }
        let (search, fresh) = crate::search::SearchIndex::open(&dir)?;
        if fresh {
            // Filled in the background: folio serves meanwhile, and search finds more each second.
            let queued = store.queue_all_for_search()?;
            if queued > 0 {
                tracing::info!(artifacts = queued, "rebuilding the search index in the background");
            }
        }
        Ok(Folio {
            store,
            blobs,
            partials,
            net,
            search: Arc::new(search),
            searches: Arc::new(tokio::sync::Semaphore::new(searches_at_once())),
            heavy: crate::heavy::Heavy::open(&dir),
            media_work: Default::default(),
            in_flight: Default::default(),
            backups: Default::default(),
            nearby: Default::default(),
            config: Arc::new(config),
        })
    }

    /// Runs blocking store work on tokio's blocking pool.
    pub async fn db<T: Send + 'static>(&self, f: impl FnOnce(&Store) -> Result<T> + Send + 'static) -> Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store)).await.map_err(Error::internal)?
    }

    /// Runs a search (`f`: the store and the index, blocking) on the blocking pool, at most
    /// [`searches_at_once`] at a time; the others wait for their turn here, without a thread.
    ///
    /// A search is a few milliseconds of CPU. Handed to the pool as they came, every search
    /// in flight had a thread of its own: the search benchmark's upload burst, 200 pages
    /// polling for their new work, grew the pool to 153 threads on 2 cores, each keeping its
    /// own allocator heap, and folio's memory to 800 MB (live data: 10 MB). More searches at
    /// once than cores finish no sooner. With the turns: 38–49 threads and 194–224 MB at the
    /// same moment (the rest of that is the handing back in `memory`).
    pub async fn search_work<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _turn = self.searches.acquire().await.map_err(Error::internal)?;
        self.db(f).await
    }

    /// Runs store work that only reads, here on the caller's thread: for the reads every
    /// page view makes (the session, the page's records). A redb read transaction never
    /// waits for a writer and takes microseconds, while handing it to the blocking pool
    /// ([`Folio::db`]) costs two thread wake-ups, which were most of the time the pages
    /// benchmark's profile showed. `f` must not write ([`Store::write`] waits for an fsync,
    /// which would hold up every request this worker serves); use [`Folio::db`] for that.
    pub fn read_now<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        f(&self.store)
    }

    /// Removes the blobs no file uses (`blobs::collect`), and with each its thumbnail, its
    /// text for search and what the decode gate remembers of it. With `only`, just those
    /// hashes, at once; otherwise every blob older than an hour. Blocking.
    pub fn collect_garbage(&self, only: Option<Vec<String>>) -> Result<usize, crate::store::StoreError> {
        self.blobs.collect(&self.store, &self.in_flight, only, |hash| {
            let _ = std::fs::remove_file(crate::media::thumbnail_path(&self.config.data_dir, &hash.to_hex()));
            self.search.forget_file_text(hash);
            self.heavy.forget(hash);
        })
    }

    /// Removes at once the blobs a delete or an erasure released, if nothing else uses them.
    pub async fn collect_now(&self, hashes: Vec<String>) -> Result<usize> {
        let folio = self.clone();
        tokio::task::spawn_blocking(move || folio.collect_garbage(Some(hashes)))
            .await
            .map_err(Error::internal)?
            .map_err(Into::into)
    }

    /// Starts the background work: the search indexer, housekeeping (thumbnails, collection,
    /// expired uploads), the hourly sweep of expired sessions, the sync scheduler (which a
    /// paired box seen on the network nudges), the flush of the
    /// bookkeeping kept in memory (`store::lazy`), the allocator's upkeep
    /// (`memory::spawn_upkeep`), and the control socket.
    pub fn start_workers(&self) -> anyhow::Result<Workers> {
        let indexer = crate::search::indexer::Indexer::new(
            self.search.clone(),
            self.store.clone(),
            self.blobs.clone(),
            self.heavy.clone(),
        )?;
        let stop_indexing = tokio_util::sync::CancellationToken::new();
        let indexing = crate::search::indexer::spawn(indexer, stop_indexing.clone());
        let nudged = self.net.clone();
        self.nearby.set_hook(move |id| crate::peers::schedule::nudge(&nudged, id));
        Ok(Workers {
            tasks: vec![
                crate::housekeeping::spawn(self.clone()),
                spawn_session_sweeper(self.clone()),
                spawn_bookkeeping_flusher(self.clone()),
                crate::peers::schedule::spawn(self.clone()),
                crate::memory::spawn_upkeep(),
            ],
            control: crate::control::listen(self.clone()),
            store: self.store.clone(),
            indexing,
            stop_indexing,
        })
    }
}

/// How many searches run at once ([`Folio::search_work`]): two per core, so one can wait
/// for the disk while another computes, and at least four.
pub fn searches_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).saturating_mul(2).max(4)
}

/// The background work [`Folio::start_workers`] started.
pub struct Workers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    control: Option<crate::control::Control>,
    /// For the last flush of the bookkeeping kept in memory.
    store: Store,
    indexing: tokio::task::JoinHandle<()>,
    stop_indexing: tokio_util::sync::CancellationToken,
}

impl Workers {
    /// Stops every worker and waits for it. The indexer is asked to stop (it commits what it
    /// has); the rest are aborted between steps. Work they already handed to the blocking
    /// pool ends by itself, still holding the store: see `lib::run`.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(control) = self.control {
            control.stop().await;
        }
        self.stop_indexing.cancel();
        let _ = self.indexing.await;
        let store = self.store;
        match tokio::task::spawn_blocking(move || store.flush_pending()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("could not write the last bookkeeping kept in memory: {e}"),
            Err(e) => tracing::warn!("could not write the last bookkeeping kept in memory: {e}"),
        }
    }
}

/// Writes the bookkeeping kept in memory every few seconds (one commit, only when some waits).
fn spawn_bookkeeping_flusher(folio: Folio) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(folio.config.flush_bookkeeping_every);
        loop {
            tick.tick().await;
            if let Err(e) = folio.db(|store| Ok(store.flush_pending()?)).await {
                tracing::warn!("could not write the bookkeeping kept in memory: {e}");
            }
        }
    })
}

/// Expired sessions are dropped hourly so the session table stays small.
fn spawn_session_sweeper(folio: Folio) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let limits = folio.config.sessions;
            if let Err(e) = folio.db(move |store| Ok(crate::auth::session::remove_expired(store, limits)?)).await {
                tracing::warn!("could not sweep expired sessions: {e}");
            }
        }
    })
}
