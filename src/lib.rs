//! folio: an offline-first learning portfolio for schools, served by one binary on a small
//! school-server box.
//!
//! # Layout
//!
//! - [`cli`]: the `folio` command line (`serve`, `discover`, `backup`, `restore`); `main.rs`
//!   only calls into it.
//! - [`config`]: one [`Config`] with the defaults that make `folio serve` just work.
//! - [`domain`]: ids, people, classes, operations, the hybrid logical clock, roster parsing
//!   and the permission rules. No I/O.
//! - [`store`]: redb, the source of truth. Every table in `store::tables`; every change to
//!   shared data is an op appended to the op log and applied in the same transaction.
//! - [`blobs`]: uploaded files, named by their BLAKE3 hash: streamed to a temp file, fsynced,
//!   renamed; deduplicated; EXIF/GPS and other metadata stripped from JPEG and PNG.
//! - [`auth`]: argon2id hashing, sessions, sign-in throttling, cross-origin refusal, the
//!   setup code.
//! - [`actions`]: what people do (create a class, import a roster, reset pictures), as
//!   blocking functions over the store that both the API and the pages call.
//! - [`http`]: the axum router: JSON API under `/api/v1`, server-rendered pages, embedded
//!   assets.
//! - [`housekeeping`]: background work: thumbnails, collecting unused files.
//! - [`media`]: what an upload is (sniffed type, kind), how it may be served, thumbnails.
//! - [`extract`]: plain text of uploads (text, source, HTML, PDF, DOCX, ODT) for the search index.
//! - [`search`]: the tantivy index: permission-filtered queries, the one indexer task that
//!   follows the store, rebuilds.
//! - [`discovery`]: the mDNS advertisement of `_folio._tcp.local.`.
//! - [`sync`]: op-log replication between boxes: positions, grants, pages of missing
//!   operations, and applying them (the transports come later).
//! - [`backup`]: backup folders (a consistent database snapshot plus the files it names),
//!   restore, and the USB sticks the admin page offers.
//! - [`control`]: the Unix socket in the data directory through which `folio backup` asks a
//!   running server for a snapshot.
//! - [`error`]: the one error type handlers and actions share.
//!
//! [`run`] serves on a listener you bind (tests bind port 0) until `shutdown` resolves.

pub mod actions;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod control;
pub mod discovery;
pub mod domain;
pub mod error;
pub mod extract;
pub mod housekeeping;
pub mod http;
pub mod media;
pub mod search;
pub mod store;
pub mod sync;

