//! Announcing this box on the LAN with mDNS as `_folio._tcp.local.`, and listing others.
//!
//! The announcement names the box's *peer port* (where other boxes pair and sync) and
//! carries only the short box id (`BoxId::short`) and the protocol version: no school or
//! person names, since anyone on the network can read it. Discovery is only an address hint;
//! trust between boxes comes from pairing (`peers`), never from an announcement.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};

use crate::peers::BoxId;

pub const SERVICE_TYPE: &str = "_folio._tcp.local.";

pub struct Advertisement {
    daemon: ServiceDaemon,
}

impl Advertisement {
    pub fn stop(self) {
        let _ = self.daemon.shutdown();
    }
}

/// Announces the box `id` with its peer port.
pub fn advertise(id: BoxId, peer_port: u16) -> anyhow::Result<Advertisement> {
    let daemon = ServiceDaemon::new().context("cannot start mDNS")?;
    let id = id.short();
    let port = peer_port;
    let instance = format!("folio-{id}");
    let host = format!("folio-{id}.local.");
    let protocol = crate::PROTOCOL_VERSION.to_string();
    let properties = [("id", id.as_str()), ("proto", protocol.as_str())];
    let info = ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", port, &properties[..])
        .context("cannot describe the mDNS service")?
        .enable_addr_auto();
    daemon.register(info).context("cannot announce on mDNS")?;
    tracing::info!(box_id = %id, "announcing {SERVICE_TYPE} on the network");
    Ok(Advertisement { daemon })
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
