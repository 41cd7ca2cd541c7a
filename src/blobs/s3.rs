//! Files on an S3-compatible bucket (Garage, MinIO, Ceph RGW, a cloud bucket), for a district
//! box whose files outgrow one disk or must survive one machine dying. Only the files move:
//! the database stays in redb on the box, and a file is still named by its BLAKE3 hash, as the
//! object `blobs/<64 hex digits>`.
//!
//! Why `object_store` (Apache Arrow's, behind DataFusion and delta-rs): one small client for
//! every S3-compatible store, with multipart uploads, ranged GETs, listing and retries, on the
//! reqwest, hyper and ring folio already builds; the AWS SDK would bring its own HTTP stack
//! and a C crypto library.
//!
//! The guarantees of the folder store hold here too:
//! - An upload is staged on the box's disk (hashed and stripped of location on the way, as
//!   always) and then sent as a multipart upload straight to its hash name. S3 shows an object
//!   only once its upload is completed, so a name never points at half an object, and a row
//!   is written only after that.
//! - Content already stored (a `HEAD` says so) is not sent again.
//! - Reads are streamed: a `Range` becomes a ranged `GET`.
//!
//! All requests run on a small runtime of this module's own: callers on the blocking pool
//! (thumbnails, text extraction, backups, collection) and CLI commands with no runtime at all
//! use the bucket the same way as handlers do, and its connections outlive no runtime.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, PutPayload, RetryConfig, WriteMultipart,
};

use super::{BlobError, BlobHash};

/// Parts of a multipart upload. S3 wants at least 5 MiB per part but the last; 8 MiB parts
/// keep a 2 GiB video within 256 parts and an upload's memory within a few parts.
const PART_SIZE: usize = 8 << 20;
/// Parts sent at once per upload: enough to keep a three-node cluster busy.
const PARTS_IN_FLIGHT: usize = 4;
/// Files up to this size go up in one `PUT`.
const SINGLE_PUT_MAX: u64 = PART_SIZE as u64;
/// How long a read may wait for the next piece of a body (or for the answer to a GET).
const STALL: Duration = Duration::from_secs(30);
/// Where a file's object lives under the bucket.
const PREFIX: &str = "blobs";

/// Where a box keeps its files: its own folder (the default) or a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobsAt {
    /// `<data>/blobs/` on the box's own disk.
    Folder,
    /// An S3-compatible bucket, reached as `FOLIO_S3_ENDPOINT` says.
    S3 { bucket: String },
}

impl std::str::FromStr for BlobsAt {
    type Err = String;

    /// `folder`, or `s3://BUCKET` (a bucket name as S3 allows: 3–63 lowercase letters, digits,
    /// dots and dashes).
    fn from_str(raw: &str) -> Result<Self, String> {
        if raw == "folder" {
            return Ok(BlobsAt::Folder);
        }
        let Some(bucket) = raw.strip_prefix("s3://") else {
            return Err(format!("`{raw}` is not a place for files: say `folder` or `s3://BUCKET`"));
        };
        let bucket = bucket.trim_end_matches('/');
        let valid = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'))
            && bucket.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && bucket.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric())
            && !bucket.contains("..")
            && bucket.parse::<std::net::Ipv4Addr>().is_err();
        if !valid {
            return Err(format!("`{bucket}` is not a bucket name: 3 to 63 lowercase letters, digits, dots and dashes"));
        }
        Ok(BlobsAt::S3 { bucket: bucket.to_string() })
    }
}

impl std::fmt::Display for BlobsAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobsAt::Folder => f.write_str("folder"),
            BlobsAt::S3 { bucket } => write!(f, "s3://{bucket}"),
        }
    }
}

