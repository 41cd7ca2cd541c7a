//! Announcing this box on the LAN with mDNS as `_folio._tcp.local.`, and keeping a list of
//! the other boxes that announce themselves ([`Nearby`]).
//!
//! The announcement names the box's *peer port* (where other boxes pair and sync) and
//! carries only the short box id (`BoxId::short`) and the protocol version: no school or
//! person names, since anyone on the network can read it. Discovery is only an
//! address hint: trust between boxes comes from pairing (the pinned certificate), never from
//! an announcement. A box that announces the short id of a paired box only adds an address
//! to try; a connection there is checked against the whole pinned id.
//!
//! While folio serves, it browses continuously: every box it resolves goes into the
//! in-memory [`Nearby`] list (short id, addresses, port, when it was last seen), which the
//! admin page shows. Entries not seen for [`FORGET_AFTER`] are dropped. mdns-sd reports a
//! service once when it is resolved, so the browse is restarted every [`REFRESH`]: that
//! replays what the daemon still holds (its records expire when a box stops answering), and
//! so refreshes "last seen". When a *paired* box turns up, or at new addresses, its record's
//! `addresses` gets them (newest first, at most [`MAX_PEER_ADDRESSES`]) and the
//! [`Nearby::set_hook`] callback is called with its id: the sync scheduler's cue to sync now.
//!
//! Where multicast is blocked (school Wi-Fi often does), an admin adds an address by hand
//! (`POST /api/v1/peers/address`, [`parse_peer_address`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};

use crate::peers::{BoxId, Peer};
use crate::store::{Store, peers as store_peers};

pub const SERVICE_TYPE: &str = "_folio._tcp.local.";

/// How long a box stays in the list after it was last seen.
pub const FORGET_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often the browse is started again (which replays the boxes the daemon knows).
pub const REFRESH: Duration = Duration::from_secs(60);
/// How many addresses a paired box's record keeps.
pub const MAX_PEER_ADDRESSES: usize = 5;
/// The port an address typed without one gets: the default peer port.
pub const DEFAULT_PEER_PORT: u16 = 7443;

/// A short, stable id for a box without an identity (the command line's own listing):
/// the first 12 hex digits of a hash of its replica id.
pub fn box_id(store: &Store) -> String {
    let hash = blake3::hash(&store.replica().bytes());
    hash.to_hex()[..12].to_string()
}

pub struct Advertisement {
    daemon: ServiceDaemon,
    browsing: Option<tokio::task::JoinHandle<()>>,
}

impl Advertisement {
    pub fn stop(self) {
        if let Some(task) = self.browsing {
            task.abort();
        }
        let _ = self.daemon.shutdown();
    }

