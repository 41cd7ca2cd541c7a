//! Calling another box's peer port: HTTPS with our identity as client certificate, accepting
//! only the server whose certificate hashes to the id we pinned (`peers::tls`).
//!
//! Each call has a deadline (5 s to connect, 60 s for an exchange of operations, 20 s
//! without a byte for a file transfer), and every failure becomes a [`PeerError`] in words
//! an admin can act on: the box is out of reach, it presented a different key, it refused
//! us (not paired there, or unpaired), or it refused what we sent.

use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::server::{Hello, PairAnswer, PairRequest, PushAnswer};
use super::tls::{Presented, client_config};
use super::{BoxId, Identity, PeerError};
use crate::domain::SchoolId;
use crate::sync::{Page, Positions};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many times a request tries to connect before the peer is called unreachable.
const CONNECT_ATTEMPTS: u32 = 3;
/// A whole exchange of operations (one page each way) must finish in this time.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A connection that carries nothing for this long is given up (and the next round resumes
/// where it stopped). File transfers have no whole-request limit: a 200 MB video over slow
/// Wi-Fi may take many minutes, and is fine as long as bytes keep moving.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// One peer at one address.
pub struct PeerClient {
    http: reqwest::Client,
    expected: BoxId,
    address: String,
    presented: Presented,
    sent: AtomicU64,
    received: AtomicU64,
}

impl std::fmt::Debug for PeerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerClient").field("peer", &self.expected).field("address", &self.address).finish()
    }
}

impl PeerClient {
    /// A client for the box `expected` at `address` ("host:port"). Connects lazily.
    pub fn new(identity: &Identity, expected: BoxId, address: &str) -> Result<PeerClient, PeerError> {
        let presented = Presented::default();
        let tls = client_config(identity, expected, presented.clone()).map_err(PeerError::local)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(IDLE_TIMEOUT)
            // Only ever the pinned box: never follow it elsewhere, never through a proxy.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(PeerError::local)?;
        Ok(PeerClient { http, expected, address: address.to_string(), presented, sent: 0.into(), received: 0.into() })
    }

    pub fn peer(&self) -> BoxId {
        self.expected
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// The HTTP client, for calls this module has no method for (file transfers, which set
    /// their own timeouts). Count their bytes with [`PeerClient::count`].
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `https://<address><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }

    /// Adds to the bytes sent and received (bodies only).
    pub fn count(&self, sent: u64, received: u64) {
        self.sent.fetch_add(sent, Ordering::Relaxed);
        self.received.fetch_add(received, Ordering::Relaxed);
    }

    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn bytes_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// The certificate the server presented on the last handshake (pairing keeps it).
    pub fn presented_certificate(&self) -> Option<Vec<u8>> {
        self.presented.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|(_, der)| der.clone())
    }

    fn name(&self) -> String {
        self.expected.short()
    }

    /// What a failed request means: most telling first (a wrong key shows up as a TLS error
    /// deep inside the connection error).
    pub fn explain(&self, e: &reqwest::Error) -> PeerError {
        let presented = self.presented.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|(id, _)| *id);
        if presented.is_some_and(|id| id != self.expected) {
            return PeerError::WrongKey { peer: self.name() };
        }
        let why = if e.is_timeout() {
            "it did not answer in time".to_string()
        } else if e.is_connect() {
            let mut source: Option<&dyn std::error::Error> = Some(e);
            let mut deepest = String::from("no connection");
            while let Some(s) = source {
                deepest = s.to_string();
                source = s.source();
            }
            deepest
        } else {
            e.to_string()
        };
        PeerError::Unreachable { peer: self.name(), address: self.address.clone(), why }
    }

    /// Sends a request (with a JSON body, if any) and reads a JSON answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, PeerError> {
        if let Some(body) = &body {
            self.count(body.len() as u64, 0);
        }
        let mut attempt = 1;
        let response = loop {
            let mut request = self.http.request(method.clone(), self.url(path)).timeout(REQUEST_TIMEOUT);
            if let Some(body) = &body {
                request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
            }
            match request.send().await {
                Ok(response) => break response,
                // No connection was made, so nothing was sent: trying again is safe, and on
                // a lossy Wi-Fi link a few lost SYNs outlast one connect timeout.
                Err(e) if e.is_connect() && attempt < CONNECT_ATTEMPTS => {
                    tracing::debug!(peer = %self.name(), attempt, error = %e, "connecting again");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(self.explain(&e)),
            }
        };
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.explain(&e))?;
        self.count(0, bytes.len() as u64);
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| PeerError::Protocol { peer: self.name(), why: format!("{path}: {e}") });
        }
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        Err(match status {
            StatusCode::FORBIDDEN | StatusCode::GONE | StatusCode::UNAUTHORIZED => {
                PeerError::Refused { peer: self.name(), why: message }
            }
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
                PeerError::Rejected { peer: self.name(), why: message }
            }
            _ => PeerError::Protocol { peer: self.name(), why: format!("{status} on {path}: {message}") },
        })
    }

    fn json(value: &impl serde::Serialize) -> Option<Vec<u8>> {
        Some(serde_json::to_vec(value).expect("wire types serialise"))
    }

    pub async fn hello(&self) -> Result<Hello, PeerError> {
        let hello: Hello = self.call(Method::GET, "/peer/v1/hello", None).await?;
        if hello.box_id != self.expected {
            // The TLS check makes this impossible unless the peer is confused; say so.
            return Err(PeerError::Protocol { peer: self.name(), why: "it gave another id than its key's".into() });
        }
        Ok(hello)
    }

    pub async fn pair(&self, request: &PairRequest) -> Result<PairAnswer, PeerError> {
        self.call(Method::POST, "/peer/v1/pair", Self::json(request)).await
    }

    /// The next page of what the peer has and we lack (within what it grants us).
    pub async fn pull(&self, ours: &Positions) -> Result<Page, PeerError> {
        self.call(Method::POST, "/peer/v1/pull", Self::json(ours)).await
    }

    /// What the peer holds of a school.
    pub async fn positions(&self, school: SchoolId) -> Result<Positions, PeerError> {
        self.call(Method::GET, &format!("/peer/v1/positions/{school}"), None).await
    }

    /// Sends a page; returns how many of its operations were new to the peer.
    pub async fn push(&self, page: &Page) -> Result<u64, PeerError> {
        let answer: PushAnswer = self.call(Method::POST, "/peer/v1/push", Self::json(page)).await?;
        Ok(answer.applied)
    }
}
