//! Setting the secrets people sign in with, shared by the API and the pages: check the rule,
//! hash outside the store (argon2 is slow and bounded), then record the change.

use crate::actions::users;
use crate::domain::pictures::PictureSequence;
use crate::domain::school::check_password;
use crate::domain::{User, UserId};
use crate::error::Result;

use super::AppState;

/// A password's hash, after checking it is acceptable; `None` stays `None`.
pub async fn password_hash(state: &AppState, password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(p) => {
            check_password(&p)?;
            Ok(Some(state.hasher.hash(p).await))
        }
        None => Ok(None),
    }
}

pub async fn set_password(state: &AppState, actor: &User, target: UserId, password: String) -> Result<()> {
    check_password(&password)?;
    let who = actor.clone();
    let person = state.db(move |store| users::manageable(store, &who, target)).await?;
    let hash = state.hasher.hash(password).await;
    let actor = actor.clone();
    state.db(move |store| users::set_password(store, &actor, &person, hash)).await
}

pub async fn set_pictures(state: &AppState, actor: &User, target: UserId, sequence: &PictureSequence) -> Result<()> {
    let who = actor.clone();
    let person = state.db(move |store| users::manageable(store, &who, target)).await?;
    let hash = state.hasher.hash(sequence.secret()).await;
    let actor = actor.clone();
    state.db(move |store| users::set_pictures(store, &actor, &person, hash)).await
}
