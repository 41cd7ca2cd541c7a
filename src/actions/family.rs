//! Families: invitation sheets printed for a class, joining with one (a new family account,
//! or a signed-in family member adding a sibling), and the links a student's teachers see
//! and undo.
//!
//! What syncs and what does not: the family account, its password and its link to the
//! child are operations (`UserCreated`, `PasswordSet`, `FamilyLinked`, `FamilyUnlinked`),
//! like any account and link, so every box holding the school knows the family. A sheet is
//! local to the box that printed it (`store::family_sheets`, only the code's hash kept): it
//! is redeemed on that box's Wi-Fi, and a copy of the database holds no usable code.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::app::Folio;
use crate::auth::throttle;
use crate::auth::{Guard, session, token_hash};
use crate::domain::family::{self, CODE_LEN, SHEET_LIFETIME_MS, Sheet};
use crate::domain::hlc::wall_clock_ms;
use crate::domain::school::{check_password, clean_name, normalize_username};
use crate::domain::{Artifact, Change, Class, ClassId, CommentKind, Role, Scope, User, UserId, policy};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, Store, Tx, family_sheets};

use super::signin::SignedInNow;
use super::users::{NewUser, create_in};

/// What people are told for a code that is wrong, used up, replaced or expired: the same
/// words for all, so the answer says nothing about which codes exist.
pub const SHEET_REFUSED: &str =
    "This code does not work. Check it against the sheet; if it still does not work, ask the school for a new sheet.";

/// New sheets for every student of a class (the class's teachers, administrators): each
/// student's earlier sheets stop working. Returns each student with their sheet's code,
/// shown once and never stored.
pub fn issue_sheets(store: &Store, actor: &User, class: ClassId) -> Result<(Class, Vec<(User, String)>)> {
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        let students: Vec<User> = tx
            .txn()
            .members(class.id)?
            .into_iter()
            .filter(|(u, role)| *role == Role::Student && !u.disabled)
            .map(|(u, _)| u)
            .collect();
        let now = wall_clock_ms();
        let ids: BTreeSet<UserId> = students.iter().map(|s| s.id).collect();
        family_sheets::revoke_for(tx.txn(), &ids, now)?;
        let mut sheets = Vec::with_capacity(students.len());
        for student in students {
            let code = new_code();
            let sheet = Sheet {
                school: class.school,
                student: student.id,
                class: class.id,
                issued_by: actor.id,
                made_ms: now,
                expires_ms: now + SHEET_LIFETIME_MS,
                joined: Vec::new(),
            };
            family_sheets::put(tx.txn(), token_hash(&code), &sheet)?;
            sheets.push((student, code));
        }
        Ok((class, sheets))
    })
}

fn new_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; CODE_LEN];
    rand::rng().fill_bytes(&mut bytes);
    family::code_from_bytes(&bytes)
}

/// The sheet behind a code if `member` (a new account: `None`) may join with it now: not
/// expired, room left, the child still here and enabled.
fn usable(r: &impl ReadTables, hash: [u8; 32], member: Option<UserId>) -> Result<Option<(Sheet, User)>> {
    let Some(sheet) = family_sheets::get(r, hash)? else { return Ok(None) };
    if sheet.expired(wall_clock_ms()) || !sheet.has_room_for(member) {
        return Ok(None);
    }
    let child = r.user(sheet.student)?.filter(|c| !c.disabled && c.role == Role::Student);
    Ok(child.map(|c| (sheet, c)))
}

/// Looks the code up as a throttled attempt on the caller's address (a miss counts, like a
/// wrong password); returns the hash the sheet is kept under.
async fn lookup(folio: &Folio, guard: &Guard, addr: IpAddr, typed: &str, member: Option<UserId>) -> Result<[u8; 32]> {
    let attempt = guard.throttle.begin(vec![throttle::address(addr)]).map_err(Error::Throttled)?;
    let Some(code) = family::normalize_code(typed) else { return Err(Error::Invalid(SHEET_REFUSED.into())) };
    let hash = token_hash(&code);
    let found = folio.db(move |store| store.read(|r| usable(r, hash, member))).await?;
    if found.is_none() {
        return Err(Error::Invalid(SHEET_REFUSED.into()));
    }
    attempt.succeeded();
    Ok(hash)
}