/// How to reach the bucket: from the environment, the keys possibly from a file in the data
/// folder (so they are not in the service's unit file or the process list).
#[derive(Clone)]
pub struct S3Settings {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Never the secret, in a log or an error.
impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The file in the data folder that may hold the keys: `access_key_id = …` and
/// `secret_access_key = …` lines, readable by folio's user only.
pub const CREDENTIALS_FILE: &str = "s3-credentials";

impl S3Settings {
    /// `FOLIO_S3_ENDPOINT` (required), `FOLIO_S3_REGION` (default `garage`), and the keys from
    /// `FOLIO_S3_ACCESS_KEY_ID` / `FOLIO_S3_SECRET_ACCESS_KEY` or else `<data>/s3-credentials`.
    pub fn from_env(data_dir: &Path) -> Result<S3Settings, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint = var("FOLIO_S3_ENDPOINT").ok_or(
            "files are on an S3 bucket, so folio needs FOLIO_S3_ENDPOINT, the store's address (for example http://127.0.0.1:3900)",
        )?;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!("FOLIO_S3_ENDPOINT must start with http:// or https://, not `{endpoint}`"));
        }
        let region = var("FOLIO_S3_REGION").unwrap_or_else(|| "garage".into());
        let (id, secret) = match (var("FOLIO_S3_ACCESS_KEY_ID"), var("FOLIO_S3_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => (id, secret),
            _ => read_credentials(&data_dir.join(CREDENTIALS_FILE))?,
        };
        Ok(S3Settings { endpoint, region, access_key_id: id, secret_access_key: secret })
    }
}

fn read_credentials(path: &Path) -> Result<(String, String), String> {
    let missing = || {
        format!(
            "folio needs the bucket's key: set FOLIO_S3_ACCESS_KEY_ID and FOLIO_S3_SECRET_ACCESS_KEY, or write them into {} (access_key_id = … and secret_access_key = …, readable by folio only: chmod 600)",
            path.display()
        )
    };
    let text = std::fs::read_to_string(path).map_err(|_| missing())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| e.to_string())?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} can be read by other users of the box; make it folio's only: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    match (value("access_key_id"), value("secret_access_key")) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok((id, secret)),
        _ => Err(missing()),
    }
}

/// One bucket, and the runtime its requests run on. Cloning is cheap.
#[derive(Clone)]
pub struct Bucket {
    inner: Arc<Inner>,
}

struct Inner {
    /// For requests with small answers, with a total time limit.
    store: AmazonS3,
    /// For GETs, whose bodies may take long: no total limit, a limit per piece instead.
    reads: AmazonS3,
    name: String,
    endpoint: String,
    runtime: OwnRuntime,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket(s3://{} at {})", self.inner.name, self.inner.endpoint)
    }
}

