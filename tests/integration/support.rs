//! The integration tests' fixtures, one of each: `TestServer` (a real folio on 127.0.0.1:0
//! with a temporary data directory, stopped cleanly by `stop()` or when dropped), [`Api`]
//! (setting a box up and signing people in, for every kind of box), [`TestCore`] (a box's
//! core without a server), [`classroom`], [`eventually`], [`noise`] and [`artifact`] (work
//! written straight into a store).
//!
//! Every JSON answer a `TestServer` gives under `/api/`, whoever asked, is checked as it goes
//! out against the schema the API description gives for its route and status (`Watch`): an
//! answer that drifts from its description fails the test whose server gave it.

mod api;
mod classroom;
mod core_box;
pub mod garage;
mod noise;
pub mod wait;

pub use api::{ADMIN_PASSWORD, Api};
pub use classroom::{Classroom, classroom};
pub use core_box::{TestCore, test_config};
pub use folio::samples::artifact;
pub use garage::GarageCluster;
pub use noise::noise;
pub use wait::eventually;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

use crate::contract::Contract;

pub struct TestServer {
    pub url: String,
    /// `https://127.0.0.1:<port>` when started with HTTPS ([`TestServer::start_https`]).
    pub https_url: Option<String>,
    /// The peer port (other boxes, mutual TLS), on 127.0.0.1.
    pub peer_addr: std::net::SocketAddr,
    pub data_dir: PathBuf,
    /// The store's durable commits so far (each an fsync): see [`TestServer::durable_commits`].
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    _temp: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    contract: OnceCell<Arc<Contract>>,
    /// What the server answered against its description (checked as it answers).
    watch: Arc<Watch>,
}

