//! The control socket: how `folio backup` (and `folio restore`) talk to a folio that is
//! already serving the same data directory.
//!
//! redb lets one process open a database, so while folio serves, the command line cannot
//! open the store itself. Instead the server listens on a Unix socket,
//! `<data>/control.sock`, created with mode 0600: only folio's own user (and root) may
//! connect, the same people who can read the data directory anyway. The protocol is one
//! JSON object per line:
//!
//! ```text
//! → {"op":"ping"}                      ← {"ok":true,"version":"0.1.0"}
//! → {"op":"snapshot"}                  ← {"ok":true,"snapshot":".snapshot-1a2b3c4d.redb"}
//!   (the client copies that file and the blobs it names, then)
//! → {"op":"release"}  or hangs up      ← {"ok":true}
//!
//! → {"op":"bundle_export","peer":"3f2a…"}   ← {"ok":true}, then the bundle in frames
//!   (a u32 big-endian length and that many bytes; length 0 ends), then
//!   ← {"ok":true,"export":{…}} or {"ok":false,"error":"…"}
//! → {"op":"bundle_import","bytes":N}, then N bytes of bundle
//!                                      ← {"ok":true,"import":{…}} or {"ok":false,"error":"…"}
//! ```
//!
//! Bundles (`peers::bundle`) travel through the socket rather than as paths, so the server
//! needs no permission to read or write the USB stick: the command line does that.
//!
//! A snapshot is written by the server into its data directory (it may not write anywhere
//! else: the appliance's service runs with `ProtectSystem=strict`); the client, with its
//! own permissions, copies it to the USB stick. Garbage collection stays off from before the
//! snapshot until the client releases it or goes away, so every file the snapshot names is
//! still there when the client copies it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::app::Folio;

pub const SOCKET_NAME: &str = "control.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Ping,
    Snapshot,
    Release,
    /// Write a bundle for the paired box `peer` (its id or a unique beginning).
    BundleExport {
        peer: String,
    },
    /// Import the bundle of `bytes` bytes that follows this line.
    BundleImport {
        bytes: u64,
    },
}

#[derive(Serialize, Deserialize, Default)]
struct Reply {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// A file name inside the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    snapshot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    export: Option<crate::peers::bundle::ExportSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    import: Option<crate::peers::bundle::ImportReport>,
}

/// The listening socket; [`Control::stop`] closes it and removes the file.
pub struct Control {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Control {
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Starts listening on `<data>/control.sock`. Call it after the store is open (which proves
/// no other folio serves this directory, so an old socket file is stale). Returns `None`,
/// with a warning, where the socket cannot be made: folio still serves, and `folio backup`
/// then says it cannot reach it.
pub fn listen(folio: Folio) -> Option<Control> {
    let path = socket_path(&folio.config.data_dir);
    match bind(&path) {
        Ok(listener) => {
            let task = tokio::spawn(accept_loop(listener, folio));
            Some(Control { path, task })
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), "no control socket ({e}); `folio backup` cannot reach this server");
            None
        }
    }
}

/// Binds under a temporary name, makes it 0600, then renames it into place, so the socket is
/// never reachable with wider permissions.
fn bind(path: &Path) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let temp = path.with_file_name(format!(".{SOCKET_NAME}.{:08x}", rand::random::<u32>()));
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(&temp)?;
    let placed = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    Ok(listener)
}

async fn accept_loop(listener: tokio::net::UnixListener, folio: Folio) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let folio = folio.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, folio).await {
                        tracing::info!("control connection ended: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::warn!("control socket: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
}

async fn handle(stream: tokio::net::UnixStream, folio: Folio) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(Request::Ping) => Reply { ok: true, version: Some(crate::VERSION.into()), ..Reply::default() },
            Ok(Request::Release) => Reply { ok: true, ..Reply::default() },
            Ok(Request::Snapshot) => {
                let hold = folio.in_flight.hold_all();
                let name = format!(".snapshot-{:08x}.redb", rand::random::<u32>());
                let path = folio.config.data_dir.join(&name);
                let store = folio.store.clone();
                let target = path.clone();
                let made = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                    use std::os::unix::fs::PermissionsExt;
                    store.snapshot_to(&target)?;
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))?;
                    Ok(())
                })
                .await?;
                match made {
                    Ok(()) => {
                        tracing::info!("a backup took a snapshot; files are kept until it has copied them");
                        send(&mut write, &Reply { ok: true, snapshot: Some(name), ..Reply::default() }).await?;
                        // Until the client releases the snapshot (or hangs up, however it
                        // ends), no file is collected and the snapshot file stays.
                        let _ = lines.next_line().await;
                        let _ = std::fs::remove_file(&path);
                        drop(hold);
                        let _ = send(&mut write, &Reply { ok: true, ..Reply::default() }).await;
                        return Ok(());
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        Reply { ok: false, error: Some(format!("{e:#}")), ..Reply::default() }
                    }
                }
            }
            Ok(Request::BundleExport { peer }) => return bundle_export(&folio, &peer, &mut write).await,
            Ok(Request::BundleImport { bytes }) => {
                return bundle_import(&folio, bytes, lines.into_inner(), &mut write).await;
            }
            Err(e) => Reply { ok: false, error: Some(format!("unknown request: {e}")), ..Reply::default() },
        };
        send(&mut write, &reply).await?;
    }
    Ok(())
}

