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
//! - [`resumable`]: resumable uploads (tus) on disk: unfinished files in `<data>/uploads/`,
//!   appended to and synced a request at a time, then moved into the blob store.
//! - [`auth`]: argon2id hashing, sessions, sign-in throttling, cross-origin refusal, the
//!   setup code.
//! - [`app`]: the application core, [`Folio`]: what the box keeps (store, files, uploads,
//!   search index, peers, backup jobs) and the wake-ups of its background work, opened by
//!   [`Folio::open`] for [`run`] and for tests alike.
//! - [`actions`]: what people do (sign in, create a class, import a roster, add work with
//!   files), as functions over the store or the core that both the API and the pages call.
//! - [`i18n`]: the languages: Fluent messages from `web/locales`, compiled in; numbers, sizes
//!   and dates in each; the template filters that take the request's locale.
//! - [`http`]: the axum router: JSON API under `/api/v1`, server-rendered pages, embedded
//!   assets, and the offline app's manifest, service worker and `X-Folio-Offline` mark.
//! - [`housekeeping`]: background work: thumbnails, collecting unused files.
//! - [`media`]: what an upload is (sniffed type, kind), how it may be served, thumbnails.
//! - [`extract`]: plain text of uploads (text, source, HTML, PDF, DOCX, ODT) for the search index.
//! - [`heavy`]: the gate every decode of an upload goes through (thumbnails, text): a few at
//!   once, failures and crashes remembered per file so no file takes the box down twice.
//! - [`search`]: the tantivy index: permission-filtered queries, the one indexer task that
//!   follows the store, rebuilds.
//! - [`discovery`]: the mDNS advertisement of `_folio._tcp.local.` (the peer port), and the
//!   list of boxes nearby that browsing finds.
//! - [`peers`]: other boxes: the box's identity (key pair and certificate; its id is the
//!   certificate's SHA-256), the peer port (mutual TLS), pairing, sync rounds and when they
//!   run, the files copied between boxes after the operations (`peers::files`), and USB
//!   bundles (`peers::bundle`) for sites with no network between them.
//! - [`sync`]: op-log replication between boxes: positions, grants, pages of missing
//!   operations, and applying them (carried by `peers` over the network, or by USB bundles).
//! - [`backup`]: backup folders (a consistent database snapshot plus the files it names),
//!   restore, and the USB sticks the admin page offers.
//! - [`control`]: the Unix socket in the data directory through which `folio backup` asks a
//!   running server for a snapshot.
//! - [`tls`]: HTTPS from the box's own certificate authority: the authority and server
//!   certificate in `<data>/tls/`, the names they cover, renewal without a restart.
//! - [`memory`]: the runtime folio serves on, and handing memory the allocator keeps free
//!   back to the system once a burst is over.
//! - [`error`]: the one error type handlers and actions share.
//! - `fuzzing` and `samples` (hidden): the fuzz targets' entry points, and small valid files
//!   made in code for the tests.
//!
//! The layers run one way: entry points (`cli`, [`run`]) over the adapters (`http`, the peer
//! port in `peers::server`) over `actions` over the core and its components, down to `sync`,
//! `store` and `domain` (ARCHITECTURE.md, "Layers"; `tests/integration/layers.rs`).
//!
//! [`run`] serves on the listeners you bind ([`Listeners`]: HTTP, and HTTPS and the peer
//! port if you like; tests bind port 0) until `shutdown` resolves.

pub mod actions;
pub mod app;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod control;
pub mod discovery;
pub mod disk_cache;
pub mod domain;
pub mod error;
pub mod extract;
/// Entry points of the fuzz targets in `fuzz/`; not part of folio's interface.
#[doc(hidden)]
pub mod fuzzing;
pub mod heavy;
pub mod housekeeping;

