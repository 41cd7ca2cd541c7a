//! Setting the secrets people sign in with, shared by the API and the pages: check the rule,
//! hash outside the store (argon2 is slow and bounded), then record the change.

use crate::actions::users;
use crate::auth::throttle::Kind;
use crate::auth::token_hash;
use crate::domain::UserId;
use crate::domain::pictures::PictureSequence;
use crate::domain::school::check_password;
use crate::error::{Error, Result};

use super::{AppState, SignedIn};

/// A password's hash, after checking it is acceptable; `None` stays `None`.
pub async fn password_hash(state: &AppState, password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(p) => {
            check_password(&p)?;
            Ok(Some(state.hasher.hash(p).await?))
        }
        None => Ok(None),
    }
}

/// The session to keep when people change their own secrets: their own, here and now.
fn own_session(me: &SignedIn, target: UserId) -> Option<[u8; 32]> {
    (me.user.id == target).then(|| token_hash(&me.session_id))
}

/// Sets a password. People changing their own must give the current one (if they have one),
/// so an unlocked laptop left behind is not enough to take an account over.
pub async fn set_password(
    state: &AppState,
    me: &SignedIn,
    target: UserId,
    password: String,
    current: Option<String>,
) -> Result<()> {
    check_password(&password)?;
    let actor = me.user.clone();
    let person = state.db(move |store| users::manageable(store, &actor, target)).await?;
    if person.id == me.user.id && person.password_hash.is_some() {
        let attempt = state.throttle.begin(vec![(Kind::Account, person.username.clone())]).map_err(Error::Throttled)?;
        if !state.hasher.verify(current.unwrap_or_default(), person.password_hash.clone()).await? {
            return Err(Error::forbidden("Your current password is not right. Type it again to change it."));
        }
        attempt.succeeded();
    }
    let hash = state.hasher.hash(password).await?;
    let (actor, keep) = (me.user.clone(), own_session(me, target));
    state.db(move |store| users::set_password(store, &actor, target, hash, keep)).await
}

pub async fn set_pictures(state: &AppState, me: &SignedIn, target: UserId, sequence: &PictureSequence) -> Result<()> {
    let actor = me.user.clone();
    state.db(move |store| users::manageable(store, &actor, target).map(|_| ())).await?;
    let hash = state.hasher.hash(sequence.secret()).await?;
    let (actor, keep) = (me.user.clone(), own_session(me, target));
    state.db(move |store| users::set_pictures(store, &actor, target, hash, keep)).await
}
