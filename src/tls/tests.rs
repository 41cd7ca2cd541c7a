use std::net::IpAddr;

use super::*;

const DAY: i64 = 24 * 60 * 60;
/// 2027-01-01: a fixed "now" so the tests do not depend on the clock.
const T0: i64 = 1_798_761_600;

fn names(addresses: &[&str]) -> BoxNames {
    BoxNames::new(Some("classroom"), addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()))
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(DIR).join(file)).unwrap()
}

/// The names in the certificate a TLS client is shown, through a real handshake.
async fn served_names(tls: &Arc<Tls>) -> BoxNames {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let acceptor = tls.acceptor();
    let server = tokio::spawn(async move { acceptor.accept(server_io).await.map(|_| ()) });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(tls.ca_der().to_vec())).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = connector.connect(ServerName::try_from("classroom.local").unwrap(), client_io).await.unwrap();
    let leaf = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    server.await.unwrap().unwrap();
    authority::describe(&leaf).unwrap().0
}

#[test]
fn first_open_makes_the_authority_and_a_certificate_with_private_keys() {
    let data = tempfile::tempdir().unwrap();
    let tls = Tls::open_at(data.path(), &names(&["192.168.1.20"]), T0).unwrap();
    assert_eq!(read(data.path(), "ca.crt"), tls.ca_pem().as_bytes());
    assert_eq!(ca_path(data.path()), data.path().join("tls/ca.crt"));
    assert_eq!(tls.names(), names(&["192.168.1.20"]));
    assert!(tls.ca_name().starts_with("folio box authority "), "{}", tls.ca_name());
    assert_eq!(tls.ca_fingerprint().len(), 32 * 3 - 1);
    assert_eq!(tls.server_expires(), authority::date(T0 + 365 * DAY));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| std::fs::metadata(data.path().join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("tls"), 0o700);
        assert_eq!(mode("tls/ca.key"), 0o600);
        assert_eq!(mode("tls/server.key"), 0o600);
    }
}

#[test]
fn opening_again_keeps_the_authority_and_the_certificate() {
    let data = tempfile::tempdir().unwrap();
    let n = names(&["192.168.1.20"]);
    let first = Tls::open_at(data.path(), &n, T0).unwrap();
    let (ca, server) = (read(data.path(), "ca.crt"), read(data.path(), "server.crt"));
    drop(first);
    let again = Tls::open_at(data.path(), &n, T0 + DAY).unwrap();
    assert_eq!(read(data.path(), "ca.crt"), ca);
    assert_eq!(read(data.path(), "server.crt"), server, "nothing changed, so no new certificate");
    assert_eq!(again.ca_pem().as_bytes(), ca);
}

#[test]
fn new_addresses_at_start_mean_a_new_certificate_from_the_same_authority() {
    let data = tempfile::tempdir().unwrap();
    Tls::open_at(data.path(), &names(&["192.168.1.20"]), T0).unwrap();
    let (ca, server) = (read(data.path(), "ca.crt"), read(data.path(), "server.crt"));
    let moved = Tls::open_at(data.path(), &names(&["10.0.0.7"]), T0).unwrap();
    assert_eq!(read(data.path(), "ca.crt"), ca);
    assert_ne!(read(data.path(), "server.crt"), server);
    assert_eq!(moved.names(), names(&["10.0.0.7"]));
    assert_eq!(authority::read_issued(&data.path().join(DIR)).unwrap().names, names(&["10.0.0.7"]));
}

#[tokio::test]
async fn refresh_swaps_the_certificate_in_without_a_restart() {
    // The client checks dates with the real clock.
    let t = now();
    let data = tempfile::tempdir().unwrap();
    let tls = Arc::new(Tls::open_at(data.path(), &names(&["192.168.1.20"]), t).unwrap());
    assert_eq!(served_names(&tls).await, names(&["192.168.1.20"]));

    assert!(!tls.refresh_at(&names(&["192.168.1.20"]), t).unwrap(), "same names: nothing to do");
    assert!(tls.refresh_at(&names(&["192.168.1.20", "fd00::20"]), t).unwrap());
    assert_eq!(served_names(&tls).await, names(&["192.168.1.20", "fd00::20"]), "the next handshake has it");
}

