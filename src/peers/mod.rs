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
//! classes. A class scope has a direction: the inviting box offered the classes and holds the
//! school; the joining box acts only inside them (what it may send is `sync::grant`'s rule),
//! while what the inviter sends within them is taken as the school's word. So a class box
//! joins the invitation of the box that holds the school, never the other way round. Two boxes set up separately hold different schools; pairing them shares each
//! school's data both ways and never merges the schools.
//!
//! # Transport
//!
//! Box-to-box traffic is HTTPS on the box's *peer port* with mutual TLS: each side presents
//! its identity certificate and checks the other's against the pinned id (the pairing call
//! itself checks the invitation's id and secret instead). mDNS announces the peer port.
//!
//! # The parts
//!
//! - [`tls`]: the rustls settings of both ends (any self-signed client certificate passes the
//!   handshake; a server must hash to the pinned id).
//! - [`server`]: the peer port's routes (`/peer/v1/...`) and the layer that looks the
//!   caller's certificate up among the pinned peers ([`PeerCaller`]).
//! - [`client`]: [`client::PeerClient`], typed calls to one peer at one address, with
//!   timeouts and errors in plain words ([`PeerError`]).
//! - [`pairing`]: invitations, tokens, joining, and the inviter's side of `/peer/v1/pair`.
//! - [`sync`]: one sync round with a peer (operations both ways, then files), one at a time
//!   per peer, recorded in its [`PeerStatus`].
//! - [`files`]: the files part of a round.
//! - [`schedule`]: when rounds run (every few minutes, shortly after changes, on a nudge).

pub mod bundle;
pub mod client;
pub mod files;
pub mod identity;
pub mod pairing;
pub mod schedule;
pub mod server;
pub mod sync;
pub mod tls;

pub use crate::domain::peer::{BoxId, Peer, PeerScope, PeerStatus};
pub use identity::Identity;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::{ClassId, SchoolId};
use crate::sync::Grant;

impl Peer {
    /// The grant a page from this peer for `school` is judged by (and what we may send it):
    /// its scope, from the side that offered it.
    pub fn grant(&self, school: SchoolId) -> Option<Grant> {
        self.scope.grant(school).map(|g| g.offered_by(self.offered_by))
    }
}

impl PeerScope {
    /// The schools this scope names (`None`: every school, whole).
    pub fn schools(&self) -> Option<BTreeSet<SchoolId>> {
        match self {
            PeerScope::WholeSchools => None,
            PeerScope::Classes(classes) => Some(classes.iter().map(|(school, _)| *school).collect()),
        }
    }

    /// What a peer with this scope may receive of `school` (and may send us of it), if
    /// anything: the same grant both ways.
    pub fn grant(&self, school: SchoolId) -> Option<Grant> {
        match self {
            PeerScope::WholeSchools => Some(Grant::whole_school(school)),
            PeerScope::Classes(classes) => {
                let ours: Vec<ClassId> = classes.iter().filter(|(s, _)| *s == school).map(|(_, c)| *c).collect();
                (!ours.is_empty()).then(|| Grant::classes(school, ours))
            }
        }
    }

    /// Whether `narrower` asks for no more than this scope offers.
    pub fn covers(&self, narrower: &PeerScope) -> bool {
        match (self, narrower) {
            (PeerScope::WholeSchools, _) => true,
            (PeerScope::Classes(_), PeerScope::WholeSchools) => false,
            (PeerScope::Classes(mine), PeerScope::Classes(theirs)) => theirs.is_subset(mine),
        }
    }
}

/// The caller on the peer port, as pinned here: put into the request's extensions by
/// `server`'s layer once the caller's client certificate hashes to a paired box's id.
#[derive(Clone, Debug)]
pub struct PeerCaller {
    pub peer: Peer,
}

/// The client certificate a peer-port connection presented (set by the listener after the
/// handshake; the handshake itself proved the caller holds its key).
#[derive(Clone, Debug)]
pub struct ClientCert {
    pub id: BoxId,
    pub der: Arc<Vec<u8>>,
}

/// What went wrong talking to another box, in words for the admin page.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PeerError {
    #[error("box {peer} could not be reached at {address} ({why}). Is it switched on and on this network?")]
    Unreachable { peer: String, address: String, why: String },
    #[error("box {peer} presented a different key: was it reflashed? Pair again.")]
    WrongKey { peer: String },
    #[error("box {peer} refused: {why}")]
    Refused { peer: String, why: String },
    #[error("box {peer} refused what this box sent: {why}")]
    Rejected { peer: String, why: String },
    #[error("box {peer} sent data this box refused: {why}")]
    Refusing { peer: String, why: String },
    #[error(
        "box {peer} answered in a way this box does not understand ({why}). Do both boxes run the same folio version?"
    )]
    Protocol { peer: String, why: String },
    #[error("this box is not paired with box {peer}")]
    NotPaired { peer: String },
    #[error("box {peer} has no address to reach it at. Add its address, or pair again.")]
    NoAddress { peer: String },
    #[error("something went wrong on this box: {0}")]
    Local(String),
}

impl PeerError {
    pub fn local(e: impl std::fmt::Display) -> Self {
        PeerError::Local(e.to_string())
    }
}

/// What one sync round moved, each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    pub ops_sent: u64,
    pub ops_received: u64,
    pub files_sent: u64,
    pub files_received: u64,
    #[serde(default)]
    pub bytes_sent: u64,
    #[serde(default)]
    pub bytes_received: u64,
}

/// The box's networking among boxes, shared by handlers and background tasks.
pub struct Net {
    pub identity: Arc<Identity>,
    /// Where the peer port listens; `None` when it is off (no pairing, no syncing by network).
    pub listen: Option<SocketAddr>,
    /// How often every paired box is synced with, whatever else happens.
    pub sync_every: Duration,
    /// One sync at a time per peer, and the outcome of the last one.
    rounds: Mutex<HashMap<BoxId, Arc<sync::Slot>>>,
    nudges: tokio::sync::mpsc::UnboundedSender<BoxId>,
    nudged: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<BoxId>>>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").field("id", &self.identity.id()).field("listen", &self.listen).finish_non_exhaustive()
    }
}

impl Net {
    pub fn new(identity: Arc<Identity>, listen: Option<SocketAddr>, sync_every: Duration) -> Net {
        let (nudges, nudged) = tokio::sync::mpsc::unbounded_channel();
        Net { identity, listen, sync_every, rounds: Mutex::default(), nudges, nudged: Mutex::new(Some(nudged)) }
    }

    pub fn id(&self) -> BoxId {
        self.identity.id()
    }

    /// Where other boxes can reach the peer port ("host:port"): each network address of the
    /// box when it listens on all of them, else the address it listens on.
    pub fn addresses(&self) -> Vec<String> {
        let Some(listen) = self.listen else {
            return Vec::new();
        };
        if !listen.ip().is_unspecified() {
            return vec![listen.to_string()];
        }
        let mut found: Vec<String> = if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| !i.is_loopback() && i.ip().is_ipv4())
            .map(|i| SocketAddr::new(i.ip(), listen.port()).to_string())
            .collect();
        if found.is_empty() {
            found.push(SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), listen.port()).to_string());
        }
        found
    }

    fn slot(&self, peer: BoxId) -> Arc<sync::Slot> {
        self.rounds.lock().unwrap_or_else(PoisonError::into_inner).entry(peer).or_default().clone()
    }

    fn take_nudges(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<BoxId>> {
        self.nudged.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}