/// Streams a bundle for `peer` in frames, then says how it went.
async fn bundle_export(folio: &Folio, peer: &str, write: &mut tokio::net::unix::OwnedWriteHalf) -> anyhow::Result<()> {
    use crate::peers::bundle::serve;
    let refused =
        |e: crate::peers::bundle::BundleError| Reply { ok: false, error: Some(e.to_string()), ..Reply::default() };
    let export = match serve::find_peer(folio, peer).await {
        Ok(peer) => serve::start_export(folio, peer).await,
        Err(e) => Err(e),
    };
    let mut export = match export {
        Ok(export) => export,
        Err(e) => return Ok(send(write, &refused(e)).await?),
    };
    send(write, &Reply { ok: true, ..Reply::default() }).await?;
    while let Some(chunk) = export.bytes.recv().await {
        write.write_all(&(chunk.len() as u32).to_be_bytes()).await?;
        write.write_all(&chunk).await?;
    }
    write.write_all(&0u32.to_be_bytes()).await?;
    let reply = match export.done.await? {
        Ok(summary) => Reply { ok: true, export: Some(summary), ..Reply::default() },
        Err(e) => refused(e),
    };
    Ok(send(write, &reply).await?)
}

/// Reads `bytes` bytes of bundle from the socket and applies them.
async fn bundle_import(
    folio: &Folio,
    bytes: u64,
    read: tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    write: &mut tokio::net::unix::OwnedWriteHalf,
) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let chunks = tokio_util::io::ReaderStream::with_capacity(read.take(bytes), 256 * 1024);
    let reply = match crate::peers::bundle::serve::import(folio, Some(bytes), chunks).await {
        Ok(report) => Reply { ok: true, import: Some(report), ..Reply::default() },
        Err(e) => Reply { ok: false, error: Some(e.to_string()), ..Reply::default() },
    };
    Ok(send(write, &reply).await?)
}

async fn send(write: &mut tokio::net::unix::OwnedWriteHalf, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).expect("a reply serialises");
    line.push(b'\n');
    write.write_all(&line).await
}

// ---------------------------------------------------------------------------------------
// The client side, for the command line (blocking)

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(
        "folio is running on {0}, but you may not talk to it. Run this as root (sudo) or as the user folio runs as."
    )]
    NotAllowed(PathBuf),
    #[error("folio is running on {path} but did not answer properly: {message}")]
    Protocol { path: PathBuf, message: String },
    /// The running folio refused what was asked, and says why in words for the person.
    #[error("{0}")]
    Refused(String),
}

/// A connection to the folio serving a data directory.
pub struct Client {
    path: PathBuf,
    stream: BufReader<UnixStream>,
}

