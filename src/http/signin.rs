//! Signing in, however it is done: a password, a class join code + name + three pictures, or a
//! QR card. All three share the throttle, the "same answer for unknown and wrong" rule and
//! session creation, here; `api` and `pages` only adapt the input and the answer.

use std::net::IpAddr;

use crate::auth::throttle::Kind;
use crate::auth::{session, token_hash};
use crate::domain::pictures::PictureSequence;
use crate::domain::school::{normalize_join_code, normalize_username};
use crate::domain::{ClassId, Role, User, UserId};
use crate::error::{Error, Result};
use crate::store::Queries;

use super::AppState;

/// A successful sign-in: the person and the secret session id for the cookie.
pub struct SignedInNow {
    pub user: User,
    pub session_id: String,
}

fn address_key(addr: IpAddr) -> (Kind, String) {
    (Kind::Address, addr.to_string())
}

/// Verifies `secret` against the hash `pick` chooses from the candidate, throttled by the
/// account key and the caller's address, and starts a session.
async fn finish(
    state: &AppState,
    addr: IpAddr,
    account_key: String,
    candidate: Option<User>,
    secret: String,
    pick: fn(&User) -> Option<String>,
) -> Result<SignedInNow> {
    let keys = [(Kind::Account, account_key), address_key(addr)];
    state.throttle.check(&keys).map_err(Error::Throttled)?;
    let hash = candidate.as_ref().filter(|u| !u.disabled).and_then(pick);
    let ok = state.hasher.verify(secret, hash).await;
    let user = match candidate {
        Some(user) if ok => user,
        _ => {
            state.throttle.failed(&keys);
            return Err(Error::BadCredentials);
        }
    };
    state.throttle.succeeded(&keys[0]);
    let session_user = user.clone();
    let session_id = state.db(move |store| Ok(session::create(store, &session_user)?)).await?;
    Ok(SignedInNow { user, session_id })
}

pub async fn with_password(state: &AppState, addr: IpAddr, username: &str, password: String) -> Result<SignedInNow> {
    let username = normalize_username(username).unwrap_or_default();
    let lookup = username.clone();
    let mut candidates = state.db(move |store| Ok(store.read(|r| r.users_by_username(&lookup))?)).await?;
    // On a district box two schools may both have "ana"; a password is then tried against
    // each, and only one can match it.
    if candidates.len() > 1 {
        let keys = [(Kind::Account, username.clone()), address_key(addr)];
        state.throttle.check(&keys).map_err(Error::Throttled)?;
        for user in candidates.drain(..) {
            if state.hasher.verify(password.clone(), user.password_hash.clone()).await && !user.disabled {
                return finish(state, addr, username, Some(user), password, |u| u.password_hash.clone()).await;
            }
        }
        state.throttle.failed(&keys);
        return Err(Error::BadCredentials);
    }
    finish(state, addr, username, candidates.pop(), password, |u| u.password_hash.clone()).await
}

/// The class behind a join code and its students, for the "tap your name" screen.
/// Unknown codes count against the caller's address, so codes cannot be guessed quickly.
pub async fn class_students(
    state: &AppState,
    addr: IpAddr,
    join_code: &str,
) -> Result<(crate::domain::Class, Vec<User>)> {
    let keys = [address_key(addr)];
    state.throttle.check(&keys).map_err(Error::Throttled)?;
    let code = normalize_join_code(join_code);
    let found = state
        .db(move |store| {
            store.read(|r| {
                let Some(class) = r.class_by_join_code(&code)? else { return Ok(None) };
                let students = r
                    .members(class.id)?
                    .into_iter()
                    .filter(|(u, role)| *role == Role::Student && !u.disabled)
                    .map(|(u, _)| u)
                    .collect();
                Ok(Some((class, students)))
            })
        })
        .await?;
    match found {
        Some(found) => Ok(found),
        None => {
            state.throttle.failed(&keys);
            Err(Error::Invalid("There is no class with that code. Check the code your teacher gave you.".into()))
        }
    }
}

pub async fn with_pictures(
    state: &AppState,
    addr: IpAddr,
    join_code: &str,
    user: UserId,
    pictures: &[String],
) -> Result<SignedInNow> {
    let sequence = PictureSequence::parse(pictures)?;
    let (class, students) = class_students(state, addr, join_code).await?;
    let candidate = students.into_iter().find(|u| u.id == user);
    let _: ClassId = class.id;
    finish(state, addr, user.to_string(), candidate, sequence.secret(), |u| u.pictures_hash.clone()).await
}

/// The person a QR card belongs to, if the card is current (regenerating revokes old cards).
pub async fn card_owner(state: &AppState, addr: IpAddr, token: &str) -> Result<User> {
    let keys = [address_key(addr)];
    state.throttle.check(&keys).map_err(Error::Throttled)?;
    let hash = token_hash(token);
    let found = state.db(move |store| Ok(store.read(|r| r.user_by_qr_hash(hash))?)).await?;
    match found.filter(|u| !u.disabled) {
        Some(user) => Ok(user),
        None => {
            state.throttle.failed(&keys);
            Err(Error::Invalid("This sign-in card no longer works. Ask your teacher for a new one.".into()))
        }
    }
}

pub async fn with_card(state: &AppState, addr: IpAddr, token: &str) -> Result<SignedInNow> {
    let user = card_owner(state, addr, token).await?;
    let session_user = user.clone();
    let session_id = state.db(move |store| Ok(session::create(store, &session_user)?)).await?;
    Ok(SignedInNow { user, session_id })
}

pub async fn sign_out(state: &AppState, session_id: String) -> Result<()> {
    state.db(move |store| Ok(session::end(store, &session_id)?)).await
}