/// A runtime that may be dropped anywhere, even on an async thread (where dropping a runtime
/// normally panics): it is shut down in the background.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Bucket {
    /// Connects to the bucket and checks that folio may write, read, list and delete there,
    /// so a wrong address or key is said at start in plain words, not at the first upload.
    pub fn connect(bucket: &str, settings: &S3Settings) -> Result<Bucket, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("folio-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the S3 client: {e}"))?;
        // Few, short retries: a person waiting on a page should hear "try again" in seconds
        // rather than after minutes of backing off.
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
        };
        // Two clients. Requests with small answers (HEAD, a part, DELETE, LIST) have a total
        // time limit, so a node that hangs becomes "try again" in seconds. A GET's limit would
        // cover its whole body (a long video to a slow phone), so reads have none: instead
        // each piece of a body must come within `STALL` ([`Bucket::stream`]).
        let quick = ClientOptions::new()
            .with_allow_http(true)
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout(Duration::from_secs(60));
        let streaming = ClientOptions::new()
            .with_allow_http(true)
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout_disabled();
        let build = |options: ClientOptions| {
            AmazonS3Builder::new()
                .with_endpoint(&settings.endpoint)
                .with_region(&settings.region)
                .with_bucket_name(bucket)
                .with_access_key_id(&settings.access_key_id)
                .with_secret_access_key(&settings.secret_access_key)
                .with_allow_http(true)
                // Path-style (`http://host/bucket/key`): self-hosted stores are reached by address,
                // with no DNS name per bucket.
                .with_virtual_hosted_style_request(false)
                .with_client_options(options)
                .with_retry(retry.clone())
                .build()
                .map_err(|e| format!("cannot use the S3 settings: {e}"))
        };
        let (store, reads) = (build(quick)?, build(streaming)?);
        let bucket = Bucket {
            inner: Arc::new(Inner {
                store,
                reads,
                name: bucket.to_string(),
                endpoint: settings.endpoint.clone(),
                runtime: OwnRuntime(Some(runtime)),
            }),
        };
        bucket.check()?;
        Ok(bucket)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Writes, reads back, lists and deletes a small object under `check/`.
    fn check(&self) -> Result<(), String> {
        let key = Key::from(format!("check/{:032x}", rand::random::<u128>()));
        let store = self.clone();
        let where_ = format!("s3://{} at {}", self.inner.name, self.inner.endpoint);
        self.block_on(async move {
            let s = &store.inner.store;
            s.put(&key, PutPayload::from_static(b"folio")).await.map_err(|e| explain(&where_, "write to", e))?;
            let back = s.get(&key).await.map_err(|e| explain(&where_, "read from", e))?;
            back.bytes().await.map_err(|e| explain(&where_, "read from", e))?;
            let mut listed = s.list(Some(&Key::from("check")));
            if let Some(Err(e)) = listed.next().await {
                return Err(explain(&where_, "list", e));
            }
            s.delete(&key).await.map_err(|e| explain(&where_, "delete from", e))?;
            Ok(())
        })
        .map_err(|e| e.to_string())?
    }

    /// Runs a request on the bucket's runtime and waits for it, from any thread.
    fn block_on<T: Send + 'static>(&self, job: impl Future<Output = T> + Send + 'static) -> Result<T, BlobError> {
        let runtime = self.inner.runtime.0.as_ref().expect("the runtime lives as long as the bucket");
        let (done, answer) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let _ = done.send(job.await);
        });
        answer.blocking_recv().map_err(|_| unavailable("an S3 request stopped".into()))
    }

    /// Runs a request on the bucket's runtime and awaits it.
    async fn run<T: Send + 'static>(&self, job: impl Future<Output = T> + Send + 'static) -> Result<T, BlobError> {
        let runtime = self.inner.runtime.0.as_ref().expect("the runtime lives as long as the bucket");
        runtime.spawn(job).await.map_err(|e| unavailable(format!("S3 request stopped: {e}")))
    }

    fn key(hash: &BlobHash) -> Key {
        Key::from(format!("{PREFIX}/{}", hash.to_hex()))
    }

    /// The size and time of a stored object, or `None` when it is not there. Blocking.
    pub fn head_blocking(&self, hash: &BlobHash) -> Result<Option<(u64, SystemTime)>, BlobError> {
        let (store, key) = (self.clone(), Self::key(hash));
        self.block_on(async move { head(&store.inner.store, &key).await })?
    }

    /// Sends a whole, fsynced file on the box's disk to its hash name, unless an object of that
    /// size is already there. Blocking. Only when this returns is the object complete.
    pub fn put_file(&self, path: &Path, hash: &BlobHash, size: u64) -> Result<(), BlobError> {
        if self.head_blocking(hash)?.is_some_and(|(stored, _)| stored == size) {
            return Ok(());
        }
        let file = std::fs::File::open(path)?;
        let (store, key) = (self.clone(), Self::key(hash));
        self.block_on(async move { upload(&store.inner.store, &key, file, size).await })?
    }

    /// The bytes `start..start + len` of a stored object, as they arrive.
    pub async fn stream(
        &self,
        hash: &BlobHash,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, BlobError> {
        let range = GetRange::Bounded(start..start + len);
        Ok(self.get(hash, Some(range)).await?.map_err(|e| failed("read", e))?.1)
    }

    /// One `GET` of an object (of `range` of it, or all): its whole size, from the answer,
    /// and its bytes as they arrive; the store's error as it is, so a caller can tell an
    /// object that is not there.
    async fn get(
        &self,
        hash: &BlobHash,
        range: Option<GetRange>,
    ) -> Result<Result<(u64, BoxStream<'static, io::Result<Bytes>>), object_store::Error>, BlobError> {
        let (store, key) = (self.clone(), Self::key(hash));
        let options = GetOptions { range, ..Default::default() };
        let result = self
            .run(async move {
                tokio::time::timeout(STALL, store.inner.reads.get_opts(&key, options))
                    .await
                    .unwrap_or_else(|_| Err(object_store::Error::Generic { store: "S3", source: "no answer".into() }))
            })
            .await?;
        let result = match result {
            Ok(result) => result,
            Err(e) => return Ok(Err(e)),
        };
        let (size, hex) = (result.meta.size, hash.to_hex());
        let body = result.into_stream();
        // A store that stops sending mid-body ends the stream with an error after `STALL`
        // rather than holding the download (and the person) forever.
        let stream = futures_util::stream::unfold(Some(body), move |body| {
            let hex = hex.clone();
            async move {
                let mut body = body?;
                match tokio::time::timeout(STALL, body.next()).await {
                    Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
                    Ok(Some(Err(e))) => Some((Err(io::Error::other(format!("reading file {hex} from S3: {e}"))), None)),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("file {hex}: the S3 store stopped sending"),
                        )),
                        None,
                    )),
                }
            }
        })
        .boxed();
        Ok(Ok((size, stream)))
    }

    /// The whole object's size and a blocking reader of it, from one `GET`, or `None` when it
    /// is not there: for bundles, backups, text previews and local copies.
    pub fn reader_blocking(&self, hash: &BlobHash) -> Result<Option<super::read::SizedReader>, BlobError> {
        let runtime = self.inner.runtime.0.as_ref().expect("the runtime lives as long as the bucket").handle().clone();
        let got = self.block_on({
            let (bucket, hash) = (self.clone(), *hash);
            async move { bucket.get(&hash, None).await }
        })??;
        let (size, stream) = match got {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(failed("read", e)),
        };
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(Some((size, Box::new(tokio_util::io::SyncIoBridge::new_with_handle(reader, runtime)))))
    }

    /// Deletes an object; one that is not there is not an error.
    pub fn delete(&self, hash: &BlobHash) -> Result<(), BlobError> {
        let (store, key) = (self.clone(), Self::key(hash));
        self.block_on(async move {
            match store.inner.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(failed("delete", e)),
            }
        })?
    }

    /// Every stored file's hash and time, sorted by hash. Anything else in the bucket is left
    /// alone.
    pub fn list(&self) -> Result<Vec<(BlobHash, SystemTime)>, BlobError> {
        let store = self.clone();
        self.block_on(async move {
            let mut found = Vec::new();
            let mut listed = store.inner.store.list(Some(&Key::from(PREFIX)));
            while let Some(meta) = listed.next().await {
                let meta = meta.map_err(|e| failed("list", e))?;
                let name = meta.location.filename().unwrap_or_default();
                if let Some(hash) = BlobHash::from_hex(name).filter(|h| h.to_hex() == name) {
                    found.push((hash, SystemTime::from(meta.last_modified)));
                }
            }
            found.sort_unstable_by_key(|(hash, _)| *hash);
            Ok(found)
        })?
    }
}