/// Connects to the folio serving `data_dir`; `None` when none is serving it.
pub fn connect(data_dir: &Path) -> Result<Option<Client>, ControlError> {
    let path = socket_path(data_dir);
    match UnixStream::connect(&path) {
        Ok(stream) => {
            let mut client = Client { path: data_dir.to_path_buf(), stream: BufReader::new(stream) };
            client.ask(&Request::Ping)?;
            Ok(Some(client))
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(ControlError::NotAllowed(data_dir.into())),
        // No socket, or a stale one left by a folio that was killed.
        Err(_) => Ok(None),
    }
}

/// A snapshot the server made for us; the server keeps it (and every file) until
/// [`Lease::release`] or until this is dropped.
pub struct Lease {
    pub path: PathBuf,
    client: Client,
}

impl Lease {
    pub fn release(mut self) {
        let _ = self.client.ask(&Request::Release);
    }
}

impl Client {
    fn ask(&mut self, request: &Request) -> Result<Reply, ControlError> {
        let protocol = |message: String| ControlError::Protocol { path: self.path.clone(), message };
        let mut line = serde_json::to_vec(request).expect("a request serialises");
        line.push(b'\n');
        self.stream.get_mut().write_all(&line).map_err(|e| protocol(e.to_string()))?;
        let mut answer = String::new();
        self.stream.read_line(&mut answer).map_err(|e| protocol(e.to_string()))?;
        if answer.is_empty() {
            return Err(protocol("it hung up".into()));
        }
        let reply: Reply = serde_json::from_str(&answer).map_err(|e| protocol(e.to_string()))?;
        if !reply.ok {
            return Err(protocol(reply.error.unwrap_or_default()));
        }
        Ok(reply)
    }

    /// Asks the server for a consistent copy of its database.
    pub fn snapshot(mut self) -> Result<Lease, ControlError> {
        let reply = self.ask(&Request::Snapshot)?;
        let name = reply.snapshot.filter(|n| !n.contains('/') && n.starts_with(".snapshot-")).ok_or_else(|| {
            ControlError::Protocol { path: self.path.clone(), message: "no snapshot was named".into() }
        })?;
        Ok(Lease { path: self.path.join(name), client: self })
    }
}

impl Client {
    fn send_request(&mut self, request: &Request) -> Result<(), ControlError> {
        let mut line = serde_json::to_vec(request).expect("a request serialises");
        line.push(b'\n');
        self.stream.get_mut().write_all(&line).map_err(|e| self.protocol(e.to_string()))
    }

    fn protocol(&self, message: String) -> ControlError {
        ControlError::Protocol { path: self.path.clone(), message }
    }

    /// Reads one reply line; a refusal becomes [`ControlError::Refused`].
    fn reply(&mut self) -> Result<Reply, ControlError> {
        let mut answer = String::new();
        self.stream.read_line(&mut answer).map_err(|e| self.protocol(e.to_string()))?;
        if answer.is_empty() {
            return Err(self.protocol("it hung up".into()));
        }
        let reply: Reply = serde_json::from_str(&answer).map_err(|e| self.protocol(e.to_string()))?;
        if !reply.ok {
            return Err(ControlError::Refused(reply.error.unwrap_or_default()));
        }
        Ok(reply)
    }

    /// Asks the server for a bundle for the paired box `peer`, written into `out`.
    pub fn bundle_export(
        mut self,
        peer: &str,
        out: &mut dyn Write,
    ) -> Result<crate::peers::bundle::ExportSummary, ControlError> {
        use std::io::Read;
        self.send_request(&Request::BundleExport { peer: peer.to_string() })?;
        self.reply()?;
        let mut buf = Vec::new();
        loop {
            let mut len = [0u8; 4];
            self.stream.read_exact(&mut len).map_err(|e| self.protocol(e.to_string()))?;
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 {
                break;
            }
            buf.resize(len, 0);
            self.stream.read_exact(&mut buf).map_err(|e| self.protocol(e.to_string()))?;
            out.write_all(&buf).map_err(|e| ControlError::Refused(format!("cannot write the bundle: {e}")))?;
        }
        self.reply()?.export.ok_or_else(|| self.protocol("no summary of the bundle".into()))
    }

    /// Sends the bundle `input` (of `size` bytes) to the server, which applies it.
    pub fn bundle_import(
        mut self,
        input: &mut dyn std::io::Read,
        size: u64,
    ) -> Result<crate::peers::bundle::ImportReport, ControlError> {
        use std::io::Read;
        self.send_request(&Request::BundleImport { bytes: size })?;
        let sent = std::io::copy(&mut input.take(size), self.stream.get_mut());
        // The server may refuse the bundle before it has read it all, and close: its answer
        // says why, so it is read even when sending failed.
        let reply = self.reply();
        match (sent, reply) {
            (_, Ok(reply)) => reply.import.ok_or_else(|| self.protocol("no report of the import".into())),
            (Err(e), Err(ControlError::Protocol { .. })) => {
                Err(ControlError::Refused(format!("cannot send the bundle to folio: {e}")))
            }
            (_, Err(e)) => Err(e),
        }
    }
}
