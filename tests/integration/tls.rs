//! HTTPS from the box's own certificate authority: curl and reqwest trust the box with
//! `<data>/tls/ca.crt` and only then; the certificate names the box's names and addresses;
//! the authority survives restarts; sessions over HTTPS get Secure cookies; the
//! "Set up this device" page and its downloads.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::{Client, StatusCode, header};
use rustls::pki_types::pem::PemObject;
use serde_json::json;
use x509_parser::extensions::GeneralName;

use crate::support::*;

fn ca_file(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("ca.crt")
}

/// A client that trusts only `ca_pem`, not the system's authorities, and keeps TLS details.
fn client_trusting(ca_pem: &[u8]) -> Client {
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap())
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start_https() -> (TestServer, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_https(temp.path().to_path_buf()).await.unwrap();
    (server, temp)
}

fn https_url(server: &TestServer, path: &str) -> String {
    format!("{}{path}", server.https_url.as_ref().expect("started with HTTPS"))
}

fn port(server: &TestServer) -> u16 {
    server.https_url.as_ref().unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

/// Runs curl off the runtime's thread (the server under test answers on it) and returns
/// (success, stdout, stderr).
async fn curl(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl").args(["--silent", "--show-error", "--max-time", "10"]).args(&args).output();
        let out = out.expect("curl is installed (tests/install-deps.sh)");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
    })
    .await
    .unwrap()
}

/// The certificate the server presents, DER.
async fn served_certificate(client: &Client, url: &str) -> Vec<u8> {
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let info = res.extensions().get::<reqwest::tls::TlsInfo>().expect("tls_info is on");
    info.peer_certificate().expect("the server presents a certificate").to_vec()
}

/// The host names and addresses a certificate is for.
fn names_in(der: &[u8]) -> (BTreeSet<String>, BTreeSet<IpAddr>) {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let mut dns = BTreeSet::new();
    let mut ips = BTreeSet::new();
    for name in &cert.subject_alternative_name().unwrap().expect("subjectAltName").value.general_names {
        match name {
            GeneralName::DNSName(d) => {
                dns.insert(d.to_string());
            }
            GeneralName::IPAddress(b) if b.len() == 4 => {
                ips.insert(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()));
            }
            GeneralName::IPAddress(b) => {
                ips.insert(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()));
            }
            other => panic!("unexpected name {other:?}"),
        }
    }
    (dns, ips)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string()
}

