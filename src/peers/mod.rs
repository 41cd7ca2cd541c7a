//! Other folio boxes: who they are, pairing with them, and syncing with them over the LAN
//! (mutual TLS) or by USB bundle. The replication itself (positions, pages, grants, merging)
//! is `crate::sync`; this module is how boxes find, trust and reach each other.
//!
//! # Identity
//!
//! Each box has a key pair and a self-signed certificate ([`identity`]); its [`BoxId`] is the
//! SHA-256 of that certificate. Nothing else makes a box trusted: not its mDNS name, not its
//! address, not a school name it claims.
//!
//! # Pairing
//!
//! The admin of box B makes an *invitation*: a token holding B's addresses, B's id and a
//! one-time secret (and the scope B offers). The admin of box A enters the token on A; A
//! connects to B over mutual TLS, checks that B's certificate hashes to the id in the token,
//! and presents the secret; B checks the secret (once, before it expires), takes A's id from
//! A's client certificate, and both boxes record the other as a [`Peer`], pinned by id, with
//! the scope they share. Unpairing removes the record: the next connection is refused.
//!
//! # Scope
//!
//! A pairing shares the same scope both ways: every school each box holds, whole, or chosen
//! classes. Two boxes set up separately hold different schools; pairing them shares each
//! school's data both ways and never merges the schools.
//!
//! # Transport
//!
//! Box-to-box traffic is HTTPS on the box's *peer port* with mutual TLS: each side presents
//! its identity certificate and checks the other's against the pinned id (the pairing call
//! itself checks the invitation's id and secret instead). mDNS announces the peer port.

pub mod bundle;
pub mod identity;

pub use identity::{BoxId, Identity};

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::domain::{ClassId, SchoolId};

/// A box this box is paired with (local to this box; stored in `PEER_ID_TO_PEER`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub id: BoxId,
    /// The certificate whose SHA-256 is `id`: checks its bundles' signatures.
    pub cert_der: Vec<u8>,
    /// What the two boxes share, both ways.
    pub scope: PeerScope,
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