#[test]
fn the_certificate_is_renewed_well_before_its_end() {
    let data = tempfile::tempdir().unwrap();
    let n = names(&[]);
    let tls = Tls::open_at(data.path(), &n, T0).unwrap();
    assert!(!tls.refresh_at(&n, T0 + 300 * DAY).unwrap(), "65 days left");
    assert!(tls.refresh_at(&n, T0 + 310 * DAY).unwrap(), "55 days left");
    assert_eq!(tls.server_expires(), authority::date(T0 + 310 * DAY + 365 * DAY));
    assert!(!tls.refresh_at(&n, T0 + 311 * DAY).unwrap());
    // An expired certificate found at start is replaced too.
    let later = Tls::open_at(data.path(), &n, T0 + 1000 * DAY).unwrap();
    assert_eq!(later.server_expires(), authority::date(T0 + 1365 * DAY));
}

#[test]
fn a_damaged_server_certificate_is_made_again() {
    let data = tempfile::tempdir().unwrap();
    let n = names(&[]);
    Tls::open_at(data.path(), &n, T0).unwrap();
    let ca = read(data.path(), "ca.crt");
    for (file, content) in [("server.crt", &b"garbage"[..]), ("server.key", b"")] {
        std::fs::write(data.path().join(DIR).join(file), content).unwrap();
        let tls = Tls::open_at(data.path(), &n, T0).unwrap();
        assert_eq!(tls.names(), n);
        assert_eq!(read(data.path(), "ca.crt"), ca);
    }
    std::fs::remove_file(data.path().join(DIR).join("server.crt")).unwrap();
    Tls::open_at(data.path(), &n, T0).unwrap();
    assert_eq!(read(data.path(), "ca.crt"), ca);
}

#[test]
fn a_damaged_authority_is_an_error_and_is_never_replaced() {
    let n = names(&[]);
    let other = tempfile::tempdir().unwrap();
    Tls::open_at(other.path(), &n, T0).unwrap();
    let other_key = read(other.path(), "ca.key");
    type Damage = fn(&Path, &[u8]);
    let cases: [(&str, Damage); 4] = [
        ("ca.crt is garbage", |dir, _| std::fs::write(dir.join("ca.crt"), "not a certificate").unwrap()),
        ("ca.key is missing", |dir, _| std::fs::remove_file(dir.join("ca.key")).unwrap()),
        ("ca.key is garbage", |dir, _| std::fs::write(dir.join("ca.key"), "not a key").unwrap()),
        ("ca.key is another authority's", |dir, other| std::fs::write(dir.join("ca.key"), other).unwrap()),
    ];
    for (case, damage) in cases {
        let data = tempfile::tempdir().unwrap();
        Tls::open_at(data.path(), &n, T0).unwrap();
        damage(&data.path().join(DIR), &other_key);
        let (ca, key) =
            (std::fs::read(data.path().join("tls/ca.crt")).ok(), std::fs::read(data.path().join("tls/ca.key")).ok());
        let err = Tls::open_at(data.path(), &n, T0).expect_err(case);
        assert!(matches!(err, TlsError::Authority { .. }), "{case}: {err}");
        assert!(err.to_string().contains("does not replace it"), "{case}: {err}");
        assert_eq!(std::fs::read(data.path().join("tls/ca.crt")).ok(), ca, "{case}: ca.crt untouched");
        assert_eq!(std::fs::read(data.path().join("tls/ca.key")).ok(), key, "{case}: ca.key untouched");
    }
}

#[test]
fn a_key_without_its_certificate_was_never_trusted_and_is_made_again() {
    let data = tempfile::tempdir().unwrap();
    Tls::open_at(data.path(), &names(&[]), T0).unwrap();
    std::fs::remove_file(data.path().join("tls/ca.crt")).unwrap();
    let tls = Tls::open_at(data.path(), &names(&[]), T0).unwrap();
    assert_eq!(read(data.path(), "ca.crt"), tls.ca_pem().as_bytes());
}

#[test]
fn the_authority_vouches_only_for_local_names() {
    let data = tempfile::tempdir().unwrap();
    let tls = Tls::open_at(data.path(), &names(&[]), T0).unwrap();
    let signer = &tls.signer;
    let mut outside = BoxNames::default();
    outside.dns.insert("example.com".into());
    let issued = authority::issue(&signer.dir, &signer.authority, &outside, T0).unwrap();
    let key = CertifiedKey::from_der(issued.chain, issued.key, &signer.provider).unwrap();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(T0 as u64));
    let refused = signer.verifier.verify_server_cert(
        key.end_entity_cert().unwrap(),
        &[],
        &ServerName::try_from("example.com").unwrap(),
        &[],
        time,
    );
    let refused = refused.expect_err("a certificate for example.com must not verify");
    assert!(format!("{refused:?}").contains("NameConstraintViolation"), "{refused:?}");
}