async fn head(store: &AmazonS3, key: &Key) -> Result<Option<(u64, SystemTime)>, BlobError> {
    match store.head(key).await {
        Ok(meta) => Ok(Some((meta.size, SystemTime::from(meta.last_modified)))),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(failed("look up", e)),
    }
}

/// One `PUT` for a small file; a multipart upload with a few parts in flight for a larger
/// one, reading the next part from disk while the others are sent. An upload that fails is
/// aborted, so no parts are left behind on the store.
async fn upload(store: &AmazonS3, key: &Key, file: std::fs::File, size: u64) -> Result<(), BlobError> {
    let file = tokio::fs::File::from_std(file);
    if size <= SINGLE_PUT_MAX {
        let mut bytes = Vec::with_capacity(size as usize);
        tokio::io::AsyncReadExt::read_to_end(&mut file.take_limit(size), &mut bytes).await?;
        store.put(key, PutPayload::from(bytes)).await.map_err(|e| failed("store", e))?;
        return Ok(());
    }
    let upload = store.put_multipart(key).await.map_err(|e| failed("store", e))?;
    let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut reader = file.take_limit(size);
    let sent = async {
        loop {
            let mut part = Vec::with_capacity(PART_SIZE);
            let read =
                tokio::io::AsyncReadExt::read_buf(&mut (&mut reader).take_limit(PART_SIZE as u64), &mut part).await?;
            if read == 0 {
                return Ok::<_, BlobError>(());
            }
            parts.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(|e| failed("store", e))?;
            parts.put(Bytes::from(part));
        }
    }
    .await;
    // Every part sent before completing: `finish` returns on a failed part without aborting,
    // which would leave the parts on the store, unlisted and never collected.
    let sent = match sent {
        Ok(()) => parts.wait_for_capacity(0).await.map_err(|e| failed("store", e)),
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => parts.finish().await.map(drop).map_err(|e| failed("store", e)),
        Err(e) => {
            let _ = parts.abort().await;
            Err(e)
        }
    }
}

