//! Writing a bundle: the pages a peer lacks, then the files they name, signed.

use base64::Engine;
use std::io::Read;

use std::collections::{BTreeSet, HashSet};
use std::io::Write;

use super::{
    BundleError, END, End, ExportSummary, FILE, FORMAT, HEADER, Header, MAGIC, PAGE, SIGNATURE, SIGNED_PREFIX,
    files_named, grants, is_hash_name,
};
use crate::blobs::{BlobHash, BlobStore};
use crate::domain::ReplicaId;
use crate::peers::{Identity, Peer};
use crate::store::{Store, StoreError, peers as store_peers};
use crate::sync::{self, Limits, Positions, SyncError};

/// Writes everything `peer` lacks (as far as this box knows) into `out`, signed by
/// `identity`. The caller keeps garbage collection off meanwhile (a running server holds
/// `InFlight::hold_all`), so every file the pages name stays until it is copied.
pub fn export(
    store: &Store,
    blobs: &BlobStore,
    identity: &Identity,
    peer: &Peer,
    out: &mut dyn Write,
) -> Result<ExportSummary, BundleError> {
    let grants = grants(store, &peer.scope)?;
    let mut positions = Vec::new();
    for grant in &grants {
        // Only what the grant covers: the ids of classes and people outside it are none of
        // the other box's business.
        let covered: HashSet<crate::domain::Scope> = store.read(|r| grant.partitions(r))?.into_iter().collect();
        let mut ours = sync::positions(store, grant.school).map_err(sync_store)?;
        ours.have.retain(|p| covered.contains(&p.partition));
        positions.push(ours);
    }
    let header = Header {
        source: identity.id(),
        source_cert: base64::engine::general_purpose::STANDARD.encode(identity.cert_der().as_ref()),
        target: peer.id,
        created_ms: crate::domain::hlc::wall_clock_ms(),
        folio_version: crate::VERSION.to_string(),
        positions,
    };
    let mut out = Signing::new(out);
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT.to_be_bytes())?;
    out.record(HEADER, &serde_json::to_vec(&header).expect("a header serialises"))?;

    let mut end = End::default();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for grant in &grants {
        let mut theirs = store.read(|r| store_peers::peer_positions(r, peer.id, grant.school))?.unwrap_or_else(|| {
            Positions { school: grant.school, replica: ReplicaId(uuid::Uuid::nil()), have: Vec::new() }
        });
        loop {
            let page = sync::ops_missing(store, &theirs, grant, Limits::default()).map_err(sync_store)?;
            if page.spans.is_empty() {
                // Whom the peer may give new secrets travels even when no operation does.
                if page.wholly_inside.is_some() {
                    out.record(PAGE, &serde_json::to_vec(&page).expect("a page serialises"))?;
                    end.pages += 1;
                }
                break;
            }
            for op in &page.ops {
                named.extend(files_named(&op.change).into_iter().filter(|h| is_hash_name(h)).map(str::to_owned));
            }
            out.record(PAGE, &serde_json::to_vec(&page).expect("a page serialises"))?;
            end.pages += 1;
            end.ops += page.ops.len() as u64;
            for reached in page.positions_after() {
                match theirs.have.iter_mut().find(|p| p.partition == reached.partition && p.origin == reached.origin) {
                    Some(p) => p.seq = p.seq.max(reached.seq),
                    None => theirs.have.push(reached),
                }
            }
            if !page.more {
                break;
            }
        }
    }

    let mut files_missing = 0;
    let mut buf = vec![0u8; 1 << 20];
    for hex in &named {
        let hash = BlobHash::from_hex(hex).expect("checked to be a hash");
        let Ok(Some((size, mut file))) = blobs.reader(&hash) else {
            files_missing += 1;
            continue;
        };
        let mut head = vec![hex.len() as u8];
        head.extend_from_slice(hex.as_bytes());
        out.record_head(FILE, head.len() as u64 + size)?;
        out.write_all(&head)?;
        let mut left = size;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            file.read_exact(&mut buf[..want]).map_err(BundleError::io(format!("cannot read file {hex}")))?;
            out.write_all(&buf[..want])?;
            left -= want as u64;
        }
        end.files += 1;
        end.file_bytes += size;
    }
    out.record(END, &serde_json::to_vec(&end).expect("the end serialises"))?;
    let mut message = SIGNED_PREFIX.to_vec();
    message.extend_from_slice(out.hasher.finalize().as_bytes());
    let signature = identity.sign(&message);
    out.record_unhashed(SIGNATURE, &signature)?;
    out.inner.flush().map_err(BundleError::io("cannot write the bundle"))?;
    Ok(ExportSummary {
        source: identity.id(),
        target: peer.id,
        pages: end.pages,
        ops: end.ops,
        files: end.files,
        file_bytes: end.file_bytes,
        files_missing,
        bytes: out.written,
    })
}

fn sync_store(e: SyncError) -> BundleError {
    match e {
        SyncError::Store(e) => BundleError::Store(e),
        other => BundleError::Store(StoreError::Corrupt(other.to_string())),
    }
}

/// The output, hashed as it is written.
struct Signing<'a> {
    inner: &'a mut dyn Write,
    hasher: blake3::Hasher,
    written: u64,
}

impl<'a> Signing<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Signing { inner, hasher: blake3::Hasher::new(), written: 0 }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BundleError> {
        self.hasher.update(bytes);
        self.write_unhashed(bytes)
    }

    fn write_unhashed(&mut self, bytes: &[u8]) -> Result<(), BundleError> {
        self.inner.write_all(bytes).map_err(BundleError::io("cannot write the bundle"))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn record_head(&mut self, kind: u8, len: u64) -> Result<(), BundleError> {
        self.write_all(&[kind])?;
        self.write_all(&len.to_be_bytes())
    }

    fn record(&mut self, kind: u8, payload: &[u8]) -> Result<(), BundleError> {
        self.record_head(kind, payload.len() as u64)?;
        self.write_all(payload)
    }

    fn record_unhashed(&mut self, kind: u8, payload: &[u8]) -> Result<(), BundleError> {
        self.write_unhashed(&[kind])?;
        self.write_unhashed(&(payload.len() as u64).to_be_bytes())?;
        self.write_unhashed(payload)
    }
}
