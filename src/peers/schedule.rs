//! When sync rounds run, besides on demand: every [`Net::sync_every`] with every paired box,
//! half a second after this box's data changes (so new work reaches the other boxes soon,
//! and what arrived from one box goes on to the next), and when discovery sees a paired box
//! at an address ([`nudge`]). Rounds with one peer never overlap (`sync::with_peer`); their
//! failures go into the peer's status, never out of this task.

use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::{BoxId, Net};
use crate::app::Folio;

/// How long after a change the round starts: work saved in a burst (a class uploading)
/// goes in a few rounds rather than one round per upload, and new work still reaches the
/// other boxes within about a second. A round with nothing to send costs a few
/// milliseconds, so two a second during a busy lesson are cheap.
pub const AFTER_CHANGES: Duration = Duration::from_millis(500);

/// Asks for a round with `peer` soon (discovery saw it, or its address changed).
pub fn nudge(net: &Net, peer: BoxId) {
    // The receiver lives as long as the scheduler; without it there is no one to ask.
    let _ = net.nudges.send(peer);
}

/// Starts the scheduler. Stopping it (abort) stops the rounds it started.
pub fn spawn(folio: Folio) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(mut nudged) = folio.net.take_nudges() else {
            tracing::warn!("the sync scheduler was started twice; the second does nothing");
            return;
        };
        let mut commits = folio.store.commits();
        let mut tick = tokio::time::interval(folio.net.sync_every.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rounds = JoinSet::new();
        let mut due: Option<Instant> = None;
        loop {
            let at = due;
            let wait = async move {
                match at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tick.tick() => all(&folio, &mut rounds).await,
                changed = commits.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // The first change not yet synced sets the time; later ones ride along.
                    due.get_or_insert_with(|| Instant::now() + AFTER_CHANGES);
                }
                () = wait => {
                    due = None;
                    all(&folio, &mut rounds).await;
                }
                Some(peer) = nudged.recv() => one(&folio, &mut rounds, peer),
                Some(_) = rounds.join_next(), if !rounds.is_empty() => {}
            }
        }
    })
}

async fn all(folio: &Folio, rounds: &mut JoinSet<()>) {
    let peers = folio.db(|store| Ok(store.peers()?)).await;
    match peers {
        Ok(peers) => {
            for peer in peers {
                one(folio, rounds, peer.id);
            }
        }
        Err(e) => tracing::warn!("cannot read the paired boxes to sync with them: {e}"),
    }
}

fn one(folio: &Folio, rounds: &mut JoinSet<()>, peer: BoxId) {
    let folio = folio.clone();
    rounds.spawn(async move {
        // The outcome is in the peer's status; a peer unpaired meanwhile is simply skipped.
        let _ = super::sync::with_peer(&folio, peer).await;
    });
}
