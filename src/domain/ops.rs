//! Operations: every change to shared data, as it is written to the op log and (later)
//! replayed on other boxes. The store applies an `Op` the same way whether it was made here
//! or arrived from a peer, so a change made through the API and the same change replayed by
//! sync always produce the same rows.

use serde::{Deserialize, Serialize};

use super::{ClassId, Hlc, ReplicaId, Role, SchoolId, UserId};

/// Where an operation came from: the replica that made it and its sequence number there.
/// Sequence numbers start at 1 and grow by one per operation on each replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId {
    pub replica: ReplicaId,
    pub seq: u64,
}

/// Which partition of a school an operation belongs to, so a peer can be granted part of a
/// school and receive nothing outside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Scope {
    School,
    Class(ClassId),
    Student(UserId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub hlc: Hlc,
    pub school: SchoolId,
    pub scope: Scope,
    /// Who made the change; `None` for changes folio makes itself (first-run setup).
    pub author: Option<UserId>,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    SchoolCreated { name: String },
    UserCreated { user: UserId, username: String, display_name: String, role: Role, external_id: Option<String> },
    UserRenamed { user: UserId, display_name: String },
    UserDisabled { user: UserId, disabled: bool },
    PasswordSet { user: UserId, hash: String },
    PicturesSet { user: UserId, hash: String },
    QrCardIssued { user: UserId, token_hash: String },
    ClassCreated { class: ClassId, name: String, join_code: String, external_id: Option<String> },
    MemberAdded { class: ClassId, user: UserId, role: Role },
    MemberRemoved { class: ClassId, user: UserId },
}
