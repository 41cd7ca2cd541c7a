//! Signing in, however it is done: a password, a class join code + name + three pictures, or a
//! QR card. All three share the throttle, the "same answer for unknown and wrong" rule and
//! session creation, here; `api` and `pages` only adapt the input and the answer.
//!
//! Each attempt is charged to what it guesses (one account's password, one student's
//! pictures) and to the caller's address bucket; lookups (a class code, a card) only to the
//! bucket, and only when they miss. See `auth::throttle` for the schedules.

use std::net::IpAddr;

use crate::auth::throttle::{self, Kind};
use crate::auth::{session, token_hash};
use crate::domain::pictures::PictureSequence;
use crate::domain::school::{normalize_join_code, normalize_username};
use crate::domain::{Class, Role, User, UserId};
use crate::error::{Error, Result};
use crate::store::Queries;

use crate::app::Folio;
use crate::auth::Guard;

/// A successful sign-in: the person and the secret session id for the cookie.
pub struct SignedInNow {
    pub user: User,
    pub session_id: String,
}

/// Checks `secret` against each candidate's hash (chosen by `pick`) under one throttled
/// attempt on `secret_key` and the caller's address, and starts a session for the one it
/// matches. With no candidate a dummy hash is checked, so an unknown name costs the same
/// time and gets the same answer as a wrong secret.
async fn verify_and_start(
    folio: &Folio,
    guard: &Guard,
    addr: IpAddr,
    secret_key: (Kind, String),
    candidates: Vec<User>,
    secret: String,
    pick: fn(&User) -> Option<String>,
) -> Result<SignedInNow> {
    let attempt = guard.throttle.begin(vec![secret_key, throttle::address(addr)]).map_err(Error::Throttled)?;
    let mut matched = None;
    if candidates.is_empty() {
        guard.hasher.verify(secret.clone(), None).await?;
    }
    for user in candidates {
        let hash = Some(&user).filter(|u| !u.disabled).and_then(pick);
        if guard.hasher.verify(secret.clone(), hash).await? {
            matched = Some(user);
            break;
        }
    }
    let Some(user) = matched else {
        return Err(Error::BadCredentials);
    };
    attempt.succeeded();
    let session_user = user.clone();
    let session_id = folio.db(move |store| Ok(session::create(store, &session_user)?)).await?;
    Ok(SignedInNow { user, session_id })
}

pub async fn with_password(
    folio: &Folio,
    guard: &Guard,
    addr: IpAddr,
    username: &str,
    password: String,
) -> Result<SignedInNow> {
    let username = normalize_username(username).unwrap_or_default();
    let lookup = username.clone();
    // On a district box two schools may both have "ana"; the password is tried against each
    // and can match only one of them.
    let candidates = folio.db(move |store| Ok(store.read(|r| r.users_by_username(&lookup))?)).await?;
    let key = throttle::password(&username);
    verify_and_start(folio, guard, addr, key, candidates, password, |u| u.password_hash.clone()).await
}

/// Runs a quick lookup that someone could use to guess (a join code, a card secret) as an
/// attempt on the caller's address: misses are counted, even when sent in parallel, and a
/// hit costs nothing (a tablet looks its class up at every tap).
async fn guarded_lookup<T: Send + 'static>(
    folio: &Folio,
    guard: &Guard,
    addr: IpAddr,
    lookup: impl FnOnce(&crate::store::Store) -> Result<Option<T>> + Send + 'static,
    miss: &str,
) -> Result<T> {
    let attempt = guard.throttle.begin(vec![throttle::address(addr)]).map_err(Error::Throttled)?;
    match folio.db(lookup).await? {
        Some(found) => {
            attempt.succeeded();
            Ok(found)
        }
        None => Err(Error::Invalid(miss.to_string())),
    }
}

/// The class behind a join code and its students, for the "tap your name" screen.
pub async fn class_students(folio: &Folio, guard: &Guard, addr: IpAddr, join_code: &str) -> Result<(Class, Vec<User>)> {
    let code = normalize_join_code(join_code);
    let lookup = move |store: &crate::store::Store| {
        store.read(|r| {
            let Some(class) = r.class_by_join_code(&code)? else { return Ok::<_, Error>(None) };
            let students = r
                .members(class.id)?
                .into_iter()
                .filter(|(u, role)| *role == Role::Student && !u.disabled)
                .map(|(u, _)| u)
                .collect();
            Ok(Some((class, students)))
        })
    };
    guarded_lookup(
        folio,
        guard,
        addr,
        lookup,
        "There is no class with that code. Check the code your teacher gave you.",
    )
    .await
}

pub async fn with_pictures(
    folio: &Folio,
    guard: &Guard,
    addr: IpAddr,
    join_code: &str,
    user: UserId,
    pictures: &[String],
) -> Result<SignedInNow> {
    let sequence = PictureSequence::parse(pictures)?;
    let (_, students) = class_students(folio, guard, addr, join_code).await?;
    let candidates: Vec<User> = students.into_iter().filter(|u| u.id == user).collect();
    let key = throttle::pictures(user);
    verify_and_start(folio, guard, addr, key, candidates, sequence.secret(), |u| u.pictures_hash.clone()).await
}

/// The person a QR card belongs to, if the card is current (regenerating revokes old cards).
pub async fn card_owner(folio: &Folio, guard: &Guard, addr: IpAddr, token: &str) -> Result<User> {
    let hash = token_hash(token);
    let lookup =
        move |store: &crate::store::Store| Ok(store.read(|r| r.user_by_qr_hash(hash))?.filter(|u| !u.disabled));
    guarded_lookup(folio, guard, addr, lookup, "This sign-in card no longer works. Ask your teacher for a new one.")
        .await
}

pub async fn with_card(folio: &Folio, guard: &Guard, addr: IpAddr, token: &str) -> Result<SignedInNow> {
    let user = card_owner(folio, guard, addr, token).await?;
    let session_user = user.clone();
    let session_id = folio.db(move |store| Ok(session::create(store, &session_user)?)).await?;
    Ok(SignedInNow { user, session_id })
}

pub async fn sign_out(folio: &Folio, session_id: String) -> Result<()> {
    folio.db(move |store| Ok(session::end(store, &session_id)?)).await
}
