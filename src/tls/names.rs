//! The names and addresses the box's HTTPS certificate covers: what a person may type to
//! reach the box.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The name the appliance answers to over mDNS, and the one the instructions use.
pub const BOX_NAME: &str = "folio.local";

/// What the server certificate names: `folio.local`, the box's own `<hostname>.local`,
/// `localhost`, and every address of the box (its interfaces' plus 127.0.0.1 and ::1).
/// Equal sets mean the certificate in use still fits; any difference means a new one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoxNames {
    /// Lower case, without a trailing dot.
    pub dns: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
}

impl BoxNames {
    /// The names for a box called `hostname` (as `gethostname` gives it; only its first
    /// label is used, as mDNS does) with these interface addresses. Loopback and unspecified
    /// interface addresses are left out: 127.0.0.1 and ::1 are always in.
    pub fn new(hostname: Option<&str>, addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        let mut dns = BTreeSet::from([BOX_NAME.to_string(), "localhost".to_string()]);
        if let Some(label) = hostname.and_then(mdns_label) {
            dns.insert(format!("{label}.local"));
        }
        let mut ips = BTreeSet::from([IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]);
        ips.extend(addresses.into_iter().map(canonical).filter(|ip| !ip.is_loopback() && !ip.is_unspecified()));
        BoxNames { dns, ips }
    }

    /// The names of this machine now. Reads the host name and the interfaces (cheap, but
    /// it is a system call or two: call it off the async threads when that matters).
    pub fn current() -> Self {
        let addresses = match if_addrs::get_if_addrs() {
            Ok(found) => found.into_iter().map(|i| i.ip()).collect(),
            Err(e) => {
                tracing::warn!("cannot list the network addresses for the HTTPS certificate: {e}");
                Vec::new()
            }
        };
        BoxNames::new(hostname().as_deref(), addresses)
    }

    /// Whether a certificate for these names is valid for `host` (a host name or an IP
    /// address, IPv6 with or without brackets, without a port).
    pub fn covers(&self, host: &str) -> bool {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) => self.ips.contains(&canonical(ip)),
            Err(_) => self.dns.contains(&bare.trim_end_matches('.').to_ascii_lowercase()),
        }
    }

    /// Every name, host names first, as text (`::1`, not `[::1]`).
    pub fn to_strings(&self) -> Vec<String> {
        self.dns.iter().cloned().chain(self.ips.iter().map(IpAddr::to_string)).collect()
    }
}

/// IPv4 addresses that arrive as IPv4-mapped IPv6 are the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The host name's first label, if it can be a `.local` name (letters, digits, hyphens).
fn mdns_label(hostname: &str) -> Option<String> {
    let label = hostname.split('.').next()?.to_ascii_lowercase();
    let ok = (1..=63).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    ok.then_some(label)
}

/// The machine's host name. (On the appliance, `ProtectHostname=` gives folio's service a
/// copy taken when it starts: a new host name reaches the certificate at the next start.)
#[cfg(unix)]
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec()).ok().filter(|h| !h.is_empty())
}

#[cfg(not(unix))]
fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn names_hold_the_box_name_the_host_name_localhost_and_every_address() {
        let names = BoxNames::new(
            Some("Classroom-Box.school.lan"),
            [ip("192.168.1.20"), ip("127.0.0.1"), ip("fe80::1"), ip("::ffff:10.0.0.5"), ip("0.0.0.0")],
        );
        assert_eq!(names.dns, BTreeSet::from(["classroom-box.local".into(), "folio.local".into(), "localhost".into()]));
        assert_eq!(
            names.ips,
            BTreeSet::from([ip("10.0.0.5"), ip("127.0.0.1"), ip("192.168.1.20"), ip("::1"), ip("fe80::1")])
        );
    }

    #[test]
    fn a_host_name_that_cannot_be_a_local_name_is_left_out() {
        for odd in ["", "-box", "box_1", "ünï"] {
            let names = BoxNames::new(Some(odd), []);
            assert_eq!(names.dns.len(), 2, "{odd:?}: {:?}", names.dns);
        }
        assert_eq!(BoxNames::new(Some("folio"), []).dns.len(), 2, "folio.local is there once");
    }

    #[test]
    fn covers_matches_hosts_as_browsers_send_them() {
        let names = BoxNames::new(Some("box"), [ip("192.168.1.20"), ip("fd00::7")]);
        for yes in [
            "folio.local",
            "FOLIO.local",
            "box.local",
            "box.local.",
            "localhost",
            "192.168.1.20",
            "[::1]",
            "::1",
            "[fd00::7]",
        ] {
            assert!(names.covers(yes), "{yes}");
        }
        for no in ["box", "example.com", "192.168.1.21", "[fd00::8]", "folio.local.evil"] {
            assert!(!names.covers(no), "{no}");
        }
    }

    #[test]
    fn a_changed_address_is_a_different_set() {
        let a = BoxNames::new(Some("box"), [ip("192.168.1.20")]);
        let b = BoxNames::new(Some("box"), [ip("192.168.1.21")]);
        assert_ne!(a, b);
        assert_eq!(a, BoxNames::new(Some("box"), [ip("192.168.1.20"), ip("127.0.0.1")]));
    }
}
