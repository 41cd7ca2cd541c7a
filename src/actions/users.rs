//! People: creating accounts, and resetting or revoking the ways they sign in.

use crate::auth::{random_token, session, token_hash};
use crate::domain::pictures::PictureSequence;
use crate::domain::school::{clean_name, normalize_username};
use crate::domain::{Change, Role, Scope, User, UserId, policy};
use crate::error::{Error, Result};
use crate::store::{Queries, Store, Tx};

pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub external_id: Option<String>,
}

/// The scope a person's own records belong to: students are their own partition, so a peer
/// granted one class receives that class's students and nothing else.
pub fn scope_of(user: UserId, role: Role) -> Scope {
    if role == Role::Student { Scope::Student(user) } else { Scope::School }
}

/// Creates a person inside an open transaction (used by admin creation and roster imports).
pub fn create_in(tx: &mut Tx, actor: &User, new: NewUser, password_hash: Option<String>) -> Result<User> {
    let username = normalize_username(&new.username)?;
    let display_name = clean_name(&new.display_name, "name")?;
    if tx.txn().user_by_username(actor.school, &username)?.is_some() {
        return Err(Error::conflict(format!("The username \"{username}\" is already taken. Choose another.")));
    }
    let id = UserId::new();
    let scope = scope_of(id, new.role);
    tx.record(
        actor.school,
        scope,
        Some(actor.id),
        Change::UserCreated { user: id, username, display_name, role: new.role, external_id: new.external_id },
    )?;
    if let Some(hash) = password_hash {
        tx.record(actor.school, scope, Some(actor.id), Change::PasswordSet { user: id, hash })?;
    }
    tx.txn().user(id)?.ok_or_else(|| Error::internal(anyhow::anyhow!("a new user was not stored")))
}

pub fn create(store: &Store, actor: &User, new: NewUser, password_hash: Option<String>) -> Result<User> {
    if !policy::can_create_users(actor) {
        return Err(Error::forbidden(
            "Only an administrator can create accounts here. Teachers add students from a class page.",
        ));
    }
    store.write(|tx| create_in(tx, actor, new, password_hash))
}

/// A person the actor may manage credentials for, or NotFound (never revealing who exists).
pub fn manageable(store: &Store, actor: &User, target: UserId) -> Result<User> {
    store.read(|r| {
        let Some(user) = r.user(target)? else { return Err(Error::NotFound) };
        if user.id == actor.id {
            return Ok(user);
        }
        let teaches = actor.role == Role::Teacher && r.teaches(actor.id, user.id)?;
        if policy::can_reset_credentials(actor, &user, teaches) { Ok(user) } else { Err(Error::NotFound) }
    })
}

/// The people the actor may see in a list: everyone in the school for admins, their
/// classes' members for teachers, themselves otherwise.
pub fn visible_people(store: &Store, actor: &User) -> Result<Vec<User>> {
    store.read(|r| {
        if actor.role == Role::Admin {
            return Ok(r.users_in_school(actor.school)?);
        }
        Ok(vec![actor.clone()])
    })
}

pub fn set_password(store: &Store, actor: &User, target: &User, hash: String) -> Result<()> {
    store.write(|tx| {
        tx.record(
            target.school,
            scope_of(target.id, target.role),
            Some(actor.id),
            Change::PasswordSet { user: target.id, hash },
        )?;
        Ok::<_, Error>(())
    })?;
    if actor.id != target.id {
        session::end_all_for(store, target.id)?;
    }
    Ok(())
}

pub fn set_pictures(store: &Store, actor: &User, target: &User, hash: String) -> Result<()> {
    store.write(|tx| {
        tx.record(
            target.school,
            scope_of(target.id, target.role),
            Some(actor.id),
            Change::PicturesSet { user: target.id, hash },
        )?;
        Ok(())
    })
}

/// Issues a new QR sign-in card secret for each person, revoking their old cards, in one
/// transaction. Returns (person, secret) pairs; the secrets are shown once and never stored.
pub fn issue_qr_cards(store: &Store, actor: &User, targets: &[User]) -> Result<Vec<(User, String)>> {
    store.write(|tx| {
        let mut cards = Vec::with_capacity(targets.len());
        for target in targets {
            let secret = random_token(24);
            let hash = blake3::Hash::from_bytes(token_hash(&secret)).to_hex().to_string();
            tx.record(
                target.school,
                scope_of(target.id, target.role),
                Some(actor.id),
                Change::QrCardIssued { user: target.id, token_hash: hash },
            )?;
            cards.push((target.clone(), secret));
        }
        Ok(cards)
    })
}

pub fn set_disabled(store: &Store, actor: &User, target: &User, disabled: bool) -> Result<()> {
    if !policy::can_disable_users(actor, target) {
        return Err(if actor.id == target.id {
            Error::forbidden("You cannot disable your own account.")
        } else {
            Error::NotFound
        });
    }
    store.write(|tx| {
        tx.record(
            target.school,
            scope_of(target.id, target.role),
            Some(actor.id),
            Change::UserDisabled { user: target.id, disabled },
        )?;
        Ok::<_, Error>(())
    })?;
    if disabled {
        session::end_all_for(store, target.id)?;
    }
    Ok(())
}

/// A fresh random picture sequence for a young student; returns it so it can be shown once.
pub fn random_pictures() -> PictureSequence {
    PictureSequence::random()
}
