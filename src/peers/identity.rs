//! The box's own identity among boxes: a key pair and a self-signed certificate in
//! `<data>/tls/` (`box.key` 0600, `box.crt`), made once at first start.
//!
//! A box's id is the SHA-256 of its certificate (DER). Boxes pin each other's ids when they
//! pair, and check them on every connection (mutual TLS) and on every USB bundle (signed with
//! this key). Nothing vouches for the certificate but the pairing itself, so it needs no
//! authority and no names; it lasts 100 years, since replacing it would undo every pairing.
//!
//! The files live beside the HTTPS authority, so they share its handling: kept by a restore,
//! left out of backups (a backup is not a way to copy a box's identity onto another).

use std::fmt;
use std::path::Path;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub use crate::domain::peer::BoxId;
use crate::tls::TlsError;
use crate::tls::authority::{make_dir, owner_only, write_file};

const KEY: &str = "box.key";
const CERT: &str = "box.crt";

/// This box's key and certificate.
pub struct Identity {
    id: BoxId,
    cert: CertificateDer<'static>,
    /// PKCS#8 DER.
    key: Vec<u8>,
    signer: EcdsaKeyPair,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Identity {
    /// Reads the identity in `<data>/tls/`, making it at first start. A key with no
    /// certificate beside it was never shown to anyone and is made again; a certificate whose
    /// key is missing or does not match is an error (pairings depend on it), never replaced.
    pub fn load_or_create(data_dir: &Path) -> Result<Identity, TlsError> {
        let dir = data_dir.join(crate::tls::DIR);
        make_dir(&dir)?;
        let (key_path, cert_path) = (dir.join(KEY), dir.join(CERT));
        let broken = |why: String| TlsError::Authority { dir: dir.clone(), why };
        if !cert_path.exists() {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| broken(e.to_string()))?;
            let mut params = CertificateParams::default();
            let mut name = DistinguishedName::new();
            name.push(DnType::CommonName, "folio box");
            params.distinguished_name = name;
            params.not_before = time::OffsetDateTime::from_unix_timestamp(0).expect("the epoch is a date");
            params.not_after = rcgen::date_time_ymd(2125, 1, 1);
            let cert = params.self_signed(&key).map_err(|e| broken(e.to_string()))?;
            write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
            write_file(&cert_path, cert.pem().as_bytes(), 0o644)?;
        }
        owner_only(&key_path);
        let cert = CertificateDer::from_pem_file(&cert_path).map_err(|e| broken(format!("{CERT}: {e}")))?;
        let key = match PrivateKeyDer::from_pem_file(&key_path).map_err(|e| broken(format!("{KEY}: {e}")))? {
            PrivateKeyDer::Pkcs8(key) => key.secret_pkcs8_der().to_vec(),
            _ => return Err(broken(format!("{KEY} is not a PKCS#8 key"))),
        };
        let signer = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key, &SystemRandom::new())
            .map_err(|e| broken(format!("{KEY}: {e}")))?;
        let identity = Identity { id: BoxId::of_certificate(&cert), cert, key, signer };
        if public_key(&identity.cert).as_deref() != Some(identity.signer.public_key().as_ref()) {
            return Err(broken(format!("{KEY} is not the key of {CERT}")));
        }
        Ok(identity)
    }

    pub fn id(&self) -> BoxId {
        self.id
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The key as rustls takes it, for the mutual-TLS client and server.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }

    /// An ECDSA P-256 / SHA-256 signature (ASN.1 DER) of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signer
            .sign(&SystemRandom::new(), message)
            .expect("signing with a valid key does not fail")
            .as_ref()
            .to_vec()
    }
}

/// Whether `signature` is the signature of `message` by the key of the box whose certificate
/// is `cert_der` (see [`Identity::sign`]).
pub fn verify(cert_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    public_key(cert_der)
        .is_some_and(|key| UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key).verify(message, signature).is_ok())
}

/// The uncompressed EC point of a certificate's public key.
fn public_key(cert_der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn an_identity_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = Identity::load_or_create(dir.path()).unwrap();
        let again = Identity::load_or_create(dir.path()).unwrap();
        assert_eq!(first.id(), again.id());
        assert_eq!(first.id(), BoxId::of_certificate(again.cert_der()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("tls").join(KEY)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let other = Identity::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        assert_ne!(first.id(), other.id());
    }

    #[test]
    fn signatures_verify_only_with_the_signers_certificate_and_message() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (Identity::load_or_create(a.path()).unwrap(), Identity::load_or_create(b.path()).unwrap());
        let signature = a.sign(b"bundle");
        assert!(verify(a.cert_der(), b"bundle", &signature));
        assert!(!verify(a.cert_der(), b"bundlE", &signature));
        assert!(!verify(b.cert_der(), b"bundle", &signature));
        assert!(!verify(b"not a certificate", b"bundle", &signature));
    }

    #[test]
    fn a_certificate_whose_key_was_swapped_is_refused_not_replaced() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        Identity::load_or_create(a.path()).unwrap();
        Identity::load_or_create(b.path()).unwrap();
        fs::copy(b.path().join("tls").join(KEY), a.path().join("tls").join(KEY)).unwrap();
        let before = fs::read(a.path().join("tls").join(CERT)).unwrap();
        let err = Identity::load_or_create(a.path()).unwrap_err().to_string();
        assert!(err.contains("is not the key of"), "{err}");
        assert_eq!(fs::read(a.path().join("tls").join(CERT)).unwrap(), before);
    }

    #[test]
    fn box_ids_read_back_from_text() {
        let id = BoxId([0xab; 32]);
        assert_eq!(id.to_string().parse::<BoxId>().unwrap(), id);
        assert_eq!(id.short(), "abababababab");
        assert!("abc".parse::<BoxId>().is_err());
        assert!("zz".repeat(32).parse::<BoxId>().is_err());
    }
}
