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

/// Two namespaces `folio-<name>a-<pid>` and `folio-<name>b-<pid>` joined by a veth pair, with
/// addresses `<subnet>.1` and `<subnet>.2` (/24). `None` (the test skips) where namespaces
/// cannot be made outside CI; under CI that is a failure.
fn two_namespaces(name: &str, subnet: &str) -> Option<(String, String, Namespaces)> {
    let tag = std::process::id();
    let (a, b) = (format!("folio-{name}a-{tag}"), format!("folio-{name}b-{tag}"));
    let made_a = ip(&["netns", "add", &a]);
    let guard = Namespaces(vec![a.clone(), b.clone()]);
    if !made_a {
        assert!(std::env::var_os("CI").is_none(), "CI must be able to create network namespaces (root, iproute2)");
        eprintln!("SKIPPED: creating a network namespace needs root and iproute2");
        return None;
    }
    let (va, vb) = (format!("f{name}va{tag}"), format!("f{name}vb{tag}"));
    let (addr_a, addr_b) = (format!("{subnet}.1/24"), format!("{subnet}.2/24"));
    for args in [
        vec!["netns", "add", b.as_str()],
        vec!["link", "add", va.as_str(), "type", "veth", "peer", "name", vb.as_str()],
        vec!["link", "set", va.as_str(), "netns", a.as_str()],
        vec!["link", "set", vb.as_str(), "netns", b.as_str()],
        vec!["-n", a.as_str(), "addr", "add", addr_a.as_str(), "dev", va.as_str()],
        vec!["-n", b.as_str(), "addr", "add", addr_b.as_str(), "dev", vb.as_str()],
        vec!["-n", a.as_str(), "link", "set", va.as_str(), "up"],
        vec!["-n", b.as_str(), "link", "set", vb.as_str(), "up"],
        vec!["-n", a.as_str(), "link", "set", "lo", "up"],
        vec!["-n", b.as_str(), "link", "set", "lo", "up"],
    ] {
        assert!(ip(&args), "ip {}", args.join(" "));
    }
    Some((a, b, guard))
}

