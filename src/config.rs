//! One `Config` for a running folio, with the defaults that make `folio serve` just work.

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::session::Timeouts;

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the database, files and the setup code live.
    pub data_dir: PathBuf,
    /// Advertise this box on the LAN with mDNS.
    pub mdns: bool,
    pub sessions: Timeouts,
    /// How many password hashes may run at once (each takes ~19 MiB).
    pub max_concurrent_hashes: usize,
    /// The largest file one upload may hold.
    pub max_file_bytes: u64,
    /// How much one student's portfolio may hold in all.
    pub student_quota_bytes: u64,
    /// A folder the admin page offers for backups besides the USB sticks mounted under
    /// `/media` and `/run/media` (a second disk, a network share; tests use a temp folder).
    pub backup_dir: Option<PathBuf>,
    /// How long a resumable upload (tus) is kept after its last activity, finished or not:
    /// long enough for a student to come back in range the next school day.
    pub upload_expiry: Duration,
    /// How often every paired box is synced with, besides shortly after changes and on
    /// demand.
    pub sync_every: Duration,
    /// How often the bookkeeping of reads kept in memory ("seen" marks, session use) is
    /// written when no other write takes it along (`store::lazy`): what a power cut may lose.
    pub flush_bookkeeping_every: Duration,
    /// How long an invitation to pair can be used.
    pub invite_lifetime: Duration,
    /// The largest USB bundle (`peers::bundle`) this box takes in; larger ones are refused
    /// before they are read.
    pub max_bundle_bytes: u64,
    /// How much of the database file the store keeps in memory (redb's page cache).
    pub db_cache_bytes: usize,
    /// How much disk the thumbnails and extracted text may take together (`disk_cache`).
    pub cache_bytes: u64,
    /// How often housekeeping brings those caches back under `cache_bytes`.
    pub trim_caches_every: Duration,
    /// Where `--blobs` says the files are; `None` keeps where the box keeps them
    /// (`blobs::migrate::remembered`: the folder unless moved).
    pub blobs: Option<crate::blobs::BlobsAt>,
    /// How to reach a bucket; `None` reads the environment (`FOLIO_S3_*`).
    pub s3: Option<crate::blobs::s3::S3Settings>,
}

pub const GIB: u64 = 1024 * 1024 * 1024;

pub const DEFAULT_DATA_DIR: &str = "folio-data";
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
/// HTTPS listens on the HTTP address with this port, unless told otherwise (so with the
/// defaults on 0.0.0.0:8443).
pub const DEFAULT_TLS_PORT: u16 = 8443;
/// The peer port (box to box, mutual TLS) listens on the HTTP address with this port, unless
/// told otherwise (so with the defaults on 0.0.0.0:7443).
pub const DEFAULT_PEER_PORT: u16 = 7443;

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            mdns: true,
            sessions: Timeouts {
                // A lesson or two without activity; a school day at most.
                idle: Duration::from_secs(2 * 60 * 60),
                absolute: Duration::from_secs(12 * 60 * 60),
            },
            max_concurrent_hashes: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4),
            max_file_bytes: 2 * GIB,
            student_quota_bytes: 20 * GIB,
            backup_dir: None,
            upload_expiry: Duration::from_secs(24 * 60 * 60),
            sync_every: Duration::from_secs(3 * 60),
            flush_bookkeeping_every: Duration::from_secs(5),
            invite_lifetime: Duration::from_secs(60 * 60),
            max_bundle_bytes: 64 * GIB,
            db_cache_bytes: crate::store::DEFAULT_CACHE_BYTES,
            cache_bytes: crate::disk_cache::DEFAULT_BYTES,
            trim_caches_every: Duration::from_secs(600),
            blobs: None,
            s3: None,
        }
    }
}
