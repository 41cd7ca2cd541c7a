//! The boxes this box is paired with, its open invitations, and what each peer last said it
//! holds. All local to this box (never operations): a pairing is between two boxes, and
//! each keeps its own half.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::tables::{INVITE_SECRET_HASH_TO_INVITE, PEER_ID_TO_PEER, PEER_SCHOOL_TO_POSITIONS, SCHOOL_TO_WHOLLY_INSIDE};
use super::{ReadTables, Store, StoreError};
use std::collections::BTreeSet;

use crate::domain::peer::{BoxId, OfferedBy, Peer, PeerScope, Positions};
use crate::domain::{Change, ClassId, ReplicaId, SchoolId, Scope, UserId};
use crate::store::{Queries, SyncReads};

/// An invitation this box made and has not seen used (stored under the hash of its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// What the inviting admin offered; `None`: whatever the joining admin asks for.
    pub scope: Option<PeerScope>,
    pub expires_ms: u64,
    pub made_ms: u64,
}

/// What became of an invitation presented to this box.
#[derive(Debug, PartialEq, Eq)]
pub enum InviteUse {
    Taken(Invite),
    /// Used already, never made here, or made and removed: the same answer for all three.
    Unknown,
    Expired,
}

pub fn peers(r: &impl ReadTables) -> Result<Vec<Peer>, StoreError> {
    let table = r.table(PEER_ID_TO_PEER)?;
    let mut all = Vec::new();
    for row in table.iter()? {
        all.push(decode(row?.1.value())?);
    }
    Ok(all)
}

pub fn peer(r: &impl ReadTables, id: BoxId) -> Result<Option<Peer>, StoreError> {
    r.table(PEER_ID_TO_PEER)?.get(id.0)?.map(|v| decode(v.value())).transpose()
}

pub fn put_peer(txn: &WriteTransaction, peer: &Peer) -> Result<(), StoreError> {
    txn.open_table(PEER_ID_TO_PEER)?.insert(peer.id.0, encode(peer).as_slice())?;
    Ok(())
}

/// Forgets a peer and what it last said it holds. Returns whether it was paired.
pub fn remove_peer(txn: &WriteTransaction, id: BoxId) -> Result<bool, StoreError> {
    let was = txn.open_table(PEER_ID_TO_PEER)?.remove(id.0)?.is_some();
    let mut positions = txn.open_table(PEER_SCHOOL_TO_POSITIONS)?;
    positions.retain(|(peer, _), _| peer != id.0)?;
    Ok(was)
}

/// Works out, once, which side offered each class pairing made before a pairing kept it.
///
/// Such a record reads as `OfferedBy::Us` on *both* boxes (the default), so each holds the
/// other to the class grant: the class box refuses the school's pages that bring new people,
/// and sync is wedged both ways. Run at every open, in the opening transaction, it rewrites
/// only records that do not say (a record written since always does, so it runs once per
/// record): the box that holds the school offered the classes ([`held_school_before_pairing`]),
/// the other joined. At open rather than lazily when a record is read, because most readers
/// of the peers table are read transactions that could not write the fix, and because the
/// class box's own limit (`sync::joined_class_limit`) must see the right direction from the
/// first change made after the upgrade.
pub(super) fn settle_old_directions(txn: &WriteTransaction, me: ReplicaId) -> Result<(), StoreError> {
    let mut settled = Vec::new();
    for row in txn.open_table(PEER_ID_TO_PEER)?.iter()? {
        let (_, value) = row?;
        let raw: serde_json::Value = decode(value.value())?;
        if raw.get("offered_by").is_some() {
            continue;
        }
        let mut peer: Peer = decode(value.value())?;
        if let PeerScope::Classes(classes) = &peer.scope {
            let schools: BTreeSet<SchoolId> = classes.iter().map(|(school, _)| *school).collect();
            let mut held = true;
            for school in schools {
                held &= held_school_before_pairing(txn, school, classes, me)?;
            }
            peer.offered_by = if held { OfferedBy::Us } else { OfferedBy::Peer };
            tracing::info!(peer = %peer.id.short(), offered_by = ?peer.offered_by, "worked out which box offered an old class pairing");
        }
        settled.push(peer);
    }
    for peer in &settled {
        put_peer(txn, peer)?;
    }
    Ok(())
}

