//! Server-side sessions: a random 256-bit id in an `HttpOnly; SameSite=Lax` cookie, the hash
//! of it in the store. A session ends when the person signs out, when it has been idle too
//! long, when it reaches its absolute age, or when the account is disabled.

use std::time::Duration;

use crate::domain::User;
use crate::domain::hlc::wall_clock_ms;
use crate::store::{self, Queries, Session, Store, StoreError};

pub const COOKIE_NAME: &str = "folio_session";

/// The person behind a valid session: who they are, the session row, and its secret id (the
/// cookie's value, kept to tell their own session from their others).
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub session_id: String,
}

/// Idle and absolute limits.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

/// How often (at most) a session's last-seen time is noted. It is kept in memory and written
/// with the next write (`store::lazy`), so a page view never waits for a write.
const TOUCH_EVERY_MS: u64 = 60_000;

/// Starts a session for `user` and returns the secret id for the cookie.
pub fn create(store: &Store, user: &User) -> Result<String, StoreError> {
    let id = super::random_token(32);
    let now = wall_clock_ms();
    let session = Session {
        user: user.id,
        school: user.school,
        csrf_token: super::random_token(24),
        created_ms: now,
        last_seen_ms: now,
    };
    store.write(|tx| store::sessions::put(tx.txn(), super::token_hash(&id), &session))?;
    Ok(id)
}

/// What a session id stands for now.
// Made once a request and taken apart at once by the caller: boxing the user would only add
// an allocation to every request.
#[allow(clippy::large_enum_variant)]
pub enum Found {
    /// A valid session and its person.
    Valid(Session, User),
    /// A session that has expired, or whose person is gone or disabled: to be removed
    /// ([`forget`]).
    Stale,
    /// No such session.
    Unknown,
}

/// The signed-in person behind a session id, if the session is still valid. Only reads (a
/// page view makes no durable write): the use is noted in memory (`store::lazy`), and a stale
/// session is left for the caller to [`forget`].
pub fn lookup(store: &Store, id: &str, limits: Timeouts) -> Result<Found, StoreError> {
    let hash = super::token_hash(id);
    let now = wall_clock_ms();
    let found = store.read(|r| {
        let Some(session) = store::sessions::get(r, hash)? else {
            return Ok::<_, StoreError>(None);
        };
        let user = r.user(session.user)?;
        Ok(Some((session, user)))
    })?;
    let Some((mut session, user)) = found else {
        return Ok(Found::Unknown);
    };
    // Use not yet written counts too (`store::lazy`).
    session.last_seen_ms = session.last_seen_ms.max(store.session_used_ms(hash));
    let expired = now.saturating_sub(session.last_seen_ms) >= limits.idle.as_millis() as u64
        || now.saturating_sub(session.created_ms) >= limits.absolute.as_millis() as u64;
    let Some(user) = user.filter(|u| !u.disabled && !expired) else {
        return Ok(Found::Stale);
    };
    if now.saturating_sub(session.last_seen_ms) > TOUCH_EVERY_MS {
        session.last_seen_ms = now;
        store.mark_session_used(hash, now);
    }
    Ok(Found::Valid(session, user))
}

/// Removes a stale session (a durable write).
pub fn forget(store: &Store, id: &str) -> Result<(), StoreError> {
    store.write(|tx| store::sessions::remove(tx.txn(), super::token_hash(id)))
}

pub fn end(store: &Store, id: &str) -> Result<(), StoreError> {
    store.write(|tx| store::sessions::remove(tx.txn(), super::token_hash(id)))
}

pub fn remove_expired(store: &Store, limits: Timeouts) -> Result<(), StoreError> {
    store.write(|tx| {
        store::sessions::remove_expired(
            tx.txn(),
            wall_clock_ms(),
            limits.idle.as_millis() as u64,
            limits.absolute.as_millis() as u64,
        )
    })
}

/// The `Set-Cookie` value for a new session.
pub fn cookie(id: &str, secure: bool, absolute: Duration) -> String {
    format!(
        "{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        absolute.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

pub fn clearing_cookie(secure: bool) -> String {
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// The session id from a `Cookie` header, if any.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}