#[test]
fn a_box_is_discoverable_by_mdns_and_its_announcement_carries_no_names() {
    let Some((a, b, _guard)) = two_namespaces("", "10.231.7") else { return };

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

/// `curl` inside a namespace, with a cookie jar; returns the body.
fn curl_in(ns: &str, jar: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "curl", "-s", "--max-time", "5", "-c"])
        .arg(jar)
        .arg("-b")
        .arg(jar)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_serving_box_lists_the_boxes_it_finds_and_learns_a_paired_boxs_address() {
    let Some((a, b, _guard)) = two_namespaces("n", "10.231.9") else { return };
    let (data_a, data_b, scratch) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, id_b) = crate::bundle::pair_dirs(data_a.path(), data_b.path());
    let folio = env!("CARGO_BIN_EXE_folio");
    let serve = |ns: &str, listen: &str, data: &std::path::Path| {
        Command::new("ip")
            .args(["netns", "exec", ns, folio, "serve", "--tls-listen", "off", "--listen", listen, "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    struct Killed(Vec<std::process::Child>);
    impl Drop for Killed {
        fn drop(&mut self) {
            for child in &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let mut servers =
        Killed(vec![serve(&a, "10.231.9.1:8080", data_a.path()), serve(&b, "10.231.9.2:8080", data_b.path())]);

    // An admin on A, through curl inside A's namespace.
    let jar = scratch.path().join("cookies");
    let code_file = data_a.path().join("setup-code");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !code_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let code = std::fs::read_to_string(&code_file).unwrap().trim().to_string();
    let setup = format!(
        r#"{{"setup_code":"{code}","school_name":"Escuela","username":"admin","display_name":"Ada","password":"correct horse battery"}}"#
    );
    let json = ["-H", "content-type: application/json", "-d"];
    curl_in(&a, &jar, &[&json[..], &[setup.as_str(), "http://10.231.9.1:8080/api/v1/setup"]].concat());
    let login = r#"{"username":"admin","password":"correct horse battery"}"#;
    curl_in(&a, &jar, &[&json[..], &[login, "http://10.231.9.1:8080/api/v1/login"]].concat());

    let mut found = serde_json::Value::Null;
    while std::time::Instant::now() < deadline + Duration::from_secs(10) {
        let body = curl_in(&a, &jar, &["http://10.231.9.1:8080/api/v1/peers/nearby"]);
        let list: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
        if let Some(entry) = list.as_array().and_then(|l| l.iter().find(|e| e["box_id_short"] == id_b.short())) {
            found = entry.clone();
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(found.is_object(), "box B never appeared in A's nearby list");
    assert_eq!(found["paired"], true, "{found}");
    assert_eq!(found["peer_id"], id_b.to_string(), "{found}");
    assert_eq!(found["port"], 7443, "{found}");
    assert_eq!(found["addresses"], serde_json::json!(["10.231.9.2"]), "{found}");
    assert!(found["last_seen_ms"].as_u64().unwrap() > 0);
    // A does not list itself.
    let body = curl_in(&a, &jar, &["http://10.231.9.1:8080/api/v1/peers/nearby"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap().as_array().unwrap().len(), 1, "{body}");

    // The paired box's record learned where it is (read once A has stopped).
    for child in &mut servers.0 {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    servers.0.clear();
    let store = folio::store::Store::open(data_a.path()).unwrap();
    let peer = store.read(|r| folio::store::peers::peer(r, id_b)).unwrap().unwrap();
    assert_eq!(peer.addresses, vec!["10.231.9.2:7443".to_string()]);
}

#[tokio::test]
async fn an_admin_adds_an_address_for_a_paired_box_where_multicast_is_blocked() {
    use crate::support::*;
    use reqwest::StatusCode;
    use serde_json::json;

    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, id_b) = crate::bundle::pair_dirs(dir_a.path(), dir_b.path());
    let a = TestServer::start_with(dir_a.path().to_path_buf(), |_| {}).await.unwrap();
    let admin = a.setup_admin().await;
    let (_, student) = a.person(&admin, "sam", "student").await;

    let res =
        a.post(&admin, "/api/v1/peers/address", json!({"peer_id": id_b.to_string(), "address": "192.168.4.20"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let got = json_of(res).await;
    assert_eq!(got["addresses"], json!(["192.168.4.20:7443"]), "{got}");
    // By the short id too; the newest comes first.
    let res = a
        .post(&admin, "/api/v1/peers/address", json!({"peer_id": id_b.short(), "address": "folio-b.school.lan:9443"}))
        .await;
    assert_eq!(json_of(res).await["addresses"], json!(["folio-b.school.lan:9443", "192.168.4.20:7443"]));
    for bad in ["https://192.168.4.20/", "0.0.0.0:7443", "a b"] {
        let res = a.post(&admin, "/api/v1/peers/address", json!({"peer_id": id_b.to_string(), "address": bad})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = a.post(&admin, "/api/v1/peers/address", json!({"peer_id": "abcdef0123", "address": "10.0.0.1"})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res =
        a.post(&student, "/api/v1/peers/address", json!({"peer_id": id_b.to_string(), "address": "10.0.0.1"})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(a.get(&student, "/api/v1/peers/nearby").await.status(), StatusCode::NOT_FOUND);

    // mDNS is off in tests: nobody nearby; the page says so and offers the address form and
    // the bundle download for the paired box.
    assert_eq!(json_of(a.get(&admin, "/api/v1/peers/nearby").await).await, json!([]));
    let page = a.get(&admin, "/admin/peers/nearby").await.text().await.unwrap();
    assert!(page.contains("Nearby boxes") && page.contains("USB bundles"), "{page}");
    assert!(page.contains(&format!("/api/v1/peers/{id_b}/bundle")) && page.contains("Add address"), "{page}");

    a.stop().await;
    let store = folio::store::Store::open(dir_a.path()).unwrap();
    let peer = store.read(|r| folio::store::peers::peer(r, id_b)).unwrap().unwrap();
    assert_eq!(peer.addresses, vec!["folio-b.school.lan:9443".to_string(), "192.168.4.20:7443".to_string()]);
}
