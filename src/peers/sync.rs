//! One sync round with a paired box, over its peer port.
//!
//! For each school the two share: *pull* (send our positions, apply the page it answers
//! with, while it says there is more), then *push* (ask its positions, send the page it
//! lacks, while there is more), then remember its positions (USB bundles for it carry only
//! what it lacks). Files named by the pages already applied start to come meanwhile
//! ([`super::files::pull_during_operations`]); the rest of the files, both ways, follow
//! ([`super::files::exchange`]). Every page is checked against the
//! pairing's scope on the receiving side (`sync::apply_page`), in one transaction with its
//! positions, so a round cut off anywhere resumes where it stopped.
//!
//! Rounds with one peer run one at a time. A round asked for while another runs waits for
//! it; if yet another round started after it asked (for someone who asked earlier), that one
//! covers everything it asked for, and it reports that one instead of doing the work again.
//! Each round's outcome
//! (counts, or the error in plain words) goes into the peer's [`PeerStatus`].

use std::collections::BTreeSet;

use tokio::sync::Mutex;

use super::client::PeerClient;
use super::{BoxId, Net, Peer, PeerError, PeerScope, SyncCounts};
use crate::app::Folio;
use crate::domain::SchoolId;
use crate::domain::hlc::wall_clock_ms;
use crate::store::Store;
use crate::sync::{self as core, Grant, Limits, SyncError};

/// Enough pages for any school; a peer that keeps saying "more" without progress past this
/// is confused, and the round stops rather than loop.
const MAX_PAGES: usize = 100_000;

/// One peer's rounds: how many have started, and the last one's outcome (its lock held
/// while a round runs).
#[derive(Default)]
pub struct Slot {
    started: std::sync::atomic::AtomicU64,
    last: Mutex<Option<Result<SyncCounts, PeerError>>>,
}

/// Syncs with `peer_id`: a round that starts after this call, run now or by whoever asked
/// just before (then its outcome is reported). Records the outcome in the peer's status.
pub async fn with_peer(folio: &Folio, peer_id: BoxId) -> Result<SyncCounts, PeerError> {
    use std::sync::atomic::Ordering;
    let slot = folio.net.slot(peer_id);
    let seen = slot.started.load(Ordering::SeqCst);
    let mut last = slot.last.lock().await;
    // Rounds start only under the lock, so one that started since we asked has finished.
    if slot.started.load(Ordering::SeqCst) != seen
        && let Some(outcome) = last.as_ref()
    {
        return outcome.clone();
    }
    slot.started.fetch_add(1, Ordering::SeqCst);
    let outcome = round(folio, peer_id).await;
    record(folio, peer_id, &outcome).await;
    *last = Some(outcome.clone());
    outcome
}

async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> Result<T, PeerError> + Send + 'static,
) -> Result<T, PeerError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.map_err(PeerError::local)?
}

/// Reaches the peer at the first of its addresses that answers as it. A box with another
/// key at an address is not tried further (and said so, if no address works).
pub async fn connect(net: &Net, peer: &Peer) -> Result<(PeerClient, Vec<SchoolId>), PeerError> {
    let mut failures = Vec::new();
    for address in &peer.addresses {
        let client = PeerClient::new(&net.identity, peer.id, address)?;
        match client.hello().await {
            Ok(hello) => return Ok((client, hello.schools)),
            Err(e @ (PeerError::Unreachable { .. } | PeerError::WrongKey { .. })) => failures.push(e),
            Err(e) => return Err(e),
        }
    }
    let wrong_key = failures.iter().position(|e| matches!(e, PeerError::WrongKey { .. }));
    match wrong_key {
        Some(i) => Err(failures.swap_remove(i)),
        None => Err(failures.into_iter().next().unwrap_or(PeerError::NoAddress { peer: peer.id.short() })),
    }
}

/// The schools a round covers: those either box holds, within the scope.
fn schools_to_sync(ours: Vec<SchoolId>, theirs: Vec<SchoolId>, scope: &PeerScope) -> Vec<SchoolId> {
    let mut all: BTreeSet<SchoolId> = ours.into_iter().collect();
    all.extend(theirs);
    if let Some(named) = scope.schools() {
        all.extend(named.iter().copied());
        all.retain(|s| named.contains(s));
    }
    all.into_iter().collect()
}