#[tokio::test]
async fn curl_trusts_the_box_with_ca_crt_and_not_without() {
    let (server, _temp) = start_https().await;
    let ca = ca_file(&server.data_dir);
    assert!(ca.is_file(), "the authority's certificate is at <data>/tls/ca.crt");
    let port = port(&server);

    for version in ["--http1.1", "--http2"] {
        let (ok, body, err) = curl(vec![
            "--cacert".into(),
            ca.display().to_string(),
            version.into(),
            "--write-out".into(),
            "\n%{http_version}".into(),
            https_url(&server, "/healthz"),
        ])
        .await;
        assert!(ok, "curl {version} with --cacert: {err}");
        let (json, http_version) = body.rsplit_once('\n').unwrap();
        assert!(json.contains(r#""status":"ok""#), "{json}");
        assert_eq!(http_version, if version == "--http2" { "2" } else { "1.1" }, "ALPN picked the version");
    }

    // By name, as devices use it (folio.local resolved to loopback for the test).
    for name in ["folio.local", "localhost", &format!("{}.local", hostname().split('.').next().unwrap())] {
        let (ok, _, err) = curl(vec![
            "--cacert".into(),
            ca.display().to_string(),
            "--resolve".into(),
            format!("{name}:{port}:127.0.0.1"),
            format!("https://{name}:{port}/healthz"),
        ])
        .await;
        assert!(ok, "curl https://{name}: {err}");
    }

    // Without the box's authority, curl refuses the certificate (exit 60).
    let (ok, _, err) = curl(vec![https_url(&server, "/healthz")]).await;
    assert!(!ok, "curl without --cacert must not trust the box");
    assert!(err.contains("certificate") || err.contains("SSL"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn reqwest_trusting_only_the_box_authority_connects_and_others_do_not() {
    let (server, _temp) = start_https().await;
    let ca = std::fs::read(ca_file(&server.data_dir)).unwrap();
    let trusting = client_trusting(&ca);
    let res = trusting.get(https_url(&server, "/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let port = port(&server);
    let res = trusting.get(format!("https://localhost:{port}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let trusting_nothing = Client::builder().tls_built_in_root_certs(false).build().unwrap();
    assert!(trusting_nothing.get(https_url(&server, "/healthz")).send().await.is_err());

    // Another box's authority does not vouch for this one.
    let other_dir = tempfile::tempdir().unwrap();
    folio::tls::Tls::open(other_dir.path(), &folio::tls::BoxNames::new(None, [])).unwrap();
    let other = client_trusting(&std::fs::read(ca_file(other_dir.path())).unwrap());
    let err = other.get(https_url(&server, "/healthz")).send().await.expect_err("another authority");
    assert!(format!("{err:?}").contains("UnknownIssuer") || format!("{err:?}").contains("certificate"), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn the_certificate_names_the_box_and_all_its_addresses() {
    let (server, _temp) = start_https().await;
    let ca_pem = std::fs::read(ca_file(&server.data_dir)).unwrap();
    let der = served_certificate(&client_trusting(&ca_pem), &https_url(&server, "/healthz")).await;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let (dns, ips) = names_in(&der);
    let host = hostname().split('.').next().unwrap().to_ascii_lowercase();
    for expected in ["folio.local", "localhost", &format!("{host}.local")] {
        assert!(dns.contains(expected), "{expected} in {dns:?}");
    }
    for expected in ["127.0.0.1", "::1"] {
        assert!(ips.contains(&expected.parse().unwrap()), "{expected} in {ips:?}");
    }
    let interfaces: Vec<IpAddr> = if_addrs::get_if_addrs().unwrap().into_iter().map(|i| i.ip()).collect();
    for address in interfaces.iter().filter(|a| !a.is_loopback()) {
        assert!(ips.contains(address), "interface address {address} in {ips:?}");
    }

    // Browsers' rules for server certificates: serverAuth, at most 398 days.
    let eku = cert.extended_key_usage().unwrap().expect("extendedKeyUsage").value;
    assert!(eku.server_auth);
    let days = (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / 86400;
    assert!(days <= 398, "valid for {days} days");

    // The authority: a CA for ten years, which vouches only for .local names and localhost.
    let ca_der = rustls::pki_types::CertificateDer::from_pem_slice(&ca_pem).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    assert!(ca.is_ca());
    assert_eq!(cert.issuer(), ca.subject());
    let years = (ca.validity().not_after.timestamp() - ca.validity().not_before.timestamp()) / (365 * 86400);
    assert!(years >= 10, "the authority lasts {years} years");
    assert!(ca.name_constraints().unwrap().is_some(), "the authority is name-constrained");
    server.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_the_authority_and_new_names_get_a_new_certificate_from_it() {
    let temp = tempfile::tempdir().unwrap();
    // A certificate made earlier for names this machine does not have (as if the box had
    // been moved to another network, or renamed).
    let old_names = folio::tls::BoxNames::new(Some("old-name"), ["10.99.98.97".parse().unwrap()]);
    drop(folio::tls::Tls::open(temp.path(), &old_names).unwrap());
    let ca_before = std::fs::read(ca_file(temp.path())).unwrap();
    let trusting = client_trusting(&ca_before);

    let server = TestServer::start_https(temp.path().to_path_buf()).await.unwrap();
    let first = served_certificate(&trusting, &https_url(&server, "/healthz")).await;
    let (dns, ips) = names_in(&first);
    assert!(!dns.contains("old-name.local") && !ips.contains(&"10.99.98.97".parse().unwrap()), "{dns:?} {ips:?}");
    assert!(dns.contains("folio.local") && ips.contains(&"127.0.0.1".parse().unwrap()), "{dns:?} {ips:?}");
    server.stop().await;
    assert_eq!(std::fs::read(ca_file(temp.path())).unwrap(), ca_before, "the same authority");

    // Started again: devices set up with the first ca.crt still trust it, and nothing
    // needed a new certificate.
    let server = TestServer::start_https(temp.path().to_path_buf()).await.unwrap();
    let second = served_certificate(&trusting, &https_url(&server, "/healthz")).await;
    assert_eq!(second, first, "same names, same certificate");
    assert_eq!(std::fs::read(ca_file(temp.path())).unwrap(), ca_before);
    server.stop().await;
}

#[tokio::test]
async fn http2_requests_know_their_host_for_the_same_origin_check() {
    // Browsers speak HTTP/2 over TLS, which sends no Host header; a browser that sends Origin
    // but not Sec-Fetch-Site (older Safari) must still be recognised as the box's own page.
    let (server, _temp) = start_https().await;
    let ca = ca_file(&server.data_dir).display().to_string();
    let origin = server.https_url.clone().unwrap();
    // The refusal comes before the body is read, and curl 7.88 takes the stream reset that
    // follows an early answer on HTTP/2 for an error: the refused request has no body.
    let login = r#"{"username":"nobody","password":"wrong"}"#;
    for (from, body, expected) in [(origin.as_str(), Some(login), "2 401"), ("https://evil.example", None, "2 403")] {
        let mut args: Vec<String> = vec![
            "--cacert".into(),
            ca.clone(),
            "--http2".into(),
            "--output".into(),
            "/dev/null".into(),
            "--write-out".into(),
            "%{http_version} %{http_code}".into(),
            "--header".into(),
            format!("Origin: {from}"),
        ];
        match body {
            Some(json) => args.extend(["--json".into(), json.into()]),
            None => args.extend(["--request".into(), "POST".into()]),
        }
        args.push(https_url(&server, "/api/v1/login"));
        let (ok, status, err) = curl(args).await;
        assert!(ok, "Origin {from}: {err}");
        assert_eq!(status, expected, "Origin {from}");
    }
    server.stop().await;
}

fn set_cookie(res: &reqwest::Response) -> String {
    res.headers().get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap().to_string()
}

#[tokio::test]
async fn sessions_over_https_get_secure_cookies_and_over_http_do_not() {
    let (server, _temp) = start_https().await;
    server.setup_admin().await;
    let body = json!({"username": "admin", "password": ADMIN_PASSWORD});

    let plain = server.client();
    let res = plain.post(server.url("/api/v1/login")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!set_cookie(&res).contains("Secure"), "{}", set_cookie(&res));

    let secure = client_trusting(&std::fs::read(ca_file(&server.data_dir)).unwrap());
    let res = secure.post(https_url(&server, "/api/v1/login")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res);
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    // The sign-in page's form too.
    let res = secure
        .post(https_url(&server, "/signin"))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&res).contains("; Secure"), "{}", set_cookie(&res));
    server.stop().await;
}

#[tokio::test]
async fn the_device_page_offers_the_authority_and_checks_trust() {
    use base64::Engine;
    let (server, _temp) = start_https().await;
    let ca_pem = std::fs::read(ca_file(&server.data_dir)).unwrap();
    let ca_der = rustls::pki_types::CertificateDer::from_pem_slice(&ca_pem).unwrap().to_vec();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &ca_der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let client = server.client();

    // Over HTTP, without signing in: the downloads, the fingerprint, the check.
    let res = server.get(&client, "/device").await;
    assert_eq!(res.status(), StatusCode::OK);
    let origin = server.https_url.clone().unwrap();
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains(&format!("connect-src 'self' {origin}")), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = res.text().await.unwrap();
    for expected in [
        "href=\"/device/ca.crt\"",
        "href=\"/device/ca.der\"",
        "href=\"/device/folio.mobileconfig\"",
        &fingerprint,
        &format!("data-check=\"{origin}/healthz\""),
        "/static/device.js",
        "Certificate Trust Settings",
        "Trusted Root Certification Authorities",
        "Use this certificate as an HTTPS certificate authority",
        "Install a certificate",
    ] {
        assert!(html.contains(expected), "{expected} on /device");
    }

    // Other pages keep the strict policy, and link to the page.
    server.setup_admin().await;
    let res = server.get(&client, "/signin").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("connect-src"));
    assert!(res.text().await.unwrap().contains("href=\"/device\""));
    let res = server.get(&client, "/no-such-page").await;
    assert!(res.text().await.unwrap().contains("href=\"/device\""), "the footer is on every page");

    // The downloads.
    let res = server.get(&client, "/device/ca.crt").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/x-pem-file");
    assert_eq!(res.bytes().await.unwrap().as_ref(), ca_pem.as_slice(), "the PEM is <data>/tls/ca.crt");

    let res = server.get(&client, "/device/ca.der").await;
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/pkix-cert");
    let der = res.bytes().await.unwrap().to_vec();
    let (rest, parsed) = x509_parser::parse_x509_certificate(&der).expect("the DER parses");
    assert!(rest.is_empty() && parsed.is_ca());
    assert_eq!(der, ca_der);

    let res = server.get(&client, "/device/folio.mobileconfig").await;
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/x-apple-aspen-config");
    let profile = res.text().await.unwrap();
    assert!(profile.contains("<string>com.apple.security.root</string>"), "{profile}");
    let data = profile.split("<data>").nth(1).unwrap().split("</data>").next().unwrap();
    let data: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(data).unwrap(), ca_der);

    // Over HTTPS the page says so, and needs no check.
    let secure = client_trusting(&ca_pem);
    let res = secure.get(https_url(&server, "/device")).send().await.unwrap();
    assert!(!res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("connect-src"));
    let html = res.text().await.unwrap();
    assert!(html.contains("You are using the secure address"));
    assert!(!html.contains("data-check="));

    // A host the certificate does not name gets no check (it would fail whatever the trust).
    let res = client.get(server.url("/device")).header(header::HOST, "folio.example").send().await.unwrap();
    let html = res.text().await.unwrap();
    assert!(!html.contains("data-check="));
    assert!(html.contains("a name its certificate does not cover"));
    server.stop().await;
}

#[tokio::test]
async fn with_https_off_the_page_says_so_and_no_authority_is_made() {
    let server = TestServer::start().await;
    let client = server.client();
    let html = server.get(&client, "/device").await.text().await.unwrap();
    assert!(html.contains("turned off"), "{html}");
    assert_eq!(server.get(&client, "/device/ca.crt").await.status(), StatusCode::NOT_FOUND);
    // The box's identity among boxes lives in tls/ too; the authority is not made.
    assert!(!server.data_dir.join("tls").join("ca.crt").exists());
    assert!(!server.data_dir.join("tls").join("ca.key").exists());
    server.stop().await;
}

#[tokio::test]
async fn a_damaged_authority_is_reported_kept_and_http_still_serves() {
    let temp = tempfile::tempdir().unwrap();
    let tls_dir = temp.path().join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    std::fs::write(tls_dir.join("ca.crt"), "trusted by every tablet, then damaged").unwrap();

    let server = TestServer::start_https(temp.path().to_path_buf()).await.unwrap();
    let client = server.client();
    let res = server.get(&client, "/healthz").await;
    assert_eq!(res.status(), StatusCode::OK, "HTTP keeps serving");
    let html = server.get(&client, "/device").await.text().await.unwrap();
    assert!(html.contains("The secure address is not working"), "{html}");
    assert!(html.contains("does not replace it"), "{html}");
    let https_address = server.https_url.as_ref().unwrap().trim_start_matches("https://").to_string();
    let refused = tokio::net::TcpStream::connect(https_address).await;
    assert!(refused.is_err(), "no HTTPS with a damaged authority: the port is closed");
    server.stop().await;
    assert_eq!(std::fs::read_to_string(tls_dir.join("ca.crt")).unwrap(), "trusted by every tablet, then damaged");
    assert!(!tls_dir.join("ca.key").exists());
}

/// Runs the folio binary off the runtime's thread.
async fn folio_command(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_folio")).args(&args).env_remove("FOLIO_DATA").output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_restore_keeps_the_box_authority() {
    let source = TestServer::start().await;
    source.setup_admin().await;
    let source_dir = source.data_dir.clone();
    let _source_temp = source.stop().await;
    let stick = tempfile::tempdir().unwrap();
    let out = folio_command(vec![
        "backup".into(),
        "--data".into(),
        source_dir.display().to_string(),
        "--to".into(),
        stick.path().display().to_string(),
    ])
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let backup = std::fs::read_dir(stick.path()).unwrap().flatten().next().unwrap().path();

    // A box whose devices trust its authority gets the backup restored.
    let target = tempfile::tempdir().unwrap();
    drop(folio::tls::Tls::open(target.path(), &folio::tls::BoxNames::new(None, [])).unwrap());
    let read = |file: &str| std::fs::read(target.path().join("tls").join(file)).unwrap();
    let (ca, key) = (read("ca.crt"), read("ca.key"));
    let out = folio_command(vec![
        "restore".into(),
        backup.display().to_string(),
        "--data".into(),
        target.path().display().to_string(),
    ])
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(target.path().join("folio.redb").is_file());
    assert_eq!((read("ca.crt"), read("ca.key")), (ca, key), "the authority stays with the box");
}

#[tokio::test]
async fn a_stopped_server_has_closed_its_database_and_starts_again_at_once() {
    // Stopped right after starting, while its first background work (thumbnails, a sweep)
    // may still run on the blocking pool: `run` returns only once that has let go.
    let temp = tempfile::tempdir().unwrap();
    for round in 0..10 {
        let server =
            TestServer::start_https(temp.path().to_path_buf()).await.unwrap_or_else(|e| panic!("{round}: {e}"));
        let client = client_trusting(&std::fs::read(ca_file(temp.path())).unwrap());
        assert_eq!(client.get(https_url(&server, "/healthz")).send().await.unwrap().status(), StatusCode::OK);
        server.stop().await;
    }
}
