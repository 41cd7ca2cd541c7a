//! HTTPS on the school network from a certificate authority of the box's own.
//!
//! Browsers allow service workers (offline work) and, on some, the camera only on a secure
//! origin, and no public authority will vouch for `folio.local` or `192.168.1.20`. So at
//! first start folio makes its own authority in `<data>/tls/` and signs with it a server
//! certificate for every name and address the box has ([`BoxNames`]); school IT makes the
//! devices trust the authority once (the page `/device` offers it and says how).
//!
//! - The authority lasts ten years and is never replaced by folio itself: devices trust it.
//!   If its files are there but unusable, [`Tls::open`] says so and HTTPS stays off.
//! - The server certificate is made again, by the same authority, when the box's names or
//!   addresses change or it nears its end. [`spawn_renewal`] checks every minute and swaps
//!   the new one in for the next handshake ([`Tls`] is the listener's
//!   `ResolvesServerCert`), without a restart.
//!
//! `authority` holds the files and the signing; `names` what the certificate names.

pub(crate) mod authority;
mod names;

pub use authority::CA_CERT;
pub use names::{BOX_NAME, BoxNames};

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use authority::{Authority, Issued};

/// The folder in the data directory.
pub const DIR: &str = "tls";

/// A server certificate closer than this to its end is made again.
const RENEW_BEFORE: i64 = 60 * 24 * 60 * 60;

/// A clock before this is wrong: a board without a real-time clock that has not yet found
/// a time server. Certificates made then would look decades old to every device, and the
/// authority would never become right; so folio takes this as the time instead
/// (2026-11-01T00:00:00Z, a little before this code was written).
const CLOCK_FLOOR: i64 = 1_793_491_200;

/// How often [`spawn_renewal`] looks at the box's names and the certificate's end.
pub const RENEWAL_CHECK: Duration = Duration::from_secs(60);

/// Where the authority's certificate is: school IT may copy it from here too.
pub fn ca_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR).join(CA_CERT)
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The authority's files are there but cannot be used. Devices may trust it, so folio
    /// never replaces it by itself.
    #[error(
        "folio cannot use the box's certificate authority in {dir}: {why}. Devices may already trust it, so folio does not replace it by itself. Put the folder back as it was, or remove it to make a new authority (then set up every device again at /device)"
    )]
    Authority { dir: PathBuf, why: String },
    #[error("cannot write {path}: {source}. Is the disk full or read-only?")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot make a certificate: {0}")]
    Certificate(String),
}

impl TlsError {
    fn certificate(e: impl std::fmt::Display) -> Self {
        TlsError::Certificate(e.to_string())
    }
}

/// The box's authority and the server certificate in use. Cheap to share (`Arc`); the
/// certificate is swapped under a lock that handshakes hold only to clone an `Arc`.
pub struct Tls {
    signer: Signer,
    served: RwLock<Arc<Served>>,
}

/// The authority, where its files are, and what checks its certificates.
struct Signer {
    dir: PathBuf,
    authority: Authority,
    provider: Arc<CryptoProvider>,
    /// Checks every certificate before it is used: signed by the authority, valid now.
    verifier: Arc<WebPkiServerVerifier>,
}

/// The server certificate in use.
struct Served {
    key: Arc<CertifiedKey>,
    names: BoxNames,
    not_before: i64,
    not_after: i64,
}

impl Tls {
    /// Reads (or, the first time, makes) the authority in `<data_dir>/tls/` and makes sure
    /// the server certificate is one of its own, valid and for `names`. Blocking.
    pub fn open(data_dir: &Path, names: &BoxNames) -> Result<Tls, TlsError> {
        Self::open_at(data_dir, names, now())
    }

    fn open_at(data_dir: &Path, names: &BoxNames, now: i64) -> Result<Tls, TlsError> {
        let signer = Signer::open(&data_dir.join(DIR), now)?;
        let kept = authority::read_issued(&signer.dir).and_then(|issued| signer.check(issued, now));
        let served = match kept {
            Ok(served) => match signer.why_renew(&served, names, now) {
                None => served,
                Some(why) => signer.issue(names, now, &why)?,
            },
            Err(why) => signer.issue(names, now, &why)?,
        };
        Ok(Tls { signer, served: RwLock::new(Arc::new(served)) })
    }

    /// Makes a new server certificate if `names` differ from the current one's or it nears
    /// its end, and serves it from the next handshake on. Returns whether it did. Blocking;
    /// called from one task at a time.
    pub fn refresh(&self, names: &BoxNames) -> Result<bool, TlsError> {
        self.refresh_at(names, now())
    }

    fn refresh_at(&self, names: &BoxNames, now: i64) -> Result<bool, TlsError> {
        let Some(why) = self.signer.why_renew(&self.current(), names, now) else {
            return Ok(false);
        };
        let served = self.signer.issue(names, now, &why)?;
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(served);
        Ok(true)
    }

