//! Mutual TLS between boxes, with the box's identity certificate on both ends.
//!
//! No authority vouches for a box: its certificate is self-signed, and what makes it trusted
//! is its SHA-256 (its [`BoxId`]) being pinned at pairing. So the checks are:
//!
//! - **Server (the peer port):** every client must present a certificate, and any
//!   well-formed self-signed one passes the handshake ([`AnySelfSigned`]); the handshake
//!   signature is checked as usual, so the client holds that certificate's key. Who the
//!   client is (its id, pinned or not) is decided per request by `peers::server`.
//! - **Client:** the server's certificate must hash to the id we pinned ([`Pinned`]), and its
//!   handshake signature must verify; no names, no dates (a box's certificate lasts 100 years
//!   and boxes may have no real-time clock).

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::{BoxId, Identity};

/// ring's suites with AES-128-GCM first. Both ends are folio, so this choice is the one made:
/// a full sync moves gigabytes through it on a small box, and AES-128 takes 10 rounds per block
/// where AES-256 takes 14, for the same GCM (it is one of TLS 1.3's required suites).
fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|s| s.suite() != rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    Arc::new(provider)
}

/// The peer port's TLS settings: our identity, and a client certificate required.
pub fn server_config(identity: &Identity) -> Result<rustls::ServerConfig, rustls::Error> {
    let provider = provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(AnySelfSigned { provider }))
        .with_single_cert(vec![identity.cert_der().clone()], identity.key_der())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// What the server presented on the last handshake of a client: its id and certificate.
pub type Presented = Arc<Mutex<Option<(BoxId, Vec<u8>)>>>;

/// A client's TLS settings for talking to the box `expected`, presenting our identity. The
/// certificate the server showed is left in `presented` (so a refusal can say which key it
/// was, and pairing can keep the certificate).
pub fn client_config(
    identity: &Identity,
    expected: BoxId,
    presented: Presented,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { expected, provider, presented }))
        .with_client_auth_cert(vec![identity.cert_der().clone()], identity.key_der())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The handshake-signature half of a verifier, the same for both ends: checked with the
/// crypto provider's algorithms (only *which certificate* is accepted differs between them).
macro_rules! handshake_signatures_by_provider {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider.signature_verification_algorithms.supported_schemes()
        }
    };
}

/// Accepts any well-formed, self-signed client certificate whose holder proves its key.
#[derive(Debug)]
pub struct AnySelfSigned {
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AnySelfSigned {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if is_self_signed(end_entity) {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::BadEncoding))
        }
    }

    handshake_signatures_by_provider!();
}

/// Whether `der` is an X.509 certificate signed by its own key.
pub fn is_self_signed(der: &[u8]) -> bool {
    match x509_parser::parse_x509_certificate(der) {
        Ok((rest, cert)) => rest.is_empty() && cert.verify_signature(None).is_ok(),
        Err(_) => false,
    }
}

/// Accepts only the certificate whose SHA-256 is the pinned id.
#[derive(Debug)]
struct Pinned {
    expected: BoxId,
    provider: Arc<CryptoProvider>,
    presented: Presented,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let id = BoxId::of_certificate(end_entity);
        *self.presented.lock().unwrap_or_else(PoisonError::into_inner) = Some((id, end_entity.to_vec()));
        if id == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    handshake_signatures_by_provider!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_certificates_are_self_signed_and_garbage_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let identity = Identity::load_or_create(dir.path()).unwrap();
        assert!(is_self_signed(identity.cert_der()));
        assert!(!is_self_signed(b"not a certificate"));
        let mut tampered = identity.cert_der().to_vec();
        let at = tampered.len() / 2;
        tampered[at] ^= 0x01;
        assert!(!is_self_signed(&tampered));
        // A certificate signed by an authority (the HTTPS one) is not self-signed.
        let tls = crate::tls::Tls::open(dir.path(), &crate::tls::BoxNames::current()).unwrap();
        use rustls::pki_types::pem::PemObject;
        let leaf = CertificateDer::from_pem_file(dir.path().join("tls").join("server.crt")).unwrap();
        assert!(!is_self_signed(&leaf));
        assert!(is_self_signed(tls.ca_der()), "the authority is self-signed");
    }

    #[test]
    fn boxes_offer_aes_128_gcm_first_and_keep_the_others() {
        let suites: Vec<_> = provider().cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(suites[0], rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        let all: Vec<_> = rustls::crypto::ring::default_provider().cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(suites.len(), all.len());
        assert!(all.iter().all(|s| suites.contains(s)));
    }
}
