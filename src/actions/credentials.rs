//! Setting the secrets people sign in with, shared by the API and the pages: check the rule,
//! hash outside the store (argon2 is slow and bounded), then record the change.
//!
//! Who may change whose secret, and what they must show, is `domain::policy::secret_change`:
//! people changing their own password, pictures or card give the current password (young
//! students without one: their current pictures), so a device left signed in is not enough
//! to plant a lasting way in; a teacher of the student or an administrator resets without.
//! The current secret is checked here, throttled on the same counts as signing in (so this
//! is no side door for guessing), and the [`Proof`] is checked again by `actions::users` in
//! the transaction that records the change.

use crate::actions::users::{self, NewSecret};
use crate::auth::password::Proof;
use crate::auth::{throttle, token_hash};
use crate::domain::pictures::PictureSequence;
use crate::domain::policy::SecretChange;
use crate::domain::school::check_password;
use crate::domain::{Class, ClassId, User, UserId};
use crate::error::{Error, Result};

use crate::app::Folio;
use crate::auth::Guard;
use crate::auth::session::SignedIn;

/// What people give to show it is them when they change their own sign-in.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Current {
    /// The current password.
    #[serde(default)]
    pub current_password: Option<String>,
    /// The current pictures (names or indexes), for students who have no password.
    #[serde(default)]
    pub current_pictures: Option<Vec<String>>,
}

/// A password's hash, after checking it is acceptable; `None` stays `None`.
pub async fn password_hash(guard: &Guard, password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(p) => {
            check_password(&p)?;
            Ok(Some(guard.hasher.hash(p).await?))
        }
        None => Ok(None),
    }
}

/// The session to keep when people change their own secrets: their own, here and now.
fn own_session(me: &SignedIn, target: UserId) -> Option<[u8; 32]> {
    (me.user.id == target).then(|| token_hash(&me.session_id))
}

/// Checks what the rule asks of `me` for changing `target`'s secrets, and returns the proof
/// to record the change with (`None` for a reset, which needs none).
async fn prove(folio: &Folio, guard: &Guard, me: &SignedIn, target: UserId, current: Current) -> Result<Option<Proof>> {
    let actor = me.user.clone();
    let (person, rule): (User, SecretChange) = folio.db(move |store| users::secret_rule(store, &actor, target)).await?;
    let (key, secret, hash, wrong) = match rule {
        SecretChange::Reset => return Ok(None),
        SecretChange::AskATeacher => return Err(users::proof_needed(rule)),
        SecretChange::CurrentPassword => {
            let Some(given) = current.current_password.filter(|p| !p.is_empty()) else {
                return Err(users::proof_needed(rule));
            };
            let wrong = "Your current password is not right. Type it again to change it.";
            (throttle::password(&person.username), given, person.password_hash, wrong)
        }
        SecretChange::CurrentPictures => {
            let Some(given) = current.current_pictures else { return Err(users::proof_needed(rule)) };
            let given = PictureSequence::parse(&given)?;
            let wrong = "Those are not your pictures. Tap your current pictures again to change them.";
            (throttle::pictures(person.id), given.secret(), person.pictures_hash, wrong)
        }
    };
    let attempt = guard.throttle.begin(vec![key]).map_err(Error::Throttled)?;
    match guard.hasher.prove(secret, hash).await? {
        Some(proof) => {
            attempt.succeeded();
            Ok(Some(proof))
        }
        None => Err(Error::forbidden(wrong)),
    }
}

/// Sets a password (see the module doc for who may, showing what).
pub async fn set_password(
    folio: &Folio,
    guard: &Guard,
    me: &SignedIn,
    target: UserId,
    password: String,
    current: Current,
) -> Result<()> {
    check_password(&password)?;
    set_secret(folio, guard, me, target, current, password, NewSecret::Password).await
}

/// Sets a picture sequence (see the module doc for who may, showing what).
pub async fn set_pictures(
    folio: &Folio,
    guard: &Guard,
    me: &SignedIn,
    target: UserId,
    sequence: &PictureSequence,
    current: Current,
) -> Result<()> {
    set_secret(folio, guard, me, target, current, sequence.secret(), NewSecret::Pictures).await
}

/// Proves the current secret where the rules ask for it, hashes the new one and stores it.
async fn set_secret(
    folio: &Folio,
    guard: &Guard,
    me: &SignedIn,
    target: UserId,
    current: Current,
    secret: String,
    kind: fn(String) -> NewSecret,
) -> Result<()> {
    let proof = prove(folio, guard, me, target, current).await?;
    let hash = guard.hasher.hash(secret).await?;
    let (actor, keep) = (me.user.clone(), own_session(me, target));
    folio.db(move |store| users::set_secret(store, &actor, target, proof.as_ref(), kind(hash), keep)).await
}

/// Issues a new QR card, revoking the old one (see the module doc for who may, showing
/// what). Returns the person and the card's secret, shown once.
pub async fn issue_card(
    folio: &Folio,
    guard: &Guard,
    me: &SignedIn,
    target: UserId,
    current: Current,
) -> Result<(User, String)> {
    let proof = prove(folio, guard, me, target, current).await?;
    let (actor, keep) = (me.user.clone(), own_session(me, target));
    folio.db(move |store| users::issue_card(store, &actor, target, proof.as_ref(), keep)).await
}

/// What [`class_pictures`] did: the students who got new pictures (with them, to print once;
/// only their hashes are kept), and those who kept the pictures they had.
pub struct ClassPictures {
    pub class: Class,
    pub given: Vec<(User, PictureSequence)>,
    pub kept: Vec<User>,
}

/// Picture sign-in for a whole class in one step, by its teachers or an administrator: each
/// student without pictures gets a random sequence; with `everyone`, every student gets a new
/// one (for each, the reset [`set_pictures`] makes). Hashing comes first, outside the store;
/// then one transaction, in which a student who got pictures meanwhile keeps them.
pub async fn class_pictures(
    folio: &Folio,
    guard: &Guard,
    me: &SignedIn,
    class: ClassId,
    everyone: bool,
) -> Result<ClassPictures> {
    let actor = me.user.clone();
    let (class, students) = folio.db(move |store| users::class_students(store, &actor, class)).await?;
    let chosen: Vec<(UserId, PictureSequence)> = students
        .iter()
        .filter(|s| !s.disabled && (everyone || s.pictures_hash.is_none()))
        .map(|s| (s.id, PictureSequence::random()))
        .collect();
    // One at a time: a whole class queued at once would fill the hasher's waiting line, and
    // children signing in meanwhile would be told to wait.
    let mut hashes = Vec::with_capacity(chosen.len());
    for (id, sequence) in &chosen {
        hashes.push((*id, guard.hasher.hash(sequence.secret()).await?));
    }
    let (actor, class_id) = (me.user.clone(), class.id);
    let given_ids =
        folio.db(move |store| users::set_class_pictures(store, &actor, class_id, &hashes, everyone)).await?;
    let (mut given, mut kept) = (Vec::new(), Vec::new());
    for student in students {
        match chosen.iter().find(|(id, _)| *id == student.id && given_ids.contains(id)) {
            Some((_, sequence)) => given.push((student, sequence.clone())),
            None => kept.push(student),
        }
    }
    Ok(ClassPictures { class, given, kept })
}