/// The first name of the child a code was printed for, for the join page ("You are joining
/// as Ana's family"). Throttled like joining.
pub async fn child_of_code(folio: &Folio, guard: &Guard, addr: IpAddr, typed: &str) -> Result<String> {
    let hash = lookup(folio, guard, addr, typed, None).await?;
    let child = folio.db(move |store| store.read(|r| usable(r, hash, None))).await?;
    child.map(|(_, c)| first_name(&c.display_name)).ok_or_else(|| Error::Invalid(SHEET_REFUSED.into()))
}

pub struct Joining {
    pub code: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// A new family member joins with a sheet: their account, password and link to the child
/// in one transaction, then a session. Returns the session and the child.
pub async fn join_new(folio: &Folio, guard: &Guard, addr: IpAddr, joining: Joining) -> Result<(SignedInNow, User)> {
    let hash = lookup(folio, guard, addr, &joining.code, None).await?;
    // Checked before the password is hashed, so a bad name costs no argon2 work.
    normalize_username(&joining.username)?;
    clean_name(&joining.display_name, "name")?;
    check_password(&joining.password)?;
    let password_hash = guard.hasher.hash(joining.password).await?;
    let (user, child) = folio
        .db(move |store| {
            store.write(|tx| {
                let (sheet, child) =
                    usable(tx.txn(), hash, None)?.ok_or_else(|| Error::Invalid(SHEET_REFUSED.into()))?;
                let issuer = issuer_of(tx, &sheet)?;
                let new = NewUser {
                    username: joining.username.clone(),
                    display_name: joining.display_name.clone(),
                    role: Role::Family,
                    external_id: None,
                };
                let user = create_in(tx, &issuer, new, Some(password_hash.clone()))?;
                link_in(tx, &issuer, &user, &child)?;
                joined(tx, hash, sheet, user.id)?;
                Ok::<_, Error>((user, child))
            })
        })
        .await?;
    let session_user = user.clone();
    let session_id = folio.db(move |store| Ok(session::create(store, &session_user)?)).await?;
    Ok((SignedInNow { user, session_id }, child))
}

/// A signed-in family member joins another child of theirs (a sibling) with that child's
/// sheet. Returns the child.
pub async fn join_sibling(folio: &Folio, guard: &Guard, addr: IpAddr, me: &User, code: &str) -> Result<User> {
    if me.role != Role::Family {
        return Err(Error::forbidden("Only a family account can join a child. Sign out first, then use the sheet."));
    }
    let member = me.clone();
    let hash = lookup(folio, guard, addr, code, Some(me.id)).await?;
    folio
        .db(move |store| {
            store.write(|tx| {
                let found = usable(tx.txn(), hash, Some(member.id))?.filter(|(s, _)| s.school == member.school);
                let (sheet, child) = found.ok_or_else(|| Error::Invalid(SHEET_REFUSED.into()))?;
                let issuer = issuer_of(tx, &sheet)?;
                link_in(tx, &issuer, &member, &child)?;
                joined(tx, hash, sheet, member.id)?;
                Ok(child)
            })
        })
        .await
}

/// Who printed the sheet: the author of what joining records.
fn issuer_of(tx: &Tx, sheet: &Sheet) -> Result<User> {
    tx.txn()
        .user(sheet.issued_by)?
        .filter(|u| u.school == sheet.school)
        .ok_or_else(|| Error::Invalid(SHEET_REFUSED.into()))
}

/// Links a family account to a child unless it already is; true if this made the link.
pub(crate) fn link_in(tx: &mut Tx, author: &User, family: &User, child: &User) -> Result<bool> {
    if tx.txn().families_of(child.id)?.contains(&family.id) {
        return Ok(false);
    }
    let change = Change::FamilyLinked { family: family.id, student: child.id };
    tx.record(child.school, Scope::Person(child.id), Some(author.id), change)?;
    Ok(true)
}

fn joined(tx: &Tx, hash: [u8; 32], mut sheet: Sheet, member: UserId) -> Result<()> {
    if !sheet.joined.contains(&member) {
        sheet.joined.push(member);
    }
    family_sheets::put(tx.txn(), hash, &sheet)?;
    Ok(())
}

/// The first word of a display name: all a sheet prints of the child.
pub fn first_name(display_name: &str) -> String {
    display_name.split_whitespace().next().unwrap_or(display_name).to_string()
}

/// A student whose family links `actor` may see and change: the student's teachers and the
/// school's administrators; NotFound for everyone else.
fn student_in_care(r: &impl ReadTables, actor: &User, student: UserId) -> Result<User> {
    let Some(s) = r.user(student)?.filter(|s| s.role == Role::Student && s.school == actor.school) else {
        return Err(Error::NotFound);
    };
    let allowed =
        !actor.disabled && (actor.role == Role::Admin || (actor.role == Role::Teacher && r.teaches(actor.id, s.id)?));
    if allowed { Ok(s) } else { Err(Error::NotFound) }
}

/// The family accounts linked to a student.
pub fn family_of(store: &Store, actor: &User, student: UserId) -> Result<Vec<User>> {
    store.read(|r| {
        let s = student_in_care(r, actor, student)?;
        let mut family = Vec::new();
        for id in r.families_of(s.id)? {
            family.extend(r.user(id)?);
        }
        family.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(family)
    })
}

/// Removes a family account's link to a student. NotFound when there is no such link.
pub fn unlink(store: &Store, actor: &User, student: UserId, family: UserId) -> Result<()> {
    store.write(|tx| {
        let s = student_in_care(tx.txn(), actor, student)?;
        if !tx.txn().families_of(s.id)?.contains(&family) {
            return Err(Error::NotFound);
        }
        tx.record(s.school, Scope::Person(s.id), Some(actor.id), Change::FamilyUnlinked { family, student: s.id })?;
        Ok(())
    })
}

/// What a family's feed shows: a child's work, or feedback on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedKind {
    Work,
    Feedback,
}

