//! Producing a page: the operations a peer lacks, by comparing its positions with ours, in
//! one read transaction (a consistent snapshot; writers go on meanwhile).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::SyncError;
use super::wire::{Limits, Page, Positions, Span};
use crate::domain::{Op, ReplicaId, Scope};
use crate::store::grant::Grant;
use crate::store::{Store, SyncReads};

/// What this box has of a school, to send to a peer that will answer with a page.
pub fn positions(store: &Store, school: crate::domain::SchoolId) -> Result<Positions, SyncError> {
    let have = store.read(|r| r.positions(school))?;
    Ok(Positions {
        school,
        replica: store.replica(),
        have: have
            .into_iter()
            .map(|(partition, origin, seq)| super::wire::Position { partition, origin, seq })
            .collect(),
    })
}

/// One origin's missing operations in one partition, oldest first.
struct Run {
    origin: ReplicaId,
    after: u64,
    through: u64,
    ops: Vec<(Op, usize)>,
    taken: usize,
    /// Whether `ops` holds every missing operation (it was not cut by the read limit).
    whole: bool,
}

/// The next page of operations `peer` lacks and `grant` lets it have.
pub fn ops_missing(store: &Store, peer: &Positions, grant: &Grant, limits: Limits) -> Result<Page, SyncError> {
    if peer.school != grant.school {
        return Err(SyncError::WrongSchool);
    }
    let school = grant.school;
    let theirs: HashMap<(Scope, ReplicaId), u64> = peer.have.iter().map(|p| ((p.partition, p.origin), p.seq)).collect();
    let max_ops = limits.max_ops.max(1);
    store.read(|r| {
        let mut page = Page { school, spans: Vec::new(), ops: Vec::new(), more: false, wholly_inside: None };
        let mut bytes = 0usize;
        for partition in grant.partitions(r)? {
            let mut runs = Vec::new();
            for (origin, ours) in r.positions_in(school, partition)? {
                // A peer is never sent its own operations: it has them all.
                if origin == peer.replica {
                    continue;
                }
                let after = theirs.get(&(partition, origin)).copied().unwrap_or(0);
                if ours <= after {
                    continue;
                }
                let room = max_ops - page.ops.len();
                let ops = r.logged_in(school, partition, origin, after, ours, room + 1)?;
                let whole = ops.len() <= room;
                runs.push(Run { origin, after, through: ours, ops, taken: 0, whole });
            }
            // Merge the runs by clock: each run is taken in sequence order, so what a page
            // takes of each is a prefix.
            let mut heads: BinaryHeap<Reverse<(crate::domain::Hlc, usize)>> = BinaryHeap::new();
            for (i, run) in runs.iter().enumerate() {
                if let Some((op, _)) = run.ops.first() {
                    heads.push(Reverse((op.hlc, i)));
                }
            }
            let mut full = false;
            while let Some(Reverse((_, i))) = heads.pop() {
                let run = &mut runs[i];
                let (op, size) = &run.ops[run.taken];
                let fits = page.ops.len() < max_ops && (page.ops.is_empty() || bytes + size <= limits.max_bytes);
                if !fits {
                    full = true;
                    break;
                }
                bytes += size;
                page.ops.push(op.clone());
                run.taken += 1;
                if let Some((next, _)) = run.ops.get(run.taken) {
                    heads.push(Reverse((next.hlc, i)));
                }
            }
            for run in &runs {
                let done = run.whole && run.taken == run.ops.len();
                let through = if done {
                    run.through
                } else if run.taken > 0 {
                    run.ops[run.taken - 1].0.id.seq
                } else {
                    continue;
                };
                page.spans.push(Span { partition, origin: run.origin, after: run.after, through });
                if !done {
                    full = true;
                }
            }
            if full {
                page.more = true;
                break;
            }
        }
        // Whom the peer may give new secrets, on the same snapshot as the operations.
        if grant.limits_sender() {
            page.wholly_inside = Some(crate::store::grant::wholly_inside_students(r, grant)?);
        }
        Ok(page)
    })
}