async fn round(folio: &Folio, peer_id: BoxId) -> Result<SyncCounts, PeerError> {
    let store = folio.store.clone();
    let peer = blocking(&store, move |s| s.peer(peer_id).map_err(PeerError::local))
        .await?
        .ok_or_else(|| PeerError::NotPaired { peer: peer_id.short() })?;
    let (client, theirs) = connect(&folio.net, &peer).await?;
    let scope = peer.scope.clone();
    let ours = blocking(&store, move |s| super::server::shared_schools(s, &scope).map_err(PeerError::local)).await?;
    let mut counts = SyncCounts::default();
    let started = std::time::Instant::now();
    // Files start to come while the operations still arrive (see `pull_during_operations`).
    let (operations_done, done) = tokio::sync::watch::channel(false);
    let operations = async {
        let mut counts = SyncCounts::default();
        let result = async {
            for school in schools_to_sync(ours, theirs, &peer.scope) {
                let Some(grant) = peer.grant(school) else { continue };
                counts.ops_received += pull(&store, &client, &grant).await?;
                counts.ops_sent += push(&store, &client, &grant, peer_id).await?;
            }
            Ok::<_, PeerError>(())
        }
        .await;
        let _ = operations_done.send(true);
        result.map(|()| (counts, started.elapsed()))
    };
    let base = client.url("");
    let early = super::files::pull_during_operations(client.http(), &base, folio, &peer, done);
    let (operations, early) = tokio::join!(operations, early);
    let (ops, operations_took) = operations?;
    counts.ops_received = ops.ops_received;
    counts.ops_sent = ops.ops_sent;
    let files_from = started.elapsed();
    let mut files = super::files::exchange(client.http(), &base, folio, &peer).await.map_err(|e| match e {
        super::files::FilesError::Unreachable(why) => {
            PeerError::Unreachable { peer: peer_id.short(), address: client.address().to_string(), why }
        }
        super::files::FilesError::Refused { .. } => PeerError::Rejected { peer: peer_id.short(), why: e.to_string() },
        other => PeerError::Local(other.to_string()),
    })?;
    files.add(&early);
    // Rounds that moved something are worth a line in the box's log; idle ones (every few
    // minutes, and after each local change) only when debugging.
    let summary = format!(
        "sync round: {} operations received, {} sent; {} files received, {} sent; operations in {:.2} s ({} files came meanwhile, until {:.2} s), the rest of the files in {:.2} s",
        counts.ops_received,
        counts.ops_sent,
        files.files_received,
        files.files_sent,
        operations_took.as_secs_f64(),
        early.files_received,
        files_from.as_secs_f64(),
        (started.elapsed() - files_from).as_secs_f64()
    );
    if counts.ops_received + counts.ops_sent + files.files_received + files.files_sent > 0 {
        tracing::info!(peer = %peer_id.short(), "{summary}");
    } else {
        tracing::debug!(peer = %peer_id.short(), "{summary}");
    }
    client.count(files.bytes_sent, files.bytes_received);
    counts.files_sent = files.files_sent;
    counts.files_received = files.files_received;
    counts.bytes_sent = client.bytes_sent();
    counts.bytes_received = client.bytes_received();
    // The address that worked goes first next time.
    let address = client.address().to_string();
    blocking(&store, move |s| {
        s.update_peer(peer_id, |p| {
            p.addresses.retain(|a| *a != address);
            p.addresses.insert(0, address.clone());
            p.status.files_pending = files.files_pending;
        })
        .map_err(PeerError::local)
    })
    .await?;
    Ok(counts)
}

