//! Box-to-box replication of the op log, independent of how the bytes travel (HTTPS between
//! paired boxes, or a USB bundle: both to come).
//!
//! # The model
//!
//! Every change is an operation with an origin (the replica that made it), a sequence number
//! there, a hybrid-logical-clock timestamp, a school and a *partition* of it (`Scope`: the
//! school, a class, or a person; `domain::partition` says which). Operations never change
//! when they are forwarded: A → B → C delivers A's operation to C with A's origin, sequence
//! and clock, also when B holds it only because B was granted less than C.
//!
//! Each box keeps a *position* per (school, partition, origin): it holds every operation that
//! origin made in that partition up to that sequence. A sync round is a diff of positions:
//!
//! 1. The receiver sends its [`Positions`] for a school ([`positions`]).
//! 2. The sender answers with a [`Page`] ([`ops_missing`]): for each partition the grant
//!    covers and each origin, the operations past the receiver's position, at most 500
//!    operations or 4 MiB, with the [`Span`]s saying which runs they complete.
//! 3. The receiver applies the page ([`apply_page`]): operations and new positions in one
//!    redb transaction, so an interrupted sync resumes where it stopped and a repeated page
//!    changes nothing. While `more` is set it asks again.
//!
//! Both boxes do this in each direction.
//!
//! # What a page may not do
//!
//! The receiver checks every page against the grant it gave the sender ([`Grant`]; see
//! `grant` for exactly what a class grant holds) and refuses it whole, changing nothing, if:
//! an operation lies in a partition outside the grant or in another school; an operation's
//! partition is not the one its target is in (an edit of class Y's work dressed up as class
//! X's); a peer that was offered only some classes sends a kind of change that is not its to
//! make (an account, a role, someone else's secret, a family link, an erasure, the school's
//! settings, or a place for someone who was not in its classes: `grant::class_peer_may`,
//! one exhaustive match over every kind of change); an operation or span claims the
//! receiver itself as origin (only it writes as itself); a span starts past the receiver's
//! position (a gap: the page was made for positions the receiver does not have, so applying
//! it would leave a hole; the receiver asks again with its real positions); or two
//! different operations claim one origin and sequence (two boxes writing as one replica).
//! The refusal names the operation (origin, sequence, kind) and why.
//!
//! All of it is judged on the receiver's rows as they stood *before* the page, for the whole
//! page, before any operation is applied (`receive`): a page cannot enrol a person and then
//! act on them as if they had been inside the grant. A class grant has a direction: the box
//! that offered the classes (the inviter) holds the school, and its pages may bring new
//! people into them; the box that was offered them acts only inside them. USB bundles are
//! applied through [`apply_page`] under the pairing's grant, so they pass the same checks.

//! # Merging
//!
//! Operations are applied through `store::apply`, the same path local ones take, whose laws
//! (idempotent, order-independent, deletes and erasures final) make every box that holds
//! the same operations hold the same rows. An operation that arrives before the record it
//! changes waits for it. Erased people's operations travel emptied (`Change::Redacted`),
//! keeping their place so positions line up; the erasure itself travels in the school's
//! partition, so it reaches every box holding anything of the person.
//!
//! # Clocks
//!
//! A received clock more than five minutes ahead of ours (our wall clock, or the last clock
//! we issued or adopted, whichever is later) is not adopted: the operation is stored and
//! merged by its own clock, but our next edits are not stamped in its future, and the page's
//! [`ApplyReport`] says whose clock is ahead and by how much. So a box whose clock says 2038
//! cannot drag other boxes' edits into 2038; its own edits do win until its clock is set
//! right (the admin page shows why). A box whose clock says 1970 never stamps an edit below
//! the highest clock it has issued or adopted, so it cannot reorder edits it has seen
//! either; if it never learned the time (a new box with no clock), its edits lose to every
//! edit made elsewhere, and the report shows every peer "ahead" by decades.

mod produce;
mod receive;
mod wire;

pub use crate::store::grant::{
    Admitted, Grant, OfferedBy, PairingSide, Reach, class_pairing_refusal, class_peer_may, holds_whole_school,
    joined_class_limit,
};
pub use produce::{ops_missing, positions};
pub use receive::{ApplyReport, ClockAhead, apply_page};
pub use wire::{Limits, Page, Position, Positions, Span};

use crate::domain::{OpId, ReplicaId, Scope};
use crate::store::StoreError;

/// Why a page was refused (nothing of it was applied), or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the page is for another school than the one this box shares with that peer")]
    WrongSchool,
    #[error("the peer sent data it was not granted ({partition:?}{}); nothing of the page was kept",
        op.map(|(op, kind)| format!(": operation {} of {} ({kind})", op.seq, op.replica)).unwrap_or_default())]
    OutsideGrant { partition: Scope, op: Option<(OpId, &'static str)> },
    #[error("the peer sent operations claiming to come from this box itself; nothing of the page was kept")]
    ForgedOrigin,
    #[error(
        "operation {op:?} claims partition {claimed:?} but what it changes is in {belongs:?}; nothing of the page was kept"
    )]
    Misfiled { op: OpId, claimed: Scope, belongs: Scope },
    #[error(
        "operation {} of {} ({kind}) is not the peer's to send: {why}; nothing of the page was kept", op.seq, op.replica
    )]
    NotAllowed { op: OpId, kind: &'static str, why: &'static str },
    #[error(
        "the page starts after operation {after} of {origin} in {partition:?}, but this box has only up to {have}: ask again"
    )]
    Gap { partition: Scope, origin: ReplicaId, have: u64, after: u64 },
    #[error("the page is malformed: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests;
