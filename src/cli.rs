//! The `folio` command line.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{self, Config};

#[derive(Parser)]
#[command(name = "folio", version, about = "An offline learning portfolio for schools")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve folio on the network (the default when no command is given).
    Serve(ServeArgs),
    /// List the folio boxes that announce themselves on this network (mDNS).
    Discover {
        /// How long to listen, in seconds.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Rebuild the search index from the database, showing progress. Stop folio first (it
    /// also rebuilds a missing index by itself at start, while serving).
    Reindex {
        /// Where folio keeps its data.
        #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
    /// Write a backup folder (database and files) into a folder or USB stick, while folio
    /// keeps serving.
    Backup {
        /// folio's data folder.
        #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Where to write the backup; a new folder folio-backup-<date> is made inside it.
        #[arg(long)]
        to: PathBuf,
    },
    /// Bring a backup back into a data folder (with folio stopped), e.g. on a freshly
    /// flashed box.
    Restore {
        /// The backup folder (folio-backup-<date>), or the folder or stick holding just one.
        backup: PathBuf,
        /// folio's data folder.
        #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Replace the school already on this box.
        #[arg(long)]
        force: bool,
    },
    /// Carry sync between paired boxes on a USB stick, for sites with no network between
    /// them.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Where the box keeps its files: its own disk, or an S3 bucket.
    #[command(subcommand)]
    Blobs(BlobsCommand),
}

#[derive(Subcommand)]
enum BlobsCommand {
    /// Move every file to another place (with folio stopped), check each copy, then switch
    /// the box over. Safe to interrupt and run again: it goes on where it stopped.
    Migrate {
        /// `s3://BUCKET` (reached as FOLIO_S3_ENDPOINT and the key say), or `folder` for the
        /// data folder's own blobs/.
        #[arg(long)]
        to: crate::blobs::BlobsAt,
        /// folio's data folder.
        #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Write what a paired box lacks (operations and files) into one signed file, while
    /// folio keeps serving.
    Export {
        /// The paired box: its id, or the beginning of it shown on the admin page.
        #[arg(long)]
        peer: String,
        /// The file to write, or a folder (a USB stick) to write it into.
        #[arg(long)]
        to: PathBuf,
        /// folio's data folder.
        #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
    /// Check a bundle from a paired box and apply it (safe to repeat).
    Import {
        /// The bundle file.
        bundle: PathBuf,
        /// folio's data folder.
        #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// The largest bundle to accept, in bytes (when folio is not running; a running
        /// folio uses its own setting).
        #[arg(long, env = "FOLIO_MAX_BUNDLE_BYTES", default_value_t = 64 * config::GIB)]
        max_bundle_bytes: u64,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where folio keeps its data.
    #[arg(long, env = "FOLIO_DATA", default_value = config::DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// The address and port to serve HTTP on.
    #[arg(long, env = "FOLIO_LISTEN", default_value = config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The address and port to serve HTTPS on, with the box's own certificate authority
    /// (see the page /device), or `off`. [default: the --listen address with port 8443,
    /// so 0.0.0.0:8443; port 0 when --listen has port 0]
    #[arg(long, env = "FOLIO_TLS_LISTEN", value_parser = parse_tls_listen)]
    tls_listen: Option<TlsListen>,
    /// The address and port other folio boxes pair and sync on (mutual TLS), or `off`.
    /// [default: the --listen address with port 7443, so 0.0.0.0:7443; port 0 when --listen
    /// has port 0]
    #[arg(long, env = "FOLIO_PEER_LISTEN", value_parser = parse_tls_listen)]
    peer_listen: Option<TlsListen>,
    /// How often to sync with every paired box, in seconds (besides shortly after changes
    /// and when asked).
    #[arg(long, env = "FOLIO_SYNC_EVERY", default_value_t = 180, value_parser = clap::value_parser!(u64).range(1..))]
    sync_every: u64,
    /// Do not announce this box on the network with mDNS.
    #[arg(long, env = "FOLIO_NO_MDNS")]
    no_mdns: bool,
    /// The largest file one upload may hold, in bytes.
    #[arg(long, env = "FOLIO_MAX_FILE_BYTES", default_value_t = 2 * config::GIB)]
    max_file_bytes: u64,
    /// How much one student's portfolio may hold in all, in bytes.
    #[arg(long, env = "FOLIO_STUDENT_QUOTA_BYTES", default_value_t = 20 * config::GIB)]
    student_quota_bytes: u64,
    /// A folder the admin page offers for backups, besides USB sticks under /media.
    #[arg(long, env = "FOLIO_BACKUP_DIR")]
    backup_dir: Option<PathBuf>,
    /// The largest USB bundle this box takes in, in bytes.
    #[arg(long, env = "FOLIO_MAX_BUNDLE_BYTES", default_value_t = 64 * config::GIB)]
    max_bundle_bytes: u64,
    /// How many MiB of the database folio keeps in memory: more makes pages over much data
    /// faster to read, and the box uses that much more memory when it is busy.
    #[arg(long, env = "FOLIO_DB_CACHE_MB", default_value_t = crate::store::DEFAULT_CACHE_BYTES / (1024 * 1024))]
    db_cache_mb: usize,
    /// How many MiB of disk the thumbnails and the text taken from files may use together
    /// (least recently used go first, and are made again when next wanted).
    #[arg(long, env = "FOLIO_CACHE_MB", default_value_t = crate::disk_cache::DEFAULT_BYTES / (1024 * 1024))]
    cache_mb: u64,
    /// Where the files are: `folder` (the data folder's blobs/, the default) or
    /// `s3://BUCKET` on an S3-compatible store (Garage, MinIO…) at FOLIO_S3_ENDPOINT, with
    /// FOLIO_S3_REGION (default garage) and the key in FOLIO_S3_ACCESS_KEY_ID and
    /// FOLIO_S3_SECRET_ACCESS_KEY or the data folder's s3-credentials file. A box with files
    /// moves them with `folio blobs migrate`. [default: where the box keeps them]
    #[arg(long, env = "FOLIO_BLOBS")]
    blobs: Option<crate::blobs::BlobsAt>,
}

/// `--tls-listen` and `--peer-listen`: an address, or `off`.
#[derive(Clone, Copy, Debug)]
enum TlsListen {
    Off,
    On(SocketAddr),
}

fn parse_tls_listen(raw: &str) -> Result<TlsListen, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("off") {
        return Ok(TlsListen::Off);
    }
    raw.parse().map(TlsListen::On).map_err(|e| format!("{e}: give an address and port such as 0.0.0.0:8443, or `off`"))
}

/// HTTPS beside HTTP: the same address (an HTTP service kept to loopback keeps HTTPS there
/// too), port 8443; an ephemeral port when HTTP asked for one (tests, several folios on one
/// machine), so two never fight over 8443.
fn default_tls_listen(http: SocketAddr) -> TlsListen {
    let port = if http.port() == 0 { 0 } else { config::DEFAULT_TLS_PORT };
    TlsListen::On(SocketAddr::new(http.ip(), port))
}

/// The peer port beside HTTP, as HTTPS is: same address, port 7443 (or ephemeral).
fn default_peer_listen(http: SocketAddr) -> TlsListen {
    let port = if http.port() == 0 { 0 } else { config::DEFAULT_PEER_PORT };
    TlsListen::On(SocketAddr::new(http.ip(), port))
}

pub fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FOLIO_LOG").unwrap_or_else(|_| "folio=info,warn".into()),
        )
        .init();
    let runtime = match crate::memory::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("folio: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Discover { seconds }) => crate::discovery::print_nearby(std::time::Duration::from_secs(seconds)),
        Some(Command::Serve(args)) => runtime.block_on(serve(args)),
        Some(Command::Reindex { data }) => runtime.block_on(crate::search::rebuild(&data)),
        Some(Command::Backup { data, to }) => crate::backup::cli::backup(&data, &to),
        Some(Command::Restore { backup, data, force }) => crate::backup::cli::restore(&backup, &data, force),
        Some(Command::Bundle(BundleCommand::Export { peer, to, data })) => {
            crate::peers::bundle::cli::export(&data, &peer, &to)
        }
        Some(Command::Bundle(BundleCommand::Import { bundle, data, max_bundle_bytes })) => {
            crate::peers::bundle::cli::import(&data, &bundle, max_bundle_bytes)
        }
        Some(Command::Blobs(BlobsCommand::Migrate { to, data })) => crate::blobs::migrate::cli(&data, &to),
        None => runtime.block_on(serve(ServeArgs::parse_defaults())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<crate::backup::RestartToRestore>() => {
            eprintln!("folio: {e}");
            ExitCode::from(crate::backup::RESTART_EXIT_CODE)
        }
        Err(e) => {
            eprintln!("folio: {e:#}");
            ExitCode::FAILURE
        }
    }
}

impl ServeArgs {
    /// `folio` with no command behaves as `folio serve` with its defaults and environment.
    fn parse_defaults() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["folio"]).args
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let shutdown = crate::shutdown_signal();
    let config = Config {
        data_dir: args.data,
        mdns: !args.no_mdns,
        max_file_bytes: args.max_file_bytes,
        student_quota_bytes: args.student_quota_bytes,
        backup_dir: args.backup_dir,
        sync_every: std::time::Duration::from_secs(args.sync_every),
        max_bundle_bytes: args.max_bundle_bytes,
        db_cache_bytes: args.db_cache_mb.saturating_mul(1024 * 1024),
        cache_bytes: args.cache_mb.saturating_mul(1024 * 1024),
        blobs: args.blobs,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {}: {e}. Is another program using that port? Choose another with --listen.",
            args.listen
        )
    })?;
    let tls_listen = args.tls_listen.unwrap_or_else(|| default_tls_listen(args.listen));
    let tls_listener = match tls_listen {
        TlsListen::Off => None,
        TlsListen::On(address) => Some(tokio::net::TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {address} for HTTPS: {e}. Is another program using that port? Choose another with --tls-listen, or turn HTTPS off with --tls-listen off."
            )
        })?),
    };
    let peer_listener = match args.peer_listen.unwrap_or_else(|| default_peer_listen(args.listen)) {
        TlsListen::Off => None,
        TlsListen::On(address) => Some(tokio::net::TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {address} for other folio boxes: {e}. Is another program using that port? Choose another with --peer-listen, or turn it off with --peer-listen off."
            )
        })?),
    };
    crate::run(config, crate::Listeners::new(listener, tls_listener).with_peer(peer_listener), shutdown).await
}

/// Since the binary allocates with mimalloc (`src/main.rs`; its upkeep in `memory`), this
/// governs only what C code allocates, and the library's tests.
///
/// glibc's allocator keeps freed memory for reuse, and raises its threshold for using mmap
/// each time a large block is freed: after a few sign-ins the 19 MiB argon2 blocks (and
/// upload buffers) stay resident in up to 8 arenas per core, hundreds of megabytes on a box
/// that may have one gigabyte. A fixed threshold of 4 MiB returns such blocks to the system
/// at once, and two arenas are plenty for folio's few busy threads.
///
/// The threshold is not lower because the buffers of a transfer (hyper's and rustls's reads,
/// a file's write buffer: a few hundred KiB to 1 MiB) are freed and allocated again all the
/// time: mapped each time, every one of their pages faulted in and zeroed anew, which
/// profiling a sync showed as a sixth of the receiving box's CPU. For the same reason each
/// arena may keep 16 MiB free at its top rather than handing it back after every transfer.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_ARENA_MAX: i32 = -8;
    // SAFETY: mallopt only changes allocator tuning; called first thing, before any threads.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 4 << 20);
        mallopt(M_TRIM_THRESHOLD, 16 << 20);
        mallopt(M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