    /// Browses for other boxes until stopped, keeping `nearby` (and paired boxes' addresses
    /// in `store`) up to date. `own` is this box's short id, which is not listed.
    pub fn browse(&mut self, store: Store, nearby: Nearby, own: String) {
        let daemon = self.daemon.clone();
        self.browsing = Some(tokio::spawn(async move {
            loop {
                let events = match daemon.browse(SERVICE_TYPE) {
                    Ok(events) => events,
                    Err(e) => {
                        tracing::warn!("cannot look for other boxes with mDNS: {e}");
                        return;
                    }
                };
                let until = tokio::time::Instant::now() + REFRESH;
                loop {
                    let event = tokio::select! {
                        event = events.recv_async() => event,
                        () = tokio::time::sleep_until(until) => break,
                    };
                    match event {
                        Ok(ServiceEvent::ServiceResolved(info)) => {
                            let Some(id) = info.get_property_val_str("id").filter(|id| is_short_id(id)) else {
                                continue;
                            };
                            if id == own {
                                continue;
                            }
                            let addresses = usable(info.get_addresses().iter().map(|a| a.to_ip_addr()));
                            if addresses.is_empty() {
                                continue;
                            }
                            let seen = Seen {
                                box_id_short: id.to_string(),
                                fullname: info.get_fullname().to_string(),
                                addresses,
                                port: info.get_port(),
                                last_seen: Instant::now(),
                                last_seen_ms: crate::domain::hlc::wall_clock_ms(),
                            };
                            if nearby.saw(seen.clone()) {
                                let (store, nearby) = (store.clone(), nearby.clone());
                                tokio::task::spawn_blocking(move || {
                                    if let Err(e) = remember_peer_addresses(&store, &nearby, &seen) {
                                        tracing::warn!("cannot remember where box {} is: {e}", seen.box_id_short);
                                    }
                                });
                            }
                        }
                        Ok(ServiceEvent::ServiceRemoved(_, fullname)) => nearby.forget(&fullname),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                let _ = daemon.stop_browse(SERVICE_TYPE);
            }
        }));
    }
}

/// Announces this box as `box_id_short` (see `BoxId::short`) on its peer port.
pub fn advertise(box_id_short: &str, port: u16) -> anyhow::Result<Advertisement> {
    let daemon = ServiceDaemon::new().context("cannot start mDNS")?;
    let instance = format!("folio-{box_id_short}");
    let host = format!("folio-{box_id_short}.local.");
    let protocol = crate::PROTOCOL_VERSION.to_string();
    let properties = [("id", box_id_short), ("proto", protocol.as_str())];
    let info = ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", port, &properties[..])
        .context("cannot describe the mDNS service")?
        .enable_addr_auto();
    daemon.register(info).context("cannot announce on mDNS")?;
    tracing::info!(box_id = %box_id_short, "announcing {SERVICE_TYPE} on the network");
    Ok(Advertisement { daemon, browsing: None })
}

/// 12 lowercase hex digits, as `BoxId::short` makes them.
fn is_short_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Addresses another box can be reached at from here: IPv4 first; no link-local IPv6 (it
/// needs the interface, which an address string does not carry), loopback or multicast.
fn usable(found: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut addresses: Vec<IpAddr> = found
        .filter(|ip| !ip.is_unspecified() && !ip.is_multicast() && !ip.is_loopback())
        .filter(|ip| match ip {
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
            IpAddr::V4(_) => true,
        })
        .collect();
    addresses.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    addresses.dedup();
    addresses
}

/// A box seen on the network.
#[derive(Clone, Debug)]
pub struct Seen {
    pub box_id_short: String,
    /// The mDNS instance name, by which the daemon says it is gone.
    pub fullname: String,
    pub addresses: Vec<IpAddr>,
    /// The port it announces (its peer port).
    pub port: u16,
    pub last_seen: Instant,
    pub last_seen_ms: u64,
}

impl Seen {
    /// "host:port" for each address, as `Peer::addresses` holds them.
    pub fn socket_addresses(&self) -> Vec<String> {
        self.addresses.iter().map(|ip| SocketAddr::new(*ip, self.port).to_string()).collect()
    }
}

type Hook = Arc<dyn Fn(BoxId) + Send + Sync>;

/// The boxes seen on the network lately, in memory only. Cloning is cheap.
#[derive(Clone, Default)]
pub struct Nearby {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// By short id.
    boxes: HashMap<String, Seen>,
    hook: Option<Hook>,
}

impl Nearby {
    /// Called with a paired box's id when it appears on the network or at new addresses,
    /// and when an admin adds an address: the sync scheduler sets this to sync with it soon.
    pub fn set_hook(&self, hook: impl Fn(BoxId) + Send + Sync + 'static) {
        self.inner.lock().unwrap().hook = Some(Arc::new(hook));
    }

    /// Calls the hook (if any) for `peer`.
    pub fn nudge(&self, peer: BoxId) {
        let hook = self.inner.lock().unwrap().hook.clone();
        match hook {
            Some(hook) => hook(peer),
            None => tracing::debug!(peer = %peer.short(), "a paired box turned up; no sync scheduler to tell"),
        }
    }

    /// Records a sighting. True when the box is new to the list (or was forgotten) or is at
    /// other addresses or another port than last time.
    pub fn saw(&self, seen: Seen) -> bool {
        let mut inner = self.inner.lock().unwrap();
        let changed = match inner.boxes.get(&seen.box_id_short) {
            Some(before) => {
                before.addresses != seen.addresses
                    || before.port != seen.port
                    || before.last_seen.elapsed() > FORGET_AFTER
            }
            None => true,
        };
        inner.boxes.insert(seen.box_id_short.clone(), seen);
        changed
    }

    /// The daemon says the box behind this instance name is gone.
    pub fn forget(&self, fullname: &str) {
        self.inner.lock().unwrap().boxes.retain(|_, seen| seen.fullname != fullname);
    }

    /// The boxes seen within [`FORGET_AFTER`], by short id.
    pub fn list(&self) -> Vec<Seen> {
        let mut inner = self.inner.lock().unwrap();
        inner.boxes.retain(|_, seen| seen.last_seen.elapsed() <= FORGET_AFTER);
        let mut all: Vec<Seen> = inner.boxes.values().cloned().collect();
        all.sort_by(|a, b| a.box_id_short.cmp(&b.box_id_short));
        all
    }
}

/// Puts `new` first in a paired box's addresses (each once, at most
/// [`MAX_PEER_ADDRESSES`]). True when that changed them.
pub fn add_addresses(peer: &mut Peer, new: &[String]) -> bool {
    let mut addresses: Vec<String> = new.to_vec();
    for old in &peer.addresses {
        if !addresses.contains(old) {
            addresses.push(old.clone());
        }
    }
    addresses.dedup();
    addresses.truncate(MAX_PEER_ADDRESSES);
    let changed = addresses != peer.addresses;
    peer.addresses = addresses;
    changed
}

/// A paired box whose short id `seen` carries gets the addresses it was seen at, and the
/// hook is told. Blocking.
fn remember_peer_addresses(store: &Store, nearby: &Nearby, seen: &Seen) -> Result<(), crate::store::StoreError> {
    let found: Vec<BoxId> = store.write(|tx| {
        let mut found = Vec::new();
        for mut peer in store_peers::peers(tx.txn())? {
            if peer.id.short() != seen.box_id_short {
                continue;
            }
            if add_addresses(&mut peer, &seen.socket_addresses()) {
                store_peers::put_peer(tx.txn(), &peer)?;
                tracing::info!(peer = %peer.id.short(), addresses = ?peer.addresses, "a paired box was seen on the network");
            }
            found.push(peer.id);
        }
        Ok::<_, crate::store::StoreError>(found)
    })?;
    for id in found {
        nearby.nudge(id);
    }
    Ok(())
}

/// An address an admin typed for a paired box, as "host:port": an IP address (IPv6 in
/// brackets when a port follows) or a host name, and a port (the default peer port if none).
///
/// Host names are allowed, not only `.local` ones: where multicast is blocked, `.local`
/// names do not resolve either, and a school's own DNS name for the box is what works. The
/// name decides nothing about trust (the connection is checked against the pinned id) and
/// the box connects there only as to that paired box; what is refused is anything that is
/// not plainly a host and port (a URL, a path, credentials, spaces), and addresses no box
/// can have (unspecified, multicast, broadcast).
pub fn parse_peer_address(raw: &str) -> Result<String, crate::domain::Invalid> {
    use crate::domain::Invalid;
    let raw = raw.trim();
    let bad = || {
        Invalid::new(format!(
            "\"{raw}\" is not an address: give the other box's IP address or name, and its peer port if it is not {DEFAULT_PEER_PORT} (for example 192.168.1.20:{DEFAULT_PEER_PORT} or folio-b.local)"
        ))
    };
    if raw.is_empty() || raw.len() > 260 || raw.chars().any(|c| c.is_whitespace() || "/@?#\\".contains(c)) {
        return Err(bad());
    }
    let check_ip = |ip: IpAddr| {
        let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
        if ip.is_unspecified() || ip.is_multicast() || broadcast {
            Err(Invalid::new(format!("{ip} is not the address of a box: give the address the other box has")))
        } else {
            Ok(())
        }
    };
    if let Ok(socket) = raw.parse::<SocketAddr>() {
        check_ip(socket.ip())?;
        if socket.port() == 0 {
            return Err(bad());
        }
        return Ok(socket.to_string());
    }
    if let Ok(ip) = raw.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        check_ip(ip)?;
        return Ok(SocketAddr::new(ip, DEFAULT_PEER_PORT).to_string());
    }
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?),
        None => (raw, DEFAULT_PEER_PORT),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    // All digits and dots is a mistyped IPv4 address, not a name.
    let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if host.is_empty() || host.len() > 253 || numeric || !host.split('.').all(label_ok) {
        return Err(bad());
    }
    Ok(format!("{host}:{port}"))
}

/// Listens for `seconds` and prints each box found: id, protocol, addresses and port.
pub fn print_nearby(listen_for: Duration) -> anyhow::Result<()> {
    let daemon = ServiceDaemon::new().context("cannot start mDNS")?;
    let events = daemon.browse(SERVICE_TYPE).context("cannot browse mDNS")?;
    let deadline = Instant::now() + listen_for;
    let mut found: HashMap<String, String> = HashMap::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(info)) => {
                let id = info.get_property_val_str("id").unwrap_or("?").to_string();
                let proto = info.get_property_val_str("proto").unwrap_or("?");
                let addrs: Vec<String> = info.get_addresses().iter().map(|a| a.to_string()).collect();
                let mut txt: Vec<String> =
                    info.get_properties().iter().map(|p| format!("{}={}", p.key(), p.val_str())).collect();
                txt.sort();
                let line = format!(
                    "box {id}  protocol {proto}  port {}  addresses {}  txt {}",
                    info.get_port(),
                    addrs.join(","),
                    txt.join(",")
                );
                if found.insert(info.get_fullname().to_string(), line.clone()).is_none() {
                    println!("{line}");
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = daemon.shutdown();
    if found.is_empty() {
        println!("No folio boxes answered. If you expected some, the network may block multicast.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_addresses_are_host_and_port_or_refused() {
        assert_eq!(parse_peer_address(" 192.168.1.20:7443 ").unwrap(), "192.168.1.20:7443");
        assert_eq!(parse_peer_address("192.168.1.20").unwrap(), "192.168.1.20:7443");
        assert_eq!(parse_peer_address("[fd00::2]:9000").unwrap(), "[fd00::2]:9000");
        assert_eq!(parse_peer_address("fd00::2").unwrap(), "[fd00::2]:7443");
        assert_eq!(parse_peer_address("Folio-B.local").unwrap(), "folio-b.local:7443");
        assert_eq!(parse_peer_address("box2.school.internal:8443").unwrap(), "box2.school.internal:8443");
        for bad in [
            "",
            "https://192.168.1.20:7443",
            "192.168.1.20:7443/peer",
            "user@host:7443",
            "0.0.0.0:7443",
            "224.0.0.251:5353",
            "255.255.255.255:7443",
            "192.168.1.999",
            "host:0",
            "host:99999",
            "-bad-.local",
            "a b.local",
            "..",
            "../x",
        ] {
            assert!(parse_peer_address(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn peer_addresses_keep_the_newest_five_once_each() {
        let mut peer = Peer {
            id: BoxId([1; 32]),
            cert_der: Vec::new(),
            scope: crate::peers::PeerScope::WholeSchools,
            offered_by: Default::default(),
            addresses: (1..=5).map(|i| format!("10.0.0.{i}:7443")).collect(),
            paired_ms: 0,
            status: Default::default(),
        };
        assert!(!add_addresses(&mut peer, &["10.0.0.1:7443".into()]), "already first: nothing changes");
        assert!(add_addresses(&mut peer, &["10.0.0.3:7443".into()]));
        assert_eq!(peer.addresses[..2], ["10.0.0.3:7443".to_string(), "10.0.0.1:7443".to_string()]);
        assert!(add_addresses(&mut peer, &["10.0.0.9:7443".into()]));
        assert_eq!(peer.addresses.len(), MAX_PEER_ADDRESSES);
        assert_eq!(peer.addresses[0], "10.0.0.9:7443");
        assert!(!peer.addresses.contains(&"10.0.0.5:7443".to_string()), "the oldest went");
    }

    #[test]
    fn the_list_forgets_boxes_that_went_away() {
        let nearby = Nearby::default();
        let seen = Seen {
            box_id_short: "abcdefabcdef".into(),
            fullname: "folio-abcdefabcdef._folio._tcp.local.".into(),
            addresses: vec!["10.0.0.2".parse().unwrap()],
            port: 7443,
            last_seen: Instant::now(),
            last_seen_ms: 1,
        };
        assert!(nearby.saw(seen.clone()), "new");
        assert!(!nearby.saw(seen.clone()), "the same again");
        let mut moved = seen.clone();
        moved.addresses = vec!["10.0.0.3".parse().unwrap()];
        assert!(nearby.saw(moved), "at a new address");
        assert_eq!(nearby.list().len(), 1);
        nearby.forget(&seen.fullname);
        assert!(nearby.list().is_empty());
        let mut old = seen;
        old.last_seen = Instant::now() - FORGET_AFTER - Duration::from_secs(1);
        nearby.saw(old);
        assert!(nearby.list().is_empty(), "not seen for five minutes");
    }

    #[test]
    fn only_reachable_addresses_are_kept() {
        let found = ["fe80::1", "10.0.0.2", "127.0.0.1", "fd00::5", "10.0.0.2"].map(|a| a.parse().unwrap());
        assert_eq!(usable(found.into_iter()), vec!["10.0.0.2".parse::<IpAddr>().unwrap(), "fd00::5".parse().unwrap()]);
    }
}