/// Unit tests measure what a decoder allocates (`heavy::meter`).
#[cfg(test)]
#[global_allocator]
static METER: heavy::meter::Meter = heavy::meter::Meter;
pub mod http;
pub mod i18n;
pub mod media;
pub mod memory;
pub(crate) mod metadata;
pub mod peers;
pub mod resumable;
#[doc(hidden)]
pub mod samples;
pub mod search;
pub mod store;
pub mod sync;
pub mod tls;

pub use app::Folio;
pub use config::Config;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The mDNS/sync protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The sockets folio serves on, bound by the caller: the command line binds the addresses
/// it was given (and says plainly when a port is taken), tests bind 127.0.0.1:0 and read the
/// ports back. A plain `TcpListener` converts into HTTP only.
pub struct Listeners {
    pub http: TcpListener,
    /// Serves HTTPS with the box's own certificate authority (see [`tls`]).
    pub https: Option<TcpListener>,
    /// The peer port: other folio boxes, over mutual TLS (see [`peers`]).
    pub peer: Option<TcpListener>,
}

impl Listeners {
    pub fn new(http: TcpListener, https: Option<TcpListener>) -> Self {
        Listeners { http, https, peer: None }
    }

    pub fn with_peer(mut self, peer: Option<TcpListener>) -> Self {
        self.peer = peer;
        self
    }
}

impl From<TcpListener> for Listeners {
    fn from(http: TcpListener) -> Self {
        Listeners { http, https: None, peer: None }
    }
}

/// Opens the store, prints the setup code if the box is new, advertises the box, and serves
/// HTTP (and HTTPS, given a listener for it) until `shutdown` completes. Returns once
/// in-flight requests finish.
///
/// HTTPS that cannot start (its certificate authority is damaged) is reported and left off:
/// the school keeps its HTTP service, and the page `/device` says what is wrong.
pub async fn run(
    config: Config,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listeners = listeners.into();
    let peer_address = listeners.peer.as_ref().map(|l| l.local_addr()).transpose()?;
    let folio = tokio::task::spawn_blocking(move || Folio::open(config, peer_address)).await??;
    run_folio(folio, listeners, shutdown).await
}

/// [`run`] on a folio already open ([`Folio::open`], with the peer listener's address): for
/// tests that keep a handle on what they need to look at (the store's commit count, say).
/// Keep no `Folio` clone itself: `run_folio` returns once the database has closed, which it
/// waits for.
pub async fn run_folio(
    folio: Folio,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_folio_with(folio, listeners, shutdown, |app| app).await
}

