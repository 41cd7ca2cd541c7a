//! Other boxes, as values: a box's id, a pairing with another box (what the two share, which
//! side offered it, how syncing has gone), and how far a box holds a school's operations
//! (its positions). The peers and sync modules act on them; the store keeps them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ClassId, ReplicaId, SchoolId, Scope};

/// SHA-256 of a box's certificate: who a box is, to other boxes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct BoxId(pub [u8; 32]);

impl BoxId {
    pub fn of_certificate(der: &[u8]) -> BoxId {
        BoxId(ring::digest::digest(&ring::digest::SHA256, der).as_ref().try_into().expect("SHA-256 is 32 bytes"))
    }

    /// The first 12 hex digits: what mDNS announces and people read on screens. Only a hint;
    /// a connection is checked against the whole id.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl fmt::Display for BoxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BoxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoxId({})", self.short())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a box id: expected 64 hex digits")]
pub struct NotABoxId;

impl FromStr for BoxId {
    type Err = NotABoxId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NotABoxId);
        }
        let mut id = [0u8; 32];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| NotABoxId)?;
        }
        Ok(BoxId(id))
    }
}

impl From<BoxId> for String {
    fn from(id: BoxId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for BoxId {
    type Error = NotABoxId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A box this box is paired with (local to this box; stored in `PEER_ID_TO_PEER`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub id: BoxId,
    /// The certificate whose SHA-256 is `id`: checks its bundles' signatures.
    pub cert_der: Vec<u8>,
    /// What the two boxes share, both ways.
    pub scope: PeerScope,
    /// Which box offered the scope (made the invitation): for a class scope, whether the
    /// peer acts only inside it (`Us`: we offered it; the default, also for records made
    /// before this was kept) or holds the school (`Peer`: we joined its invitation). See
    /// `sync::grant`.
    #[serde(default)]
    pub offered_by: OfferedBy,
    /// Where its peer port was last reached or announced ("host:port"), newest first.
    pub addresses: Vec<String>,
    pub paired_ms: u64,
    #[serde(default)]
    pub status: PeerStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "classes", rename_all = "snake_case")]
pub enum PeerScope {
    /// Every school either box holds, whole.
    WholeSchools,
    /// Only these classes (with their people; see `sync::grant`).
    Classes(BTreeSet<(SchoolId, ClassId)>),
}

/// How syncing with a peer has gone, for the admin page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    pub last_sync_ms: Option<u64>,
    /// The last attempt's failure in plain words; `None` once a sync succeeds.
    pub last_error: Option<String>,
    pub ops_sent: u64,
    pub ops_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub files_sent: u64,
    pub files_received: u64,
    /// Files named by operations that have not arrived yet.
    pub files_pending: u64,
}

/// Which box of a pairing offered its classes (made the invitation the other joined).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferedBy {
    /// This box offered them: the peer acts only inside them (`sync::grant::class_peer_may`). The
    /// default, so a record that does not say is held to its grant.
    #[default]
    Us,
    /// The peer offered them (this box joined its invitation): it holds the school, and what
    /// it sends within the granted partitions is the school's word.
    Peer,
}

/// What a box has of one school: per partition and origin, the highest sequence up to which
/// it holds every operation. Sent by the box that wants operations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    pub school: SchoolId,
    /// The box asking, so the sender does not offer it its own operations.
    pub replica: ReplicaId,
    pub have: Vec<Position>,
}

/// "I hold every operation `origin` made in `partition` up to `seq`."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub partition: Scope,
    pub origin: ReplicaId,
    pub seq: u64,
}
