//! What boxes say to each other, as serde types. The transport (HTTPS between paired boxes, or
//! a USB bundle) decides the encoding; these are the contents.

use serde::{Deserialize, Serialize};

pub use crate::domain::peer::{Position, Positions};
use crate::domain::{Op, ReplicaId, SchoolId, Scope};

/// A run of one origin's operations in one partition that a page brings: every operation
/// with sequence in (`after`, `through`] that the origin made in that partition. `after` is
/// the receiver's position the sender started from; `through` is where the page brings it.
/// A span may carry no operations at all: then it only moves the position (the origin's
/// operations in that range were all in other partitions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub partition: Scope,
    pub origin: ReplicaId,
    pub after: u64,
    pub through: u64,
}

/// A page of operations one box sends another: at most [`Limits`] operations and bytes.
/// Partitions come in order (school, classes, people); within one, operations come oldest
/// clock first, so most arrive after what they build on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub school: SchoolId,
    pub spans: Vec<Span>,
    pub ops: Vec<Op>,
    /// The sender had more to send than fitted: ask again with the new positions.
    pub more: bool,
}

impl Page {
    /// The positions this page brings its receiver to.
    pub fn positions_after(&self) -> Vec<Position> {
        self.spans.iter().map(|s| Position { partition: s.partition, origin: s.origin, seq: s.through }).collect()
    }
}

impl Positions {
    /// Moves these positions past what `page` brings, as applying it moves the receiver's
    /// (`apply_page` advances each span's run to its end): so the page after it can be
    /// asked for before it is applied, and a sender can say how far a page took the peer.
    pub fn advance(&mut self, page: &Page) {
        for reached in page.positions_after() {
            match self.have.iter_mut().find(|p| p.partition == reached.partition && p.origin == reached.origin) {
                Some(p) => p.seq = p.seq.max(reached.seq),
                None => self.have.push(reached),
            }
        }
    }
}

/// How big a page may be: whichever limit comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_ops: usize,
    /// Encoded size of the operations; a single operation larger than this still goes alone.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_ops: 500, max_bytes: 4 * 1024 * 1024 }
    }
}