pub struct FeedItem {
    pub student: UserId,
    pub artifact: Artifact,
    pub kind: FeedKind,
    /// When it was shared (the work's latest version) or written (feedback), in ms.
    pub at_ms: u64,
    /// Not opened by this family member since it arrived.
    pub new: bool,
}

/// A family member's feed, newest first: their children's work shared with the family and
/// approved, and the feedback on it families may read. `new` compares with when this family
/// member last opened the work (the in-memory "seen" marks, `store::lazy`): reading the feed
/// writes nothing.
pub fn feed(store: &Store, family: &User) -> Result<Vec<FeedItem>> {
    if family.role != Role::Family {
        return Err(Error::forbidden("The family feed is for family accounts."));
    }
    store.read(|r| {
        let mut items = Vec::new();
        for child in r.students_of_family(family.id)? {
            for artifact in r.artifacts_of_owner(child.id)? {
                let facts = r.artifact_facts(family, &artifact)?;
                if !policy::can_view_artifact(family, &facts) {
                    continue;
                }
                let seen = store.seen_ms(r, family.id, artifact.id)?;
                let shared_ms = artifact.latest().map_or(0, |v| v.created_ms);
                for c in r.comments(artifact.id)? {
                    if c.kind == CommentKind::Feedback && policy::can_view_comment(family, &facts, &c) {
                        let new = c.created_ms > seen;
                        let item = FeedItem {
                            student: child.id,
                            artifact: artifact.clone(),
                            kind: FeedKind::Feedback,
                            at_ms: c.created_ms,
                            new,
                        };
                        items.push(item);
                    }
                }
                let new = shared_ms > seen;
                items.push(FeedItem { student: child.id, artifact, kind: FeedKind::Work, at_ms: shared_ms, new });
            }
        }
        items.sort_by_key(|i| std::cmp::Reverse(i.at_ms));
        Ok(items)
    })
}

/// A comment waiting for a teacher (a family member's, or a classmate's), with the work it
/// is on and who wrote it.
pub struct HeldComment {
    pub artifact: Artifact,
    pub comment: crate::domain::Comment,
    pub author: String,
}