/// [`run_folio`] with the web app (HTTP and HTTPS) wrapped by `wrap` first: for tests that
/// watch every answer (the integration tests check each JSON answer against the API
/// description). The peer port is not wrapped.
pub async fn run_folio_with(
    folio: Folio,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
    wrap: impl FnOnce(axum::Router) -> axum::Router,
) -> anyhow::Result<()> {
    let Listeners { http: listener, https: tls_listener, peer: peer_listener } = listeners;
    let address = listener.local_addr()?;
    let peer_address = peer_listener.as_ref().map(|l| l.local_addr()).transpose()?;

    let setup_store = folio.store.clone();
    let setup_dir = folio.config.data_dir.clone();
    let code =
        tokio::task::spawn_blocking(move || actions::setup::ensure_setup_code(&setup_store, &setup_dir)).await??;
    if let Some(code) = &code {
        // Printed plainly (not only logged) so an installer at the console cannot miss it.
        let urls: Vec<String> = reachable_addresses(address).iter().map(|a| format!("http://{a}")).collect();
        println!(
            "\n  folio is not set up yet.\n  Open {} in a browser and enter this setup code: {code}\n  (It is also in {})\n",
            urls.join(" or "),
            auth::setup_code::path(&folio.config.data_dir).display()
        );
    }

    // Other boxes find the peer port; with it off there is nothing for them to find. The
    // browse (the nearby list) leaves this box's own announcement out.
    let identity = folio.net.identity.clone();
    let mut advert = if let (true, Some(peer_address)) = (folio.config.mdns, peer_address) {
        match discovery::advertise(&identity.id().short(), peer_address.port()) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("mDNS advertisement is off: {e:#}. Devices can still reach this box by its address.");
                None
            }
        }
    } else {
        None
    };
    if let Some(advert) = &mut advert {
        advert.browse(folio.store.clone(), folio.nearby.clone(), identity.id().short());
    }

    let (https, tls_listener) = start_tls(&folio.config.data_dir, tls_listener).await?;
    let ca_file = tls::ca_path(&folio.config.data_dir);
    let renewal = match &https {
        tls::Https::On { tls, .. } => Some(tls::spawn_renewal(tls.clone())),
        _ => None,
    };
    let workers = folio.start_workers()?;
    let jobs = folio.backups.clone();
    let peer_app = peers::server::router(folio.clone());
    let peer_acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(peers::tls::server_config(&identity)?));
    let app = wrap(http::router(http::AppState::new(folio.clone(), https.clone())));
    tracing::info!(%address, version = VERSION, "folio is serving");
    // The first line stays as it was before HTTPS: scripts and tests read the address there
    // (and may stop reading: hence one write, whose failure is no reason to stop serving).
    let mut listening = format!("folio {VERSION} listening on http://{address}");
    if let (Some((secure, _)), tls::Https::On { tls, .. }) = (&tls_listener, &https) {
        let page = reachable_addresses(address).into_iter().next().unwrap_or_else(|| address.to_string());
        listening += &format!(
            "\n  and on https://{} for devices that trust this box's certificate authority\n  (set them up at http://{page}/device; {}, SHA-256\n  {})",
            secure.local_addr()?,
            ca_file.display(),
            tls.ca_fingerprint()
        );
    }
    if let Some(peer_address) = peer_address {
        listening += &format!(
            "\n  other folio boxes pair and sync on port {} (this box's id: {})",
            peer_address.port(),
            identity.id()
        );
    }
    print_plainly(&listening);
    let restart = jobs.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let trigger = {
        let stop = stop.clone();
        async move {
            tokio::select! {
                () = shutdown => {}
                () = restart.restart_requested() => {}
            }
            stop.cancel();
            anyhow::Ok(())
        }
    };
    let plain = serve(listener, app.clone(), None, stop.clone().cancelled_owned());
    let secure = {
        let stop = stop.clone();
        async move {
            match tls_listener {
                Some((listener, acceptor)) => serve(listener, app, Some(acceptor), stop.cancelled_owned()).await,
                None => Ok(()),
            }
        }
    };
    let boxes = async move {
        match peer_listener {
            Some(listener) => serve(listener, peer_app, Some(peer_acceptor), stop.cancelled_owned()).await,
            None => Ok(()),
        }
    };
    tokio::try_join!(trigger, plain, secure, boxes)?;
    // The workers hold handles to the store; stop them so the database closes with us.
    workers.stop().await;
    if let Some(renewal) = renewal {
        renewal.abort();
        let _ = renewal.await;
    }
    if let Some(advert) = advert {
        advert.stop();
    }
    // Work an aborted task started on the blocking pool (thumbnails, a sweep, expired
    // sessions) cannot be cut short and still holds the database; it ends by itself. Waiting
    // for it means a stopped folio has closed its database, and can be started again at once.
    let closing = std::time::Instant::now();
    let store = folio.store.clone();
    drop(folio);
    while store.handles() > 1 && closing.elapsed() < std::time::Duration::from_secs(30) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    if store.handles() > 1 {
        tracing::warn!("background work still holds the database after 30 s");
    }
    drop(store);
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