pub use config::Config;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The mDNS/sync protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Opens the store, prints the setup code if the box is new, advertises the box, and serves
/// HTTP on `listener` until `shutdown` completes. Returns once in-flight requests finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || {
        // A restore chosen on the setup page is swapped in before the store opens.
        backup::apply_pending_restore(&data_dir)?;
        anyhow::Ok(store::Store::open(&data_dir)?)
    })
    .await??;
    let address = listener.local_addr()?;

    let setup_store = store.clone();
    let setup_dir = config.data_dir.clone();
    let code =
        tokio::task::spawn_blocking(move || actions::setup::ensure_setup_code(&setup_store, &setup_dir)).await??;
    if let Some(code) = &code {
        // Printed plainly (not only logged) so an installer at the console cannot miss it.
        let urls: Vec<String> = reachable_addresses(address).iter().map(|a| format!("http://{a}")).collect();
        println!(
            "\n  folio is not set up yet.\n  Open {} in a browser and enter this setup code: {code}\n  (It is also in {})\n",
            urls.join(" or "),
            auth::setup_code::path(&config.data_dir).display()
        );
    }

    let advert = if config.mdns {
        match discovery::advertise(&store, address.port()) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("mDNS advertisement is off: {e:#}. Devices can still reach this box by its address.");
                None
            }
        }
    } else {
        None
    };

    let blobs_dir = config.data_dir.clone();
    let blobs = tokio::task::spawn_blocking(move || blobs::BlobStore::open(&blobs_dir)).await??;
    let search_dir = config.data_dir.clone();
    let (index, fresh) = tokio::task::spawn_blocking(move || search::SearchIndex::open(&search_dir)).await??;
    if fresh {
        // Filled in the background: folio serves meanwhile, and search finds more each second.
        let queue = store.clone();
        let queued = tokio::task::spawn_blocking(move || queue.queue_all_for_search()).await??;
        if queued > 0 {
            tracing::info!(artifacts = queued, "rebuilding the search index in the background");
        }
    }
    let index = std::sync::Arc::new(index);
    let indexer = search::indexer::Indexer::new(index.clone(), store.clone(), blobs.clone())?;
    let stop_indexing = tokio_util::sync::CancellationToken::new();
    let indexing = search::indexer::spawn(indexer, stop_indexing.clone());
    let state = http::AppState::new(store.clone(), blobs, index, config);
    let housekeeping = housekeeping::spawn(state.clone());
    let sweeper = spawn_session_sweeper(state.clone());
    let control = control::listen(state.clone());
    let jobs = state.backups.clone();
    let app = http::router(state);
    tracing::info!(%address, version = VERSION, "folio is serving");
    println!("folio {VERSION} listening on http://{address}");
    let restart = jobs.clone();
    let shutdown = async move {
        tokio::select! {
            () = shutdown => {}
            () = restart.restart_requested() => {}
        }
    };
    serve(listener, app, shutdown).await?;
    // The sweeper holds a handle to the store; stop it so the database closes with us.
    sweeper.abort();
    housekeeping.abort();
    let _ = sweeper.await;
    let _ = housekeeping.await;
    if let Some(control) = control {
        control.stop().await;
    }
    stop_indexing.cancel();
    let _ = indexing.await;
    if let Some(advert) = advert {
        advert.stop();
    }
    tracing::info!("folio stopped");
    if jobs.restart_pending() {
        return Err(backup::RestartToRestore.into());
    }
    Ok(())
}

/// Largest read buffer per connection. hyper's default (about 400 KiB) grows on every fast
/// upload, and multipart parsing keeps a copy of what it is given: with thirty classmates
/// uploading at once that alone was about 2 MiB a connection. 64 KiB reads keep a school's
/// burst of uploads within tens of megabytes and cost no measurable throughput.
const MAX_READ_BUFFER: usize = 64 * 1024;

/// Accepts connections until `shutdown`, then lets requests in flight finish (up to 30 s).
/// The same as `axum::serve`, with a bounded read buffer.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use tower::Service;

    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(MAX_READ_BUFFER).timer(hyper_util::rt::TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let tower_service = make_service.call(peer).await.unwrap_or_else(|never| match never {});
        let service = hyper_util::service::TowerToHyperService::new(tower_service);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running after 30 s and were cut off");
    }
    Ok(())
}

/// Where people can reach a listener: for 0.0.0.0 that is each of the box's network
/// addresses (what an installer types on a laptop), else the address itself.
fn reachable_addresses(address: SocketAddr) -> Vec<String> {
    if !address.ip().is_unspecified() {
        return vec![address.to_string()];
    }
    let mut found: Vec<String> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback() && i.ip().is_ipv4())
        .map(|i| SocketAddr::new(i.ip(), address.port()).to_string())
        .collect();
    found.push(format!("localhost:{}", address.port()));
    found
}

/// Expired sessions are dropped hourly so the session table stays small.
fn spawn_session_sweeper(state: http::AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let limits = state.config.sessions;
            if let Err(e) = state.db(move |store| Ok(auth::session::remove_expired(store, limits)?)).await {
                tracing::warn!("could not sweep expired sessions: {e}");
            }
        }
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (systemctl stop). The handlers are installed when
/// this is called, not when the future is first polled, so a signal that arrives while the
/// server is still starting is not lost (the default action would kill the process).
/// Call it inside the tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate()).and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
    };
    async move {
        #[cfg(unix)]
        match signals {
            Ok((mut term, mut interrupt)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = interrupt.recv() => {},
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops folio");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
