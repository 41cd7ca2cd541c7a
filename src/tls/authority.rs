//! The box's certificate authority and the server certificate it signs, as files in
//! `<data>/tls/`:
//!
//! | file | what | mode |
//! |---|---|---|
//! | `ca.crt` | the authority's certificate (PEM): what devices are told to trust | 0644 |
//! | `ca.key` | its private key (PKCS#8 PEM) | 0600 |
//! | `server.crt` | the server certificate, then the authority's (PEM) | 0644 |
//! | `server.key` | the server certificate's key | 0600 |
//!
//! Each file is written to a temporary name, synced and renamed. A key is written before
//! its certificate, so the certificate's presence says the pair is whole: an authority key
//! with no `ca.crt` beside it was never shown to a device and is simply made again.

use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::extensions::GeneralName;

use super::TlsError;
use super::names::BoxNames;

pub const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.crt";
const SERVER_KEY: &str = "server.key";

const DAY: i64 = 24 * 60 * 60;
/// Devices are set up to trust the authority once, so it lasts: ten years.
const CA_LIFETIME: i64 = 3653 * DAY;
/// The server certificate is renewed well before it ends (`super::RENEW_BEFORE`). With the
/// backdating below its whole validity is 367 days, under the 398 that browsers allow
/// publicly trusted certificates (locally trusted ones are exempt, but nothing is lost).
const SERVER_LIFETIME: i64 = 365 * DAY;
/// Certificates start two days before they are made, so a device whose clock is a little
/// behind the box's does not find them "not yet valid".
const BACKDATE: i64 = 2 * DAY;

/// What an authority is allowed to vouch for, written into its certificate as name
/// constraints: `*.local` and `localhost` (IP addresses are not constrained, since the box
/// may have any). Every device of the school trusts this authority, so a copy of its key
/// taken from a stolen box must not be able to impersonate other websites to them.
const PERMITTED_DNS: [&str; 2] = ["local", "localhost"];

/// The authority, ready to sign.
pub struct Authority {
    pub der: CertificateDer<'static>,
    pub pem: String,
    /// Its common name, as devices list it among their trusted authorities.
    pub name: String,
    pub fingerprint: [u8; 32],
    pub not_after: i64,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate with its key, as written or read back.
pub struct Issued {
    /// The server certificate, then the authority's.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub names: BoxNames,
    pub not_before: i64,
    pub not_after: i64,
}

/// Reads the authority in `dir`, or makes one if there is no `ca.crt` yet (then `true`).
/// An authority that is there but cannot be used is an error, never replaced: devices may
/// trust it.
pub fn open(dir: &Path, now: i64) -> Result<(Authority, bool), TlsError> {
    let unusable = |why: String| TlsError::Authority { dir: dir.to_path_buf(), why };
    let pem = match fs::read_to_string(dir.join(CA_CERT)) {
        Ok(pem) => pem,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((create(dir, now)?, true)),
        Err(e) => return Err(unusable(format!("{CA_CERT} cannot be read ({e})"))),
    };
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| unusable(format!("{CA_CERT} holds no certificate ({e})")))?;
    let key_pem = fs::read_to_string(dir.join(CA_KEY)).map_err(|e| {
        unusable(match e.kind() {
            io::ErrorKind::NotFound => format!("its key, {CA_KEY}, is missing"),
            _ => format!("its key, {CA_KEY}, cannot be read ({e})"),
        })
    })?;
    let key =
        KeyPair::from_pem(&key_pem).map_err(|e| unusable(format!("{CA_KEY} is not a key folio can use ({e})")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| unusable(format!("{CA_CERT} is not a certificate folio can read ({e})")))?;
    if !cert.is_ca() {
        return Err(unusable(format!("{CA_CERT} is not a certificate authority")));
    }
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(unusable(format!("{CA_KEY} is not the key of {CA_CERT}")));
    }
    let not_after = cert.validity().not_after.timestamp();
    if not_after <= now {
        return Err(unusable(format!("it expired on {}", date(not_after))));
    }
    if not_after - now < SERVER_LIFETIME {
        tracing::warn!(
            "the box's certificate authority expires on {}: before then, remove {} to make a new one and set up the devices again",
            date(not_after),
            dir.display()
        );
    }
    let name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| cert.subject().to_string());
    owner_only(&dir.join(CA_KEY));
    let issuer = Issuer::from_ca_cert_der(&der, key)
        .map_err(|e| unusable(format!("{CA_CERT} cannot sign certificates ({e})")))?;
    Ok((Authority { fingerprint: sha256(&der), der, pem, name, not_after, issuer }, false))
}

