//! Applying a page: every operation and the positions it brings, in one write transaction,
//! after checking that the sender kept to its grant. A page that breaks a rule is refused
//! whole and changes nothing; a page applied twice changes nothing the second time.
//!
//! The check is a read pass over the *whole* page against this box's rows as they stand
//! before the page ([`judge`]), and only then are operations applied. Checking each operation
//! after the earlier ones were applied let a page judge itself: enrol a person of another
//! class, then act on them as if they had always been inside the grant. Keep every rule in
//! `judge` (or in `grant`, which it calls), never in the applying loop.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::SyncError;
use super::wire::{Page, Span};
use crate::domain::partition::{self, Rule};
use crate::domain::{Op, ReplicaId, Scope};
use crate::store::grant::{Admitted, Grant, OfferedBy, Reach, class_peer_may};
use crate::store::{Queries, Received, Store, SyncReads, Tx};

/// What applying a page did, for the admin page and the sync log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Operations new to this box (applied, waiting for their record, or refused as erased).
    pub ops_received: usize,
    /// Operations this box already had (a repeated page, or one that came another way).
    pub ops_already_here: usize,
    /// New operations waiting for a record that has not arrived yet.
    pub ops_waiting: usize,
    /// New operations about erased people, stored emptied.
    pub ops_refused_erased: usize,
    /// Boxes whose clocks are ahead of ours by more than folio adopts: their operations are
    /// stored and merged by their own clocks, but ours did not jump forward to them.
    pub clocks_ahead: Vec<ClockAhead>,
}

/// "Box `origin`'s clock is ahead of ours by `ahead_ms`" (the most seen in this page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClockAhead {
    pub origin: ReplicaId,
    pub ahead_ms: u64,
}

/// Applies a page sent under `grant` (the grant this box gave the sender: what it may send).
pub fn apply_page(store: &Store, page: &Page, grant: &Grant) -> Result<ApplyReport, SyncError> {
    store.write(|tx| apply_in(tx, page, grant))
}

fn apply_in(tx: &mut Tx, page: &Page, grant: &Grant) -> Result<ApplyReport, SyncError> {
    judge(tx, page, grant)?;
    let mut report = ApplyReport::default();
    let mut ahead: BTreeMap<ReplicaId, u64> = BTreeMap::new();
    for op in &page.ops {
        match tx.receive(op)? {
            Received::AlreadyHere => {
                report.ops_already_here += 1;
                continue;
            }
            Received::Applied => {}
            Received::Waiting => report.ops_waiting += 1,
            Received::RefusedErased => report.ops_refused_erased += 1,
            // Checked before for targets this box has; one that arrived later and turned
            // out to be in another partition is logged but never applied.
            Received::Misfiled => {}
        }
        report.ops_received += 1;
        if let Err(too_far) = tx.observe_clock(op.hlc)? {
            let worst = ahead.entry(op.id.replica).or_default();
            *worst = (*worst).max(too_far.ahead_ms);
        }
    }
    for span in &page.spans {
        tx.advance_position(page.school, span.partition, span.origin, span.through)?;
    }
    // Who this box may give new secrets, from the box holding the school (and only from it:
    // a peer we offered classes has no say in it).
    if let Some(students) = &page.wholly_inside
        && grant.offered_by == OfferedBy::Peer
        && matches!(grant.reach, Reach::Classes(_))
        && crate::store::peers::wholly_inside(tx.txn(), page.school)? != *students
    {
        crate::store::peers::put_wholly_inside(tx.txn(), page.school, students)?;
    }
    report.clocks_ahead = ahead.into_iter().map(|(origin, ahead_ms)| ClockAhead { origin, ahead_ms }).collect();
    Ok(report)
}