impl TestServer {
    pub async fn start() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let mut server = Self::start_with(temp.path().to_path_buf(), |_| {}).await.unwrap();
        server._temp = Some(temp);
        server
    }

    /// Starts on an existing data directory; `tweak` may change the configuration.
    pub async fn start_with(data_dir: PathBuf, tweak: impl FnOnce(&mut folio::Config)) -> anyhow::Result<Self> {
        Self::launch(data_dir, tweak, false, None).await
    }

    /// Starts on an existing data directory serving HTTPS too, on another port of 127.0.0.1.
    pub async fn start_https(data_dir: PathBuf) -> anyhow::Result<Self> {
        Self::launch(data_dir, |_| {}, true, None).await
    }

    /// Starts a fresh server whose peer port is `peer_addr` (another box's old address).
    pub async fn start_with_peer_addr(peer_addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let temp = tempfile::tempdir()?;
        let mut server = Self::launch(temp.path().to_path_buf(), |_| {}, false, Some(peer_addr)).await?;
        server._temp = Some(temp);
        Ok(server)
    }

    async fn launch(
        data_dir: PathBuf,
        tweak: impl FnOnce(&mut folio::Config),
        https: bool,
        peer_addr: Option<std::net::SocketAddr>,
    ) -> anyhow::Result<Self> {
        let mut config = test_config(data_dir.clone());
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let tls_listener = if https { Some(tokio::net::TcpListener::bind("127.0.0.1:0").await?) } else { None };
        let https_url = tls_listener.as_ref().map(|l| l.local_addr().map(|a| format!("https://{a}"))).transpose()?;
        let peer_listener = tokio::net::TcpListener::bind(peer_addr.unwrap_or(([127, 0, 0, 1], 0).into())).await?;
        let peer_addr = peer_listener.local_addr()?;
        let listeners = folio::Listeners::new(listener, tls_listener).with_peer(Some(peer_listener));
        let (tx, rx) = oneshot::channel::<()>();
        let opened = tokio::task::spawn_blocking(move || folio::Folio::open(config, Some(peer_addr))).await??;
        let commits = opened.store.commit_counter();
        let watch = Arc::new(Watch::default());
        let watching = watch.clone();
        let handle = tokio::spawn(folio::run_folio_with(
            opened,
            listeners,
            async move {
                let _ = rx.await;
            },
            move |app| app.layer(axum::middleware::from_fn_with_state(watching, watch_answer)),
        ));
        match wait::until_it_answers(&url, Duration::from_secs(5), || !handle.is_finished()).await {
            Ok(()) => Ok(TestServer {
                url,
                https_url,
                peer_addr,
                data_dir,
                commits,
                watch,
                _temp: None,
                shutdown: Some(tx),
                handle: Some(handle),
                contract: OnceCell::new(),
            }),
            Err(wait::NotUp::Stopped) => match handle.await? {
                Ok(()) => Err(anyhow::anyhow!("folio stopped at once")),
                Err(e) => Err(e),
            },
            Err(wait::NotUp::Silent) => Err(anyhow::anyhow!("folio did not answer within 5 s")),
        }
    }

    /// How many write transactions the store has committed (each durable: one fsync).
    pub fn durable_commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps `temp` (the data directory the server was started on) until the server is dropped.
    pub fn keep(&mut self, temp: tempfile::TempDir) {
        self._temp = Some(temp);
    }

    /// Stops the server and waits until it has closed its database.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        self.shutdown.take().map(|tx| tx.send(()));
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .expect("folio stops within 10 s")
                .unwrap()
                .unwrap();
        }
        self._temp.take()
    }

    /// Stops the server and starts it again on the same data directory, as a box that is
    /// switched off and on again; the temporary directory lives on with the new server.
    pub async fn restart(self) -> Self {
        let data_dir = self.data_dir.clone();
        let temp = self.stop().await;
        let mut server = Self::start_with(data_dir, |_| {}).await.unwrap();
        server._temp = temp;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn post(&self, client: &Client, path: &str, body: Value) -> Response {
        client.post(self.url(path)).json(&body).send().await.unwrap()
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// The session's form token from a page the client can open.
    pub async fn csrf_of(&self, client: &Client, path: &str) -> String {
        csrf_of(&self.get(client, path).await.text().await.unwrap())
    }

    /// The API description this server serves, fetched the first time it is needed.
    pub async fn contract(&self) -> Arc<Contract> {
        let fetch = async {
            let res = Client::new().get(self.url("/api/v1/openapi.json")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            Arc::new(Contract::new(res.json().await.unwrap()))
        };
        self.contract.get_or_init(|| fetch).await.clone()
    }

    /// Checks a JSON answer to `method path` against the description, and gives it back to
    /// be read as usual. Other answers (files, pages, empty ones) pass unchecked.
    pub async fn checked(&self, method: Method, path: &str, res: Response) -> Response {
        let is_json = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return res;
        }
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.bytes().await.unwrap();
        if let Ok(body) = serde_json::from_slice::<Value>(&bytes) {
            self.contract().await.check(&method, path, status, &body);
        }
        let mut again = axum::http::Response::new(bytes);
        *again.status_mut() = status;
        *again.headers_mut() = headers;
        reqwest::Response::from(again)
    }
}

impl Api for TestServer {
    fn url(&self, path: &str) -> String {
        TestServer::url(self, path)
    }

    fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    async fn post(&self, client: &Client, path: &str, body: Value) -> Response {
        TestServer::post(self, client, path, body).await
    }

    async fn get(&self, client: &Client, path: &str) -> Response {
        TestServer::get(self, client, path).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let problems = std::mem::take(&mut *self.watch.problems.lock().unwrap());
        if !problems.is_empty() && !std::thread::panicking() {
            panic!("the server answered against its API description:\n{}", problems.join("\n"));
        }
    }
}

/// Every JSON answer under `/api/` a test server gives, whoever asked (the helpers or a test's
/// own client), is checked against the API description as it goes out; what does not match
/// is kept here and fails the test when its server is dropped.
#[derive(Default)]
struct Watch {
    contract: std::sync::OnceLock<Contract>,
    problems: std::sync::Mutex<Vec<String>>,
}

async fn watch_answer(
    axum::extract::State(watch): axum::extract::State<Arc<Watch>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !path.starts_with("/api/") || !json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        let doc = folio::http::openapi::served().expect("the router made the description");
        let contract = watch.contract.get_or_init(|| Contract::new(serde_json::from_str(doc).unwrap()));
        if let Err(problem) = contract.verdict(&method, &path, parts.status, &value) {
            let mut shown = problem;
            shown.truncate(600);
            watch.problems.lock().unwrap().push(shown);
        }
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

pub async fn json_of(res: Response) -> Value {
    res.json().await.unwrap()
}

pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("folio.redb")
}

/// The session's form token from a page's HTML.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).expect("a form with a token").split('"').next().unwrap().to_string()
}
