//! Bundles made and taken in by a running server: for the admin API and page, and for
//! `folio bundle` through the control socket. The work runs on the blocking pool; its
//! bytes travel through [`pipe`](super::pipe) channels.

use std::io;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::pipe::{ChannelReader, ChannelWriter, DEPTH};
use super::{BundleError, ExportSummary, ImportReport, Importer};
use crate::app::Folio;
use crate::peers::{Identity, Peer};

/// This box's identity (read from `<data>/tls/`; made at first start if missing).
async fn identity(folio: &Folio) -> Result<Identity, BundleError> {
    let dir = folio.config.data_dir.clone();
    tokio::task::spawn_blocking(move || Identity::load_or_create(&dir))
        .await
        .map_err(|e| BundleError::Io { what: "cannot read the box's identity".into(), source: io::Error::other(e) })?
        .map_err(|e| BundleError::Io { what: "cannot read the box's identity".into(), source: io::Error::other(e) })
}

/// The paired box `id` names (the whole id or a unique beginning).
pub async fn find_peer(folio: &Folio, id: &str) -> Result<Peer, BundleError> {
    let (store, id) = (folio.store.clone(), id.to_string());
    tokio::task::spawn_blocking(move || super::find_peer(&store, &id))
        .await
        .map_err(|e| BundleError::Io { what: "cannot look up the peer".into(), source: io::Error::other(e) })?
}

/// An export in progress: its bytes, and how it ended.
pub struct Export {
    /// This box, which signs the bundle.
    pub source: crate::peers::BoxId,
    pub bytes: mpsc::Receiver<Bytes>,
    pub done: JoinHandle<Result<ExportSummary, BundleError>>,
}

/// Starts writing a bundle for `peer` on the blocking pool. Garbage collection stays off
/// until the last file is copied. Dropping the receiver stops it.
pub async fn start_export(folio: &Folio, peer: Peer) -> Result<Export, BundleError> {
    let identity = identity(folio).await?;
    let source = identity.id();
    let (tx, rx) = mpsc::channel(DEPTH);
    let (store, blobs, in_flight) = (folio.store.clone(), folio.blobs.clone(), folio.in_flight.clone());
    let done = tokio::task::spawn_blocking(move || {
        let _hold = in_flight.hold_all();
        let mut out = ChannelWriter::new(tx);
        let summary = super::export(&store, &blobs, &identity, &peer, &mut out);
        match &summary {
            Ok(s) => {
                tracing::info!(peer = %peer.id.short(), ops = s.ops, files = s.files, bytes = s.bytes, "wrote a bundle")
            }
            Err(e) => tracing::warn!(peer = %peer.id.short(), "a bundle was not written: {e}"),
        }
        summary
    });
    Ok(Export { source, bytes: rx, done })
}

/// Reads a bundle from `chunks` (an upload, or the control socket) and applies it.
/// `declared` is its announced size, if any.
pub async fn import(
    folio: &Folio,
    declared: Option<u64>,
    chunks: impl Stream<Item = io::Result<Bytes>>,
) -> Result<ImportReport, BundleError> {
    let me = identity(folio).await?.id();
    let max_bytes = folio.config.max_bundle_bytes;
    if declared.is_some_and(|size| size > max_bytes) {
        return Err(BundleError::TooLarge { limit: max_bytes });
    }
    let (tx, rx) = mpsc::channel(DEPTH);
    let (store, blobs, in_flight, data_dir) =
        (folio.store.clone(), folio.blobs.clone(), folio.in_flight.clone(), folio.config.data_dir.clone());
    let job = tokio::task::spawn_blocking(move || {
        // Staged files are stored before the operations naming them are committed.
        let _hold = in_flight.hold_all();
        let importer = Importer { store: &store, blobs: &blobs, data_dir: &data_dir, me, max_bytes };
        importer.import(&mut ChannelReader::new(rx), declared)
    });
    let pump = async move {
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            let failed = chunk.is_err();
            // The importer stops reading once it has refused the bundle.
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    };
    let ((), result) = tokio::join!(pump, job);
    let report =
        result.map_err(|e| BundleError::Io { what: "the import stopped".into(), source: io::Error::other(e) })??;
    if report.files_received > 0 {
        folio.media_work.notify_one();
    }
    tracing::info!("imported a bundle: {}", report.describe());
    Ok(report)
}