/// Comments waiting for `teacher` on work in their classes, oldest first: the review
/// queue's second half.
pub fn held_comments(store: &Store, teacher: &User) -> Result<Vec<HeldComment>> {
    store.read(|r| {
        let mut held = Vec::new();
        // Only the work whose summary says it has comments held (`store::summaries`).
        for id in crate::store::summaries::with_held_comments(r, teacher.id)? {
            let Some(artifact) = r.artifact(id)? else { continue };
            for comment in r.comments(artifact.id)? {
                if !comment.approved && comment.kind == CommentKind::Comment {
                    let author = r.user(comment.author)?.map(|u| u.display_name).unwrap_or_default();
                    held.push(HeldComment { artifact: artifact.clone(), comment, author });
                }
            }
        }
        held.sort_by_key(|h| h.comment.created_ms);
        Ok(held)
    })
}

/// A family member adds to their child's portfolio from home: the child owns the work, it is
/// private and marked from home, and it waits in the teacher's review queue (like a young
/// student's work). The child is `new.for_student`, who must be linked to the family member
/// (NotFound otherwise); it goes in the child's class if they have one (the first, if
/// several). Sending the same `id` again answers with the work made the first time.
/// The child `family` may add work to from home: linked to them, an active student of their
/// school. NotFound otherwise (never saying who exists).
pub fn child_to_add_for(store: &Store, family: &User, child: UserId) -> Result<User> {
    if family.role != Role::Family || family.disabled {
        return Err(Error::NotFound);
    }
    store.read(|r| {
        let linked = r.families_of(child)?.contains(&family.id);
        r.user(child)?.filter(|c| linked && !c.disabled && c.school == family.school).ok_or(Error::NotFound)
    })
}

pub fn create_from_home(
    store: &Store,
    actor: &User,
    new: super::work::NewArtifact,
    kind: String,
    files: Vec<crate::domain::FileRef>,
    uploads: &[crate::domain::upload::UploadId],
) -> Result<Artifact> {
    use crate::domain::work::{clean_text, clean_title};
    let Some(child) = new.for_student else {
        return Err(Error::Invalid("Say whose portfolio this is for: \"for_student\", your child's id.".into()));
    };
    // What a family adds is the child's alone, and the teacher and the child say what it
    // shows: a family's tags, skills or classmates would be dropped, so they are refused.
    if !new.skills.is_empty() || !new.co_owners.is_empty() || !new.tags.is_empty() {
        return Err(Error::Invalid(
            "Work added from home goes to your child's portfolio alone: send it without \"tags\", \"skills\" or \"co_owners\" (the teacher and your child add those)."
                .into(),
        ));
    }
    let title = clean_title(&new.title)?;
    let reflection = clean_text(&new.reflection, "note")?;
    store.write(|tx| {
        let linked = tx.txn().families_of(child)?.contains(&actor.id);
        let Some(child) = tx.txn().user(child)?.filter(|c| linked && !c.disabled && c.school == actor.school) else {
            return Err(Error::NotFound);
        };
        let id = new.id.unwrap_or_default();
        if let Some(existing) = tx.txn().artifact(id)? {
            let mine = existing.from_home && existing.versions.first().is_some_and(|v| v.author == actor.id);
            return if mine && !existing.deleted { Ok(existing) } else { Err(super::work::id_taken()) };
        }
        super::work::use_uploads(tx, actor, uploads)?;
        let class = tx.txn().classes_of(child.id)?.into_iter().find(|(_, role)| *role == Role::Student);
        let now = wall_clock_ms();
        let artifact = Artifact {
            class: class.map(|(c, _)| c.id),
            title: title.clone(),
            reflection: reflection.clone(),
            kind: kind.clone(),
            from_home: true,
            ..Artifact::first_saved(id, child.school, vec![child.id], files.clone(), actor.id, now)
        };
        let scope = super::work::scope(&artifact);
        tx.record(child.school, scope, Some(actor.id), Change::ArtifactCreated { artifact: Box::new(artifact) })?;
        tx.txn().artifact(id)?.ok_or_else(|| Error::internal(anyhow::anyhow!("new work from home was not stored")))
    })
}