/// `AsyncReadExt::take`, named so it does not clash with `Read::take`.
trait TakeLimit: tokio::io::AsyncRead + Sized {
    fn take_limit(self, limit: u64) -> tokio::io::Take<Self> {
        tokio::io::AsyncReadExt::take(self, limit)
    }
}
impl<R: tokio::io::AsyncRead> TakeLimit for R {}

fn unavailable(detail: String) -> BlobError {
    BlobError::Unavailable(detail)
}

fn failed(what: &str, e: object_store::Error) -> BlobError {
    unavailable(format!("could not {what} a file on the S3 store: {e}"))
}

/// A start-up check's failure, said so an IT person knows what to fix.
fn explain(where_: &str, what: &str, e: object_store::Error) -> String {
    let text = e.to_string();
    let hint = if text.contains("403") || text.contains("AccessDenied") || text.contains("InvalidAccessKeyId") {
        "the key is wrong or lacks read, write and delete rights on the bucket"
    } else if text.contains("NoSuchBucket") || text.contains("404") {
        "there is no such bucket (create it, and allow the key on it)"
    } else {
        "the store is unreachable or refused (is it running, and is FOLIO_S3_ENDPOINT right?)"
    };
    format!("cannot {what} the bucket {where_}: {hint}. ({text})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_a_folder_or_a_bucket_with_a_valid_name() {
        assert_eq!("folder".parse::<BlobsAt>().unwrap(), BlobsAt::Folder);
        assert_eq!("s3://district-files/".parse::<BlobsAt>().unwrap(), BlobsAt::S3 { bucket: "district-files".into() });
        for bad in [
            "s3://",
            "s3://ab",
            "s3://Upper",
            "s3://a/b",
            "s3://-dash",
            "s3://dash-",
            "s3://a..b",
            "s3://10.0.0.1",
            "/var/lib/folio",
            "gs://x",
        ] {
            assert!(bad.parse::<BlobsAt>().is_err(), "{bad}");
        }
        assert_eq!(BlobsAt::S3 { bucket: "x1y".into() }.to_string(), "s3://x1y");
    }

    #[test]
    fn the_key_file_must_be_folios_only_and_complete() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CREDENTIALS_FILE);
        std::fs::write(&path, "access_key_id = GK123\nsecret_access_key = \"s3cr3t\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_credentials(&path).unwrap_err().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_credentials(&path).unwrap(), ("GK123".into(), "s3cr3t".into()));
        std::fs::write(&path, "access_key_id = GK123\n").unwrap();
        assert!(read_credentials(&path).unwrap_err().contains("FOLIO_S3_ACCESS_KEY_ID"));
        let settings = S3Settings {
            endpoint: "http://127.0.0.1:3900".into(),
            region: "garage".into(),
            access_key_id: "GK123".into(),
            secret_access_key: "s3cr3t".into(),
        };
        assert!(!format!("{settings:?}").contains("s3cr3t"), "the secret is never printed");
    }
}
