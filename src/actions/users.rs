//! People: creating accounts, and resetting or revoking the ways they sign in.
//!
//! Every change of a sign-in secret (password, pictures, QR card) passes [`authorised_in`]
//! inside the transaction that records it: `domain::policy::secret_change` says whether the
//! actor resets it (a teacher, an administrator) or must show the current secret (people
//! changing their own), and a [`Proof`] from `auth` is the only way to show it.

use crate::auth::password::Proof;
use crate::auth::{random_token, token_hash};
use crate::domain::policy::{ClassRelation, SecretChange};
use crate::domain::school::{clean_name, normalize_username};
use crate::domain::{Change, Class, ClassId, Role, Scope, User, UserId, policy};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::store::{Queries, ReadTables, Store, Tx, sessions};

#[derive(Clone)]
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
    store.write(|tx| create_in(tx, actor, new.clone(), password_hash.clone()))
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

/// The person of the actor's school who signs in as `username` (as typed: it is normalised
/// first), or a refusal that names the username.
pub fn by_username(store: &Store, actor: &User, username: &str) -> Result<User> {
    let username = normalize_username(username)?;
    store.read(|r| r.user_by_username(actor.school, &username))?.ok_or_else(|| {
        Error::Refused(Msg::with("error-no-such-username", vec![("username", username.as_str().into())]))
    })
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

/// The person whose sign-in secrets `actor` means to change, and what the rule asks of the
/// actor for it ([`policy::secret_change`]); NotFound when the actor may not at all.
pub fn secret_rule_in(r: &impl ReadTables, actor: &User, target: UserId) -> Result<(User, SecretChange)> {
    let Some(person) = r.user(target)? else { return Err(Error::NotFound) };
    let teaches = actor.role == Role::Teacher && r.teaches(actor.id, person.id)?;
    let rule = policy::secret_change(actor, &person, teaches).ok_or(Error::NotFound)?;
    Ok((person, rule))
}

pub fn secret_rule(store: &Store, actor: &User, target: UserId) -> Result<(User, SecretChange)> {
    store.read(|r| secret_rule_in(r, actor, target))
}

/// What to tell people who did not show what `rule` asks for.
pub fn proof_needed(rule: SecretChange) -> Error {
    Error::forbidden(match rule {
        SecretChange::CurrentPassword => "Type your current password to change how you sign in.",
        SecretChange::CurrentPictures => "Tap your current pictures to change how you sign in.",
        SecretChange::AskATeacher | SecretChange::Reset => "Ask your teacher to change how you sign in.",
    })
}

/// The person, when `actor` may change their sign-in secrets with `proof` now. Called inside
/// the write transaction, so a proof of a secret replaced meanwhile proves nothing.
fn authorised_in(r: &impl ReadTables, actor: &User, target: UserId, proof: Option<&Proof>) -> Result<User> {
    let (person, rule) = secret_rule_in(r, actor, target)?;
    let shown = |held: &Option<String>| proof.is_some_and(|p| held.as_deref() == Some(p.hash()));
    match rule {
        SecretChange::Reset => Ok(person),
        SecretChange::CurrentPassword if shown(&person.password_hash) => Ok(person),
        SecretChange::CurrentPictures if shown(&person.pictures_hash) => Ok(person),
        rule => Err(proof_needed(rule)),
    }
}

/// Replaces the password or pictures a person signs in with. Whoever held the old secret
/// must not stay in: they are signed out everywhere (but for the session `keep`, when people
/// change their own) and their QR card stops working, since a card printed with the old
/// secret is a way in of its own (the teacher prints a new one). Permission, change, card and
/// sign-out are one transaction.
pub fn set_secret(
    store: &Store,
    actor: &User,
    target: UserId,
    proof: Option<&Proof>,
    secret: NewSecret,
    keep: Option<[u8; 32]>,
) -> Result<()> {
    store.write(|tx| {
        let person = authorised_in(tx.txn(), actor, target, proof)?;
        replace_secret_in(tx, actor, &person, secret.clone(), keep)
    })
}

/// Records `person`'s new secret, revokes their card and signs them out (see [`set_secret`]).
fn replace_secret_in(
    tx: &mut Tx,
    actor: &User,
    person: &User,
    secret: NewSecret,
    keep: Option<[u8; 32]>,
) -> Result<()> {
    let scope = scope_of(person.id, person.role);
    tx.record(person.school, scope, Some(actor.id), secret.change(person.id))?;
    // Recorded even when this box knows no card: one issued elsewhere before this change
    // may still be on its way, and the later clock wins.
    let revoke = Change::QrCardIssued { user: person.id, token_hash: String::new() };
    tx.record(person.school, scope, Some(actor.id), revoke)?;
    sessions::remove_for_user(tx.txn(), person.id, keep)?;
    Ok(())
}

/// The class `actor` manages (its teachers, administrators) and its students, by name.
pub fn class_students(store: &Store, actor: &User, class: ClassId) -> Result<(Class, Vec<User>)> {
    store.read(|r| {
        let class = super::classes::managed(r, actor, class)?;
        let mut students: Vec<User> =
            r.members(class.id)?.into_iter().filter(|(_, role)| *role == Role::Student).map(|(u, _)| u).collect();
        students.sort_by_key(|s| s.display_name.to_lowercase());
        Ok((class, students))
    })
}

/// Picture sign-in for the students of a class in one transaction: `hashes` holds each
/// student's new sequence, already hashed. A student who has pictures keeps them unless
/// `replace` (then it is [`set_secret`]'s reset for each: old pictures and card stop working,
/// sessions end), so pressing the button twice, or two teachers at once, changes nobody's
/// pictures behind their back. A student with no pictures before keeps their card and
/// sessions: nothing they held is replaced. Returns the students who got the new pictures.
pub fn set_class_pictures(
    store: &Store,
    actor: &User,
    class: ClassId,
    hashes: &[(UserId, String)],
    replace: bool,
) -> Result<Vec<UserId>> {
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        let mut given = Vec::new();
        for (student, hash) in hashes {
            if tx.txn().relation(*student, class.id)? != ClassRelation::Member(Role::Student) {
                continue;
            }
            // The same rule as one student's reset: a teacher of theirs or an administrator.
            let person = authorised_in(tx.txn(), actor, *student, None)?;
            let secret = NewSecret::Pictures(hash.clone());
            if replace {
                replace_secret_in(tx, actor, &person, secret, None)?;
            } else if person.pictures_hash.is_none() {
                tx.record(person.school, scope_of(person.id, person.role), Some(actor.id), secret.change(person.id))?;
            } else {
                continue;
            }
            given.push(person.id);
        }
        Ok(given)
    })
}