/// Every rule of the page, judged on this box's rows before any of it is applied: nothing
/// here writes, so what an earlier operation of the page would change cannot vouch for a
/// later one.
fn judge(tx: &Tx, page: &Page, grant: &Grant) -> Result<(), SyncError> {
    if page.school != grant.school {
        return Err(SyncError::WrongSchool);
    }
    let me = tx.replica();
    let admitted = grant.admitted(tx.txn(), &page.ops)?;
    let mut spans: HashMap<(Scope, ReplicaId), &Span> = HashMap::new();
    for span in &page.spans {
        if span.origin == me {
            return Err(SyncError::ForgedOrigin);
        }
        if span.after > span.through || spans.insert((span.partition, span.origin), span).is_some() {
            return Err(SyncError::Malformed("a page names the same run twice, or one that ends before it starts"));
        }
        let have = tx.txn().position(page.school, span.partition, span.origin)?;
        if span.after > have {
            // The sender thinks we have more than we do: applying this would leave a hole.
            return Err(SyncError::Gap { partition: span.partition, origin: span.origin, have, after: span.after });
        }
    }
    // Operations first, so a refusal names the operation; then runs that bring none.
    for op in &page.ops {
        check(tx, page, grant, &admitted, &spans, op)?;
    }
    for span in &page.spans {
        if !grant.allows_in(tx.txn(), span.partition, &admitted)? {
            return Err(SyncError::OutsideGrant { partition: span.partition, op: None });
        }
    }
    // A run moves this box's position for its origin. From a peer held to its grant, a run
    // must end at an operation the page carries: otherwise a class box could declare, with
    // no operations, that we already hold another box's later operations (its erasures, the
    // school's settings) and we would never ask for them. An honest sender's run always ends
    // at its last operation in that partition (`produce::ops_missing`).
    if grant.limits_sender() {
        for span in &page.spans {
            let carried = page
                .ops
                .iter()
                .filter(|op| op.scope == span.partition && op.id.replica == span.origin)
                .map(|op| op.id.seq)
                .max();
            if span.through > span.after && carried != Some(span.through) {
                return Err(SyncError::Malformed(
                    "a run from a box offered some classes ends past the operations its page carries",
                ));
            }
        }
    }
    Ok(())
}

/// The rules a received operation must keep before it touches anything.
fn check(
    tx: &Tx,
    page: &Page,
    grant: &Grant,
    admitted: &Admitted,
    spans: &HashMap<(Scope, ReplicaId), &Span>,
    op: &Op,
) -> Result<(), SyncError> {
    if op.id.replica == tx.replica() {
        // Only this box writes as this box: anything else claiming to is forged (or a copy
        // of our data directory that kept our id).
        return Err(SyncError::ForgedOrigin);
    }
    if op.school != page.school {
        return Err(SyncError::WrongSchool);
    }
    match spans.get(&(op.scope, op.id.replica)) {
        Some(span) if span.after < op.id.seq && op.id.seq <= span.through => {}
        _ => return Err(SyncError::Malformed("an operation lies outside the runs its page declares")),
    }
    if !grant.allows_in(tx.txn(), op.scope, admitted)? {
        return Err(SyncError::OutsideGrant { partition: op.scope, op: Some((op.id, op.change.kind())) });
    }
    let belongs = match partition::rule(&op.change) {
        Rule::Is(scope) => Some(scope),
        Rule::OfArtifact(artifact) => tx.txn().artifact(artifact)?.map(|a| a.partition()),
        Rule::Unchecked => None,
    };
    if let Some(belongs) = belongs
        && belongs != op.scope
    {
        return Err(SyncError::Misfiled { op: op.id, claimed: op.scope, belongs });
    }
    let own_school = match &op.change {
        crate::domain::Change::ArtifactCreated { artifact } => artifact.school == op.school,
        crate::domain::Change::ActivityCreated { activity } => activity.school == op.school,
        crate::domain::Change::ActivityEdited { activity, .. } => {
            tx.txn().activity(*activity)?.is_none_or(|a| a.school == op.school)
        }
        change => match change.artifact() {
            Some(id) => tx.txn().artifact(id)?.is_none_or(|a| a.school == op.school),
            None => true,
        },
    };
    if !own_school {
        return Err(SyncError::WrongSchool);
    }
    // A peer offered only some classes acts only inside them (`grant::class_peer_may`). An
    // operation this box already holds changes nothing (`Tx::receive` checks it is the
    // same), so a page repeated after the rows moved on is not refused for it.
    if grant.limits_sender()
        && tx.txn().logged(op.id)?.is_none()
        && let Some(why) = class_peer_may(tx.txn(), grant, admitted, op)?
    {
        return Err(SyncError::NotAllowed { op: op.id, kind: op.change.kind(), why });
    }
    Ok(())
}