/// HTTPS needs the box's certificate authority and a server certificate: read or made here
/// (blocking work, off the async threads). When they cannot be had, HTTPS stays off (the
/// listener is closed, so devices are refused at once rather than left waiting) and the
/// reason is printed, logged and shown on `/device`.
async fn start_tls(
    data_dir: &std::path::Path,
    listener: Option<TcpListener>,
) -> anyhow::Result<(tls::Https, Option<(TcpListener, tokio_rustls::TlsAcceptor)>)> {
    let Some(listener) = listener else {
        return Ok((tls::Https::Off, None));
    };
    let dir = data_dir.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || tls::Tls::open(&dir, &tls::BoxNames::current())).await?;
    match opened {
        Ok(opened) => {
            let opened = std::sync::Arc::new(opened);
            let port = listener.local_addr()?.port();
            let acceptor = opened.acceptor();
            Ok((tls::Https::On { tls: opened, port }, Some((listener, acceptor))))
        }
        Err(e) => {
            tracing::error!("HTTPS is off: {e}");
            print_plainly(&format!("\n  HTTPS is off: {e}.\n  folio serves HTTP only until then.\n"));
            Ok((tls::Https::Failed(e.to_string().into()), None))
        }
    }
}

/// How long a device has to finish the TLS handshake before its connection is dropped.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// HTTP/2 flow-control windows (TLS connections speak HTTP/2 when the browser offers it).
/// hyper's defaults let each connection buffer up to a megabyte of upload; this keeps a
/// classroom of uploads within the same few megabytes [`MAX_READ_BUFFER`] gives HTTP/1.1,
/// and still fills a LAN (256 KiB in flight is ~50 MB/s at a 5 ms round trip).
const H2_WINDOW: u32 = 256 * 1024;

/// Accepts connections until `shutdown`, then lets requests in flight finish (up to 30 s).
/// The same as `axum::serve`, with a bounded read buffer, and TLS when given an acceptor:
/// then every request carries [`http::extract::TlsConnection`] (Secure cookies) and the
/// handshake runs in the connection's own task, so a slow device never holds up `accept`.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use tower::{Service, ServiceExt};

    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(MAX_READ_BUFFER).timer(hyper_util::rt::TokioTimer::new());
    builder.http2().initial_stream_window_size(H2_WINDOW).initial_connection_window_size(H2_WINDOW);
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
        let Some(acceptor) = &tls else {
            let service = hyper_util::service::TowerToHyperService::new(tower_service.map_request(host_from_authority));
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
            });
            continue;
        };
        let (acceptor, builder, watcher) = (acceptor.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                // Most often a device that does not trust the box yet: its browser tells
                // the person, and there is nothing for the box to do.
                Ok(Err(e)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            // The peer port asks for a client certificate (the handshake proved the caller
            // holds its key); the HTTPS port does not, and has none here.
            let client_cert = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|der| {
                peers::ClientCert { id: peers::BoxId::of_certificate(der), der: std::sync::Arc::new(der.to_vec()) }
            });
            let tower_service = tower_service.map_request(move |req| {
                let mut req = host_from_authority(req);
                req.extensions_mut().insert(http::extract::TlsConnection);
                if let Some(cert) = &client_cert {
                    req.extensions_mut().insert(cert.clone());
                }
                req
            });
            let service = hyper_util::service::TowerToHyperService::new(tower_service);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    if tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running after 30 s and were cut off");
    }
    Ok(())
}

/// HTTP/2 (which browsers speak over TLS) names the host in `:authority`, which hyper puts
/// in the URI, and sends no `Host`. folio reads `Host` (the same-origin check, links on QR
/// cards), so it is filled in from the URI, as HTTP/1.1 would have sent it.
fn host_from_authority(
    mut req: axum::extract::Request<hyper::body::Incoming>,
) -> axum::extract::Request<hyper::body::Incoming> {
    use axum::http::{HeaderValue, header};
    if !req.headers().contains_key(header::HOST)
        && let Some(host) = req.uri().authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        req.headers_mut().insert(header::HOST, host);
    }
    req
}

/// Prints for the person at the console in one write. Unlike `println!`, a closed stdout (a
/// script that read what it needed) does not panic.
fn print_plainly(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
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