    /// A TLS acceptor that serves the current certificate, HTTP/2 or HTTP/1.1 by ALPN.
    pub fn acceptor(self: &Arc<Self>) -> tokio_rustls::TlsAcceptor {
        let mut config = rustls::ServerConfig::builder_with_provider(self.signer.provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring offers TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    /// The authority's certificate, PEM (the bytes of `<data>/tls/ca.crt`).
    pub fn ca_pem(&self) -> &str {
        &self.signer.authority.pem
    }

    /// The authority's certificate, DER.
    pub fn ca_der(&self) -> &[u8] {
        &self.signer.authority.der
    }

    /// The authority's name, as devices list it.
    pub fn ca_name(&self) -> &str {
        &self.signer.authority.name
    }

    /// SHA-256 of the authority's certificate, as devices show it: `AB:CD:...`.
    pub fn ca_fingerprint(&self) -> String {
        self.signer.authority.fingerprint.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }

    /// The SHA-256 fingerprint's raw bytes (stable identifiers in the Apple profile).
    pub fn ca_fingerprint_bytes(&self) -> [u8; 32] {
        self.signer.authority.fingerprint
    }

    /// When the authority ends, as a date.
    pub fn ca_expires(&self) -> String {
        authority::date(self.signer.authority.not_after)
    }

    /// What the certificate in use names.
    pub fn names(&self) -> BoxNames {
        self.current().names.clone()
    }

    /// When the certificate in use ends, as a date.
    pub fn server_expires(&self) -> String {
        authority::date(self.current().not_after)
    }

    fn current(&self) -> Arc<Served> {
        self.served.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Signer {
    fn open(dir: &Path, now: i64) -> Result<Signer, TlsError> {
        let (authority, created) = authority::open(dir, now)?;
        if created {
            tracing::info!(authority = %authority.name, "made the box's certificate authority in {}", dir.display());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(authority.der.clone()).map_err(|e| TlsError::Authority {
            dir: dir.to_path_buf(),
            why: format!("{CA_CERT} cannot be a trust anchor ({e})"),
        })?;
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(TlsError::certificate)?;
        Ok(Signer { dir: dir.to_path_buf(), authority, provider, verifier })
    }

    /// Why the certificate in use should be made again, if it should.
    fn why_renew(&self, served: &Served, names: &BoxNames, now: i64) -> Option<String> {
        if served.names != *names {
            return Some(format!("the box's names are now {}", names.to_strings().join(", ")));
        }
        if served.not_after - now < RENEW_BEFORE && served.not_after < self.authority.not_after {
            return Some(format!("it ends on {}", authority::date(served.not_after)));
        }
        if served.not_before > now {
            return Some("it starts in the future (the clock went back)".into());
        }
        None
    }

    fn issue(&self, names: &BoxNames, now: i64, why: &str) -> Result<Served, TlsError> {
        tracing::info!("making a new HTTPS certificate: {why}");
        let issued = authority::issue(&self.dir, &self.authority, names, now)?;
        // A certificate that does not verify against ca.crt would fail on every device: an
        // authority whose files disagree is the likeliest cause.
        self.check(issued, now).map_err(|why| TlsError::Authority {
            dir: self.dir.clone(),
            why: format!("a certificate it signs does not verify ({why})"),
        })
    }

    /// The certificate as rustls serves it, if it is whole, its key matches, and it
    /// verifies against the authority now.
    fn check(&self, issued: Issued, now: i64) -> Result<Served, String> {
        let Issued { chain, key, names, not_before, not_after } = issued;
        let key = CertifiedKey::from_der(chain, key, &self.provider).map_err(|e| format!("its key: {e}"))?;
        let leaf = key.end_entity_cert().map_err(|e| e.to_string())?;
        let time = UnixTime::since_unix_epoch(Duration::from_secs(now.max(0) as u64));
        self.verifier
            .verify_server_cert(leaf, &[], &ServerName::try_from("localhost").expect("a name"), &[], time)
            .map_err(|e| format!("it does not verify against {CA_CERT}: {e}"))?;
        Ok(Served { key: Arc::new(key), names, not_before, not_after })
    }
}

impl ResolvesServerCert for Tls {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current().key.clone())
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("dir", &self.signer.dir)
            .field("authority", &self.signer.authority.name)
            .finish_non_exhaustive()
    }
}

/// Seconds since 1970, never before [`CLOCK_FLOOR`].
fn now() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    if secs < CLOCK_FLOOR {
        tracing::warn!(
            "the clock says {}; certificates are dated as if it were {}",
            authority::date(secs),
            authority::date(CLOCK_FLOOR)
        );
    }
    secs.max(CLOCK_FLOOR)
}

/// Checks the box's names every [`RENEWAL_CHECK`] and makes a new certificate when needed.
pub fn spawn_renewal(tls: Arc<Tls>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RENEWAL_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is now, and `open` has just looked
        loop {
            tick.tick().await;
            let tls = tls.clone();
            match tokio::task::spawn_blocking(move || tls.refresh(&BoxNames::current())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!("cannot renew the HTTPS certificate: {e}"),
                Err(e) => tracing::warn!("cannot renew the HTTPS certificate: {e}"),
            }
        }
    })
}

/// What the pages know about HTTPS on this box.
#[derive(Clone, Debug, Default)]
pub enum Https {
    /// Not served (`--tls-listen off`).
    #[default]
    Off,
    /// Asked for but not working; why, in words for school IT.
    Failed(Arc<str>),
    /// Served on `port`.
    On { tls: Arc<Tls>, port: u16 },
}

#[cfg(test)]
mod tests;