/// Whether this box holds `school` as the box that offers its classes `granted` would: it
/// logged the school's creation with its own replica id, or it holds more of the school than
/// those classes and their people (another class, or a person with no place in them, as
/// the admin who set the school up always is), which a box offered only them never receives.
fn held_school_before_pairing(
    r: &impl ReadTables,
    school: SchoolId,
    granted: &BTreeSet<(SchoolId, ClassId)>,
    me: ReplicaId,
) -> Result<bool, StoreError> {
    if r.school(school)?.is_none() {
        return Ok(false);
    }
    let mine = r.position(school, Scope::School, me)?;
    if r.logged_in(school, Scope::School, me, 0, mine, usize::MAX)?
        .iter()
        .any(|(op, _)| matches!(op.change, Change::SchoolCreated { .. }))
    {
        return Ok(true);
    }
    let classes: BTreeSet<ClassId> = granted.iter().filter(|(s, _)| *s == school).map(|(_, c)| *c).collect();
    if r.classes_in_school(school)?.iter().any(|class| !classes.contains(&class.id)) {
        return Ok(true);
    }
    let mut people = BTreeSet::new();
    for class in &classes {
        people.extend(r.people_of_class(*class)?);
    }
    Ok(r.users_in_school(school)?.iter().any(|user| !people.contains(&user.id)))
}

pub fn put_invite(txn: &WriteTransaction, secret_hash: [u8; 32], invite: &Invite) -> Result<(), StoreError> {
    txn.open_table(INVITE_SECRET_HASH_TO_INVITE)?.insert(secret_hash, encode(invite).as_slice())?;
    Ok(())
}

/// Takes an invitation out (it is used at most once), dropping every expired one on the way.
pub fn take_invite(txn: &WriteTransaction, secret_hash: [u8; 32], now_ms: u64) -> Result<InviteUse, StoreError> {
    let mut table = txn.open_table(INVITE_SECRET_HASH_TO_INVITE)?;
    let found = table.remove(secret_hash)?.map(|v| decode::<Invite>(v.value())).transpose()?;
    table.retain(|_, v| decode::<Invite>(v).is_ok_and(|i| i.expires_ms > now_ms))?;
    Ok(match found {
        None => InviteUse::Unknown,
        Some(invite) if invite.expires_ms <= now_ms => InviteUse::Expired,
        Some(invite) => InviteUse::Taken(invite),
    })
}

/// What `peer` last said it holds of `school` (for USB bundles: only what it lacks).
pub fn peer_positions(r: &impl ReadTables, peer: BoxId, school: SchoolId) -> Result<Option<Positions>, StoreError> {
    r.table(PEER_SCHOOL_TO_POSITIONS)?.get((peer.0, school.bytes()))?.map(|v| decode(v.value())).transpose()
}

pub fn put_peer_positions(txn: &WriteTransaction, peer: BoxId, positions: &Positions) -> Result<(), StoreError> {
    txn.open_table(PEER_SCHOOL_TO_POSITIONS)?
        .insert((peer.0, positions.school.bytes()), encode(positions).as_slice())?;
    Ok(())
}

/// The students the box holding `school` last said are in this box's classes alone (empty
/// until it has said: then this box gives nobody a new secret).
pub fn wholly_inside(r: &impl ReadTables, school: SchoolId) -> Result<BTreeSet<UserId>, StoreError> {
    Ok(r.table(SCHOOL_TO_WHOLLY_INSIDE)?
        .get(school.bytes())?
        .map(|v| decode(v.value()))
        .transpose()?
        .unwrap_or_default())
}

pub fn put_wholly_inside(
    txn: &WriteTransaction,
    school: SchoolId,
    students: &BTreeSet<UserId>,
) -> Result<(), StoreError> {
    txn.open_table(SCHOOL_TO_WHOLLY_INSIDE)?.insert(school.bytes(), encode(students).as_slice())?;
    Ok(())
}

impl Store {
    pub fn peers(&self) -> Result<Vec<Peer>, StoreError> {
        self.read(peers)
    }

    pub fn peer(&self, id: BoxId) -> Result<Option<Peer>, StoreError> {
        self.read(|r| peer(r, id))
    }

    /// Changes a stored peer in one transaction; nothing if it is no longer paired.
    pub fn update_peer(&self, id: BoxId, f: impl Fn(&mut Peer)) -> Result<Option<Peer>, StoreError> {
        self.write(|tx| {
            let Some(mut found) = peer(tx.txn(), id)? else {
                return Ok(None);
            };
            f(&mut found);
            put_peer(tx.txn(), &found)?;
            Ok(Some(found))
        })
    }
}
