//! mDNS across a real network: two network namespaces joined by a veth pair, folio serving
//! in one and `folio discover` listening in the other. Needs root and iproute2 (`.ci/run`
//! installs it); outside CI, a machine without them skips this test and says so.

use std::process::{Command, Stdio};
use std::time::Duration;

struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

#[test]
fn a_box_is_discoverable_by_mdns_and_its_announcement_carries_no_names() {
    let tag = std::process::id();
    let (a, b) = (format!("folio-a-{tag}"), format!("folio-b-{tag}"));
    let made_a = ip(&["netns", "add", &a]);
    let _guard = Namespaces(vec![a.clone(), b.clone()]);
    if !made_a {
        assert!(std::env::var_os("CI").is_none(), "CI must be able to create network namespaces (root, iproute2)");
        eprintln!("SKIPPED: creating a network namespace needs root and iproute2");
        return;
    }
    let (va, vb) = (format!("fva{tag}"), format!("fvb{tag}"));
    for args in [
        vec!["netns", "add", b.as_str()],
        vec!["link", "add", va.as_str(), "type", "veth", "peer", "name", vb.as_str()],
        vec!["link", "set", va.as_str(), "netns", a.as_str()],
        vec!["link", "set", vb.as_str(), "netns", b.as_str()],
        vec!["-n", a.as_str(), "addr", "add", "10.231.7.1/24", "dev", va.as_str()],
        vec!["-n", b.as_str(), "addr", "add", "10.231.7.2/24", "dev", vb.as_str()],
        vec!["-n", a.as_str(), "link", "set", va.as_str(), "up"],
        vec!["-n", b.as_str(), "link", "set", vb.as_str(), "up"],
        vec!["-n", a.as_str(), "link", "set", "lo", "up"],
    ] {
        assert!(ip(&args), "ip {}", args.join(" "));
    }

    let data = tempfile::tempdir().unwrap();
    let folio = env!("CARGO_BIN_EXE_folio");
    let mut server = Command::new("ip")
        .args(["netns", "exec", &a, folio, "serve", "--listen", "10.231.7.1:8080", "--data"])
        .arg(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let out = Command::new("ip").args(["netns", "exec", &b, folio, "discover", "--seconds", "4"]).output().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let out = String::from_utf8_lossy(&out.stdout);
    let line = out.lines().find(|l| l.starts_with("box ")).unwrap_or_else(|| panic!("no box found: {out}"));
    assert!(line.contains("protocol 1") && line.contains("port 7443") && line.contains("10.231.7.1"), "{line}");
    let txt = line.split("txt ").nth(1).unwrap();
    let keys: Vec<&str> = txt.split(',').map(|kv| kv.split('=').next().unwrap()).collect();
    assert_eq!(keys, vec!["id", "proto"], "the announcement carries only a box id and the protocol: {line}");
    let id = txt.split(',').next().unwrap().trim_start_matches("id=");
    assert_eq!(id.len(), 12);
}
