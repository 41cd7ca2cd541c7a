//! People: creating accounts, and resetting or revoking the ways they sign in.

use crate::auth::{random_token, token_hash};
use crate::domain::school::{clean_name, normalize_username};
use crate::domain::{Change, Class, ClassId, Role, Scope, User, UserId, policy};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, Store, Tx, sessions};

pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub external_id: Option<String>,
}

/// The scope a person's own records belong to: everyone is their own partition, so a peer
/// granted one class receives that class's students and teachers and nobody else.
pub fn scope_of(user: UserId, _role: Role) -> Scope {
    crate::domain::partition::of_person(user)
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

/// Refuses people who may not create accounts; handlers call it before hashing a password,
/// so nobody else can make the box do argon2 work.
pub fn check_may_create(actor: &User) -> Result<()> {
    if policy::can_create_users(actor) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "Only an administrator can create accounts here. Teachers add students from a class page.",
        ))
    }
}

pub fn create(store: &Store, actor: &User, new: NewUser, password_hash: Option<String>) -> Result<User> {
    check_may_create(actor)?;
    store.write(|tx| create_in(tx, actor, new, password_hash))
}

/// A person the actor may manage credentials for, or NotFound (never revealing who exists).
pub fn manageable_in(r: &impl ReadTables, actor: &User, target: UserId) -> Result<User> {
    let Some(user) = r.user(target)? else { return Err(Error::NotFound) };
    if user.id == actor.id {
        return Ok(user);
    }
    let teaches = actor.role == Role::Teacher && r.teaches(actor.id, user.id)?;
    if policy::can_reset_credentials(actor, &user, teaches) { Ok(user) } else { Err(Error::NotFound) }
}

pub fn manageable(store: &Store, actor: &User, target: UserId) -> Result<User> {
    store.read(|r| manageable_in(r, actor, target))
}

/// The people the actor may see in a list: everyone in the school for admins; others see
/// themselves here (teachers find their students on their class pages).
pub fn visible_people(store: &Store, actor: &User) -> Result<Vec<User>> {
    store.read(|r| {
        if actor.role == Role::Admin {
            return Ok(r.users_in_school(actor.school)?);
        }
        Ok(vec![actor.clone()])
    })
}

/// Replaces one of the ways a person signs in, and signs them out everywhere (but for the
/// session `keep`, when people change their own): whoever held the old secret must not
/// stay in. Permission, change and sign-out are one transaction.
fn replace_credential(
    store: &Store,
    actor: &User,
    target: UserId,
    keep: Option<[u8; 32]>,
    change: impl FnOnce(UserId) -> Change,
) -> Result<()> {
    store.write(|tx| {
        let person = manageable_in(tx.txn(), actor, target)?;
        tx.record(person.school, scope_of(person.id, person.role), Some(actor.id), change(person.id))?;
        sessions::remove_for_user(tx.txn(), person.id, keep)?;
        Ok(())
    })
}

pub fn set_password(store: &Store, actor: &User, target: UserId, hash: String, keep: Option<[u8; 32]>) -> Result<()> {
    replace_credential(store, actor, target, keep, |user| Change::PasswordSet { user, hash })
}

pub fn set_pictures(store: &Store, actor: &User, target: UserId, hash: String, keep: Option<[u8; 32]>) -> Result<()> {
    replace_credential(store, actor, target, keep, |user| Change::PicturesSet { user, hash })
}

/// Issues new QR sign-in card secrets inside an open transaction, revoking the old cards and
/// signing the people out. Returns (person, secret) pairs; secrets are shown once and never
/// stored.
fn issue_cards_in(tx: &mut Tx, actor: &User, people: Vec<User>) -> Result<Vec<(User, String)>> {
    let mut cards = Vec::with_capacity(people.len());
    for person in people {
        let secret = random_token(24);
        let token_hash = blake3::Hash::from_bytes(token_hash(&secret)).to_hex().to_string();
        tx.record(
            person.school,
            scope_of(person.id, person.role),
            Some(actor.id),
            Change::QrCardIssued { user: person.id, token_hash },
        )?;
        sessions::remove_for_user(tx.txn(), person.id, None)?;
        cards.push((person, secret));
    }
    Ok(cards)
}

/// A new card for one person.
pub fn issue_card(store: &Store, actor: &User, target: UserId) -> Result<(User, String)> {
    store.write(|tx| {
        let person = manageable_in(tx.txn(), actor, target)?;
        let mut cards = issue_cards_in(tx, actor, vec![person])?;
        Ok(cards.pop().expect("one card for one person"))
    })
}

/// New cards for every student of a class, in one transaction.
pub fn issue_class_cards(store: &Store, actor: &User, class: ClassId) -> Result<(Class, Vec<(User, String)>)> {
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        let students: Vec<User> = tx
            .txn()
            .members(class.id)?
            .into_iter()
            .filter(|(_, role)| *role == Role::Student)
            .map(|(u, _)| u)
            .collect();
        let cards = issue_cards_in(tx, actor, students)?;
        Ok((class, cards))
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
        if disabled {
            sessions::remove_for_user(tx.txn(), target.id, None)?;
        }
        Ok(())
    })
}