/// Pulls pages of one school until the peer has nothing more for us.
///
/// The next page is asked for while this one is applied, with the positions this one brings
/// us to ([`Positions::advance`](crate::sync::Positions::advance)): the peer reads and sends
/// it while this box writes, instead of each waiting for the other. Should applying fail,
/// the page asked for meanwhile is dropped, and nothing of it was written.
async fn pull(store: &Store, client: &PeerClient, grant: &Grant) -> Result<u64, PeerError> {
    let mut received = 0;
    let school = grant.school;
    let mut ours = blocking(store, move |s| core::positions(s, school).map_err(PeerError::local)).await?;
    let mut page = client.pull(&ours).await?;
    for _ in 0..MAX_PAGES {
        if page.spans.is_empty() {
            // A page with no operations may still say whom this box may give new secrets
            // (a student of ours was given a place in another class, which we never see).
            if page.wholly_inside.is_some() {
                let (g, peer) = (grant.clone(), client.peer());
                blocking(store, move |s| core::apply_page(s, &page, &g).map_err(|e| refused_page(peer, e))).await?;
            }
            return Ok(received);
        }
        let more = page.more;
        ours.advance(&page);
        let (g, peer) = (grant.clone(), client.peer());
        let apply = blocking(store, move |s| core::apply_page(s, &page, &g).map_err(|e| refused_page(peer, e)));
        let (report, next) = if more {
            let (report, next) = tokio::join!(apply, client.pull(&ours));
            (report?, Some(next?))
        } else {
            (apply.await?, None)
        };
        received += report.ops_received as u64;
        for ahead in report.clocks_ahead {
            tracing::warn!(
                peer = %peer.short(),
                "a box's clock is {} s ahead of this one's: its edits were kept, but this box did not jump forward to its time",
                ahead.ahead_ms / 1000
            );
        }
        match next {
            Some(next) => page = next,
            None => return Ok(received),
        }
    }
    Err(PeerError::Protocol { peer: client.peer().short(), why: "it never stopped sending pages".into() })
}

/// What we refused of a peer's page, in plain words.
fn refused_page(peer: BoxId, e: SyncError) -> PeerError {
    match e {
        SyncError::Store(e) => PeerError::local(e),
        e => PeerError::Refusing { peer: peer.short(), why: format!("{e}") },
    }
}

/// Pushes pages of one school until the peer lacks nothing we may give it; then remembers
/// what it holds.
async fn push(store: &Store, client: &PeerClient, grant: &Grant, peer_id: BoxId) -> Result<u64, PeerError> {
    let mut sent = 0;
    let mut before: Option<crate::sync::Positions> = None;
    for _ in 0..MAX_PAGES {
        let theirs = client.positions(grant.school).await?;
        if before.as_ref() == Some(&theirs) {
            // It accepted a page and holds no more than before: sending it again would loop.
            return Err(PeerError::Protocol {
                peer: peer_id.short(),
                why: "it took a page but its positions did not move".into(),
            });
        }
        before = Some(theirs.clone());
        let (g, t) = (grant.clone(), theirs.clone());
        let page = blocking(store, move |s| {
            core::ops_missing(s, &t, &g, Limits::default()).map_err(|e| match e {
                SyncError::Store(e) => PeerError::local(e),
                e => PeerError::Protocol { peer: peer_id.short(), why: e.to_string() },
            })
        })
        .await?;
        if page.spans.is_empty() {
            blocking(store, move |s| {
                s.write(|tx| crate::store::peers::put_peer_positions(tx.txn(), peer_id, &theirs))
                    .map_err(PeerError::local)
            })
            .await?;
            return Ok(sent);
        }
        sent += client.push(&page).await?;
    }
    Err(PeerError::Protocol { peer: client.peer().short(), why: "it never caught up".into() })
}

/// Adds a round's outcome to the peer's status (if it is still paired).
async fn record(folio: &Folio, peer_id: BoxId, outcome: &Result<SyncCounts, PeerError>) {
    let now = wall_clock_ms();
    let kept = outcome.clone();
    let result = blocking(&folio.store, move |s| {
        s.update_peer(peer_id, |p| match &kept {
            Ok(c) => {
                let st = &mut p.status;
                st.last_sync_ms = Some(now);
                st.last_error = None;
                st.ops_sent += c.ops_sent;
                st.ops_received += c.ops_received;
                st.bytes_sent += c.bytes_sent;
                st.bytes_received += c.bytes_received;
                st.files_sent += c.files_sent;
                st.files_received += c.files_received;
            }
            Err(e) => p.status.last_error = Some(e.to_string()),
        })
        .map_err(PeerError::local)
    })
    .await;
    if let Err(e) = result {
        tracing::warn!("could not record how syncing with box {} went: {e}", peer_id.short());
    }
    if let Err(e) = outcome {
        tracing::info!(peer = %peer_id.short(), "sync did not finish: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_covers_either_box_s_schools_within_the_scope() {
        let (a, b, c) = (SchoolId::new(), SchoolId::new(), SchoolId::new());
        let whole = schools_to_sync(vec![a], vec![b], &PeerScope::WholeSchools);
        assert_eq!(whole.len(), 2);
        let class = crate::domain::ClassId::new();
        let narrow = schools_to_sync(vec![a, c], vec![b], &PeerScope::Classes([(a, class)].into()));
        assert_eq!(narrow, vec![a]);
    }
}