/// Makes a new authority in `dir` (made if needed, mode 0700).
fn create(dir: &Path, now: i64) -> Result<Authority, TlsError> {
    make_dir(dir)?;
    let key = KeyPair::generate().map_err(TlsError::certificate)?;
    let name = format!("folio box authority {:08X}", rand::random::<u32>());
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: PERMITTED_DNS.iter().map(|d| GeneralSubtree::DnsName(d.to_string())).collect(),
        excluded_subtrees: Vec::new(),
    });
    params.serial_number = Some(serial());
    params.not_before = at(now - BACKDATE);
    params.not_after = at(now + CA_LIFETIME);
    let cert = params.self_signed(&key).map_err(TlsError::certificate)?;
    write_file(&dir.join(CA_KEY), key.serialize_pem().as_bytes(), 0o600)?;
    let pem = cert.pem();
    write_file(&dir.join(CA_CERT), pem.as_bytes(), 0o644)?;
    let der = cert.der().clone();
    Ok(Authority {
        fingerprint: sha256(&der),
        der,
        pem,
        name,
        not_after: now + CA_LIFETIME,
        issuer: Issuer::new(params, key),
    })
}

/// Signs a new server certificate for `names` with a new key and writes both.
pub fn issue(dir: &Path, authority: &Authority, names: &BoxNames, now: i64) -> Result<Issued, TlsError> {
    let key = KeyPair::generate().map_err(TlsError::certificate)?;
    let mut params = CertificateParams::default();
    // Browsers read only the alternative names; the common name is for people (and is a
    // name the authority's constraints allow, for verifiers that do look at it).
    params.distinguished_name = distinguished_name(super::names::BOX_NAME);
    params.subject_alt_names = names
        .dns
        .iter()
        .map(|d| rcgen::string::Ia5String::try_from(d.as_str()).map(SanType::DnsName))
        .chain(names.ips.iter().map(|ip| Ok(SanType::IpAddress(*ip))))
        .collect::<Result<_, _>>()
        .map_err(TlsError::certificate)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial());
    // Never past the authority's own end, where it would stop verifying anyway.
    let (not_before, not_after) = (now - BACKDATE, (now + SERVER_LIFETIME).min(authority.not_after));
    params.not_before = at(not_before);
    params.not_after = at(not_after);
    let cert = params.signed_by(&key, &authority.issuer).map_err(TlsError::certificate)?;
    write_file(&dir.join(SERVER_KEY), key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&dir.join(SERVER_CERT), format!("{}{}", cert.pem(), authority.pem).as_bytes(), 0o644)?;
    Ok(Issued {
        chain: vec![cert.der().clone(), authority.der.clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        names: names.clone(),
        not_before,
        not_after,
    })
}

/// Reads the server certificate and key in `dir`; why not, if they cannot be used as they
/// are (then a new one is made: devices trust the authority, not this certificate).
pub fn read_issued(dir: &Path) -> Result<Issued, String> {
    let pem = match fs::read(dir.join(SERVER_CERT)) {
        Ok(pem) => pem,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("there is none yet".into()),
        Err(e) => return Err(format!("{SERVER_CERT} cannot be read ({e})")),
    };
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{SERVER_CERT} is damaged ({e})"))?;
    let leaf = chain.first().ok_or_else(|| format!("{SERVER_CERT} holds no certificate"))?;
    let key = PrivateKeyDer::from_pem_file(dir.join(SERVER_KEY)).map_err(|e| format!("{SERVER_KEY}: {e}"))?;
    let (names, not_before, not_after) = describe(leaf).map_err(|e| format!("{SERVER_CERT}: {e}"))?;
    owner_only(&dir.join(SERVER_KEY));
    Ok(Issued { chain, key, names, not_before, not_after })
}

/// The names a server certificate is for, and when it starts and ends.
pub fn describe(der: &[u8]) -> Result<(BoxNames, i64, i64), String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let mut names = BoxNames::default();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => {
                    names.dns.insert(d.to_ascii_lowercase());
                }
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        names.ips.insert(ip);
                    }
                }
                _ => {}
            }
        }
    }
    Ok((names, cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp()))
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "folio");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// 127 random bits, positive as DER integers must be.
fn serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A date as people read it in logs and on the device page: 2036-11-21.
pub fn date(unix: i64) -> String {
    at(unix).date().to_string()
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().try_into().expect("SHA-256 is 32 bytes")
}

pub(crate) fn make_dir(dir: &Path) -> Result<(), TlsError> {
    let failed = |source| TlsError::Write { path: dir.to_path_buf(), source };
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all, with `mode`.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let temp = PathBuf::from(format!("{}.new", path.display()));
    let write = || -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(mode);
            let mut file = options.open(&temp)?;
            // A leftover temp file keeps its old mode; set it before anything secret is in it.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        #[cfg(not(unix))]
        {
            let _ = mode;
            let mut file = options.open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        fs::rename(&temp, path)?;
        if let Some(parent) = path.parent() {
            fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|source| {
        let _ = fs::remove_file(&temp);
        TlsError::Write { path: path.to_path_buf(), source }
    })
}

/// A key file readable by others (copied in by hand, say) is made owner-only again.
pub(crate) fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "a TLS key was readable by others; it is owner-only (0600) again");
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
