//! `TestServer`: a real folio on 127.0.0.1:0 with a temporary data directory, stopped cleanly
//! by `stop()` (or when dropped), and helpers that sign people in.
//!
//! The request helpers (`get`, `post`) check every JSON answer against the schema the API
//! description (`/api/v1/openapi.json`, fetched once per server) gives for its route and
//! status: an answer that drifts from its description fails the test that received it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

use crate::contract::Contract;

pub const ADMIN_PASSWORD: &str = "correct horse battery";

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
        let mut config = folio::Config { data_dir: data_dir.clone(), mdns: false, ..folio::Config::default() };
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
        let handle = tokio::spawn(folio::run_folio(opened, listeners, async move {
            let _ = rx.await;
        }));
        // Wait until it answers (or has failed to start).
        let client = Client::new();
        for _ in 0..200 {
            if handle.is_finished() {
                return match handle.await? {
                    Ok(()) => Err(anyhow::anyhow!("folio stopped at once")),
                    Err(e) => Err(e),
                };
            }
            if client.get(format!("{url}/healthz")).send().await.is_ok() {
                return Ok(TestServer {
                    url,
                    https_url,
                    peer_addr,
                    data_dir,
                    commits,
                    _temp: None,
                    shutdown: Some(tx),
                    handle: Some(handle),
                    contract: OnceCell::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(anyhow::anyhow!("folio did not answer within 5 s"))
    }

    /// How many write transactions the store has committed (each durable: one fsync).
    pub fn durable_commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
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

    pub fn setup_code(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("setup-code")).unwrap().trim().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A client that keeps cookies, like a browser, but sends no Origin (like curl).
    pub fn client(&self) -> Client {
        Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    pub async fn post(&self, client: &Client, path: &str, body: Value) -> Response {
        let res = client.post(self.url(path)).json(&body).send().await.unwrap();
        self.checked(Method::POST, path, res).await
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        let res = client.get(self.url(path)).send().await.unwrap();
        self.checked(Method::GET, path, res).await
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

    /// Completes setup and returns a client signed in as the admin.
    pub async fn setup_admin(&self) -> Client {
        let client = self.client();
        let res = self
            .post(&client, "/api/v1/setup", json!({"setup_code": self.setup_code(), "school_name": "Escuela Uno", "username": "admin", "display_name": "Ada Admin", "password": ADMIN_PASSWORD}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        self.login(&client, "admin", ADMIN_PASSWORD).await;
        client
    }

    pub async fn login(&self, client: &Client, username: &str, password: &str) {
        let res = self.post(client, "/api/v1/login", json!({"username": username, "password": password})).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {username}: {}", res.text().await.unwrap());
    }

    /// Creates a person (as the admin) and returns (id, a client signed in as them).
    pub async fn person(&self, admin: &Client, username: &str, role: &str) -> (String, Client) {
        let password = format!("{username}-password");
        let res = self.post(admin, "/api/v1/users", json!({"username": username, "display_name": username.to_uppercase(), "role": role, "password": password})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        let client = self.client();
        self.login(&client, username, &password).await;
        (id, client)
    }

    pub async fn create_class(&self, client: &Client, name: &str) -> Value {
        let res = self.post(client, "/api/v1/classes", json!({"name": name})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn json_of(res: Response) -> Value {
    res.json().await.unwrap()
}

pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("folio.redb")
}