/// A new secret to sign in with, already hashed.
#[derive(Clone)]
pub enum NewSecret {
    Password(String),
    Pictures(String),
}

impl NewSecret {
    fn change(self, user: UserId) -> Change {
        match self {
            NewSecret::Password(hash) => Change::PasswordSet { user, hash },
            NewSecret::Pictures(hash) => Change::PicturesSet { user, hash },
        }
    }
}

/// Issues new QR sign-in card secrets inside an open transaction, revoking the old cards and
/// signing the people out (but for the session `keep`). Each person passes
/// [`authorised_in`]. Returns (person, secret) pairs; secrets are shown once, never stored.
fn issue_cards_in(
    tx: &mut Tx,
    actor: &User,
    people: Vec<UserId>,
    proof: Option<&Proof>,
    keep: Option<[u8; 32]>,
) -> Result<Vec<(User, String)>> {
    let mut cards = Vec::with_capacity(people.len());
    for person in people {
        let person = authorised_in(tx.txn(), actor, person, proof)?;
        let secret = random_token(24);
        let token_hash = blake3::Hash::from_bytes(token_hash(&secret)).to_hex().to_string();
        tx.record(
            person.school,
            scope_of(person.id, person.role),
            Some(actor.id),
            Change::QrCardIssued { user: person.id, token_hash },
        )?;
        sessions::remove_for_user(tx.txn(), person.id, keep)?;
        cards.push((person, secret));
    }
    Ok(cards)
}

/// A new card for one person (`proof`: see [`authorised_in`]; `keep`: the session of people
/// printing their own).
pub fn issue_card(
    store: &Store,
    actor: &User,
    target: UserId,
    proof: Option<&Proof>,
    keep: Option<[u8; 32]>,
) -> Result<(User, String)> {
    store.write(|tx| {
        let mut cards = issue_cards_in(tx, actor, vec![target], proof, keep)?;
        Ok(cards.pop().expect("one card for one person"))
    })
}

/// New cards for every student of a class, in one transaction.
pub fn issue_class_cards(store: &Store, actor: &User, class: ClassId) -> Result<(Class, Vec<(User, String)>)> {
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        let students: Vec<UserId> = tx
            .txn()
            .members(class.id)?
            .into_iter()
            .filter(|(_, role)| *role == Role::Student)
            .map(|(u, _)| u.id)
            .collect();
        let cards = issue_cards_in(tx, actor, students, None, None)?;
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
