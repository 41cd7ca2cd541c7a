//! Request-derived facts as extractors: the signed-in person, the caller's address, whether
//! the connection is HTTPS.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::AppState;
use crate::auth::session;
use crate::error::Error;

/// The person behind a valid session cookie ([`crate::auth::session::SignedIn`]). As an
/// extractor it rejects with 401 (API) when there is none.
pub use crate::auth::session::SignedIn;

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        MaybeSignedIn::from_request_parts(parts, state).await?.0.ok_or(Error::Unauthenticated)
    }
}

/// A session if there is one (pages that look different when signed in).
pub struct MaybeSignedIn(pub Option<SignedIn>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(found) = parts.extensions.get::<SignedIn>() {
            return Ok(MaybeSignedIn(Some(found.clone())));
        }
        let Some(id) = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(session::from_cookie_header)
            .map(str::to_owned)
        else {
            return Ok(MaybeSignedIn(None));
        };
        let limits = state.config.sessions;
        let lookup_id = id.clone();
        let signed_in = match state.read_now(|store| Ok(session::lookup(store, &lookup_id, limits)?))? {
            session::Found::Valid(session, user) => Some(SignedIn { user, session, session_id: id }),
            session::Found::Stale => {
                state.db(move |store| Ok(session::forget(store, &lookup_id)?)).await?;
                None
            }
            session::Found::Unknown => None,
        };
        if let Some(s) = &signed_in {
            parts.extensions.insert(s.clone());
        }
        Ok(MaybeSignedIn(signed_in))
    }
}

/// The caller's network address, for throttling.
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(addr))
    }
}

/// Marks a request that arrived over TLS (set by the HTTPS listener), so cookies get `Secure`.
#[derive(Clone, Copy, Debug)]
pub struct TlsConnection;

/// Whether this request came over HTTPS.
pub struct ViaHttps(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for ViaHttps {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ViaHttps(parts.extensions.get::<TlsConnection>().is_some()))
    }
}
