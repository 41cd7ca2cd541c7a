//! What a peer may receive: a *grant* is a school, whole or some of its classes.
//!
//! A grant of classes X… of school S covers these partitions (see `domain::partition`):
//!
//! - **School(S)**: the school's name and settings, and its erasure markers (only ids), so an
//!   erasure reaches every box that may hold anything of the person.
//! - **Class(X)**: the class, its roster, settings and activities, and all work posted in it,
//!   with versions, edits, reviews and comments: what its teacher and students see there.
//! - **Person(p)** for everyone with a place in X, present or past (a removed place stays as
//!   a tombstone): their account and sign-in secrets, so they can sign in on the receiving
//!   box; their family links; their work that belongs to no class.
//!
//! And nothing else: not class Y, its roster or its work, even the work that X's own students
//! posted in Y; not the accounts of people who were never in X (other teachers, admins,
//! families); not another school. A student who joins X later brings their partition with
//! them at the next sync (its positions start at zero). Someone removed from X keeps their
//! partition in the grant, so changes to their account (and their erasure) still reach the
//! boxes that hold their work in X.
//!
//! # Who may send what
//!
//! A class grant has a direction. The box that *offered* the classes (it made the invitation
//! the other joined) holds the school: what it sends within the granted partitions is the
//! school's word, account changes and erasures included. The box that *was offered* them
//! (`OfferedBy::Us`, seen from the offering box, and the default) acts only inside them:
//! [`class_peer_may`] decides, for every kind of change in one exhaustive match (a new kind
//! does not compile without a decision), what such a peer may originate or forward:
//!
//! - its classes' work, versions, edits, reviews, comments, comment approvals, deletions,
//!   activities and class settings, and the own work (no class) of people in its classes,
//!   naming as owners, authors and commenters only people inside the grant;
//! - places in its classes, only for people already inside the grant, in a role their
//!   account allows;
//! - new sign-in secrets (password, pictures, QR card) only for *students of its classes
//!   alone* ([`student_wholly_inside`]): a present place in its classes, every place they
//!   have or had (removed ones included) in its classes, and no work of theirs filed in
//!   another class. A teacher resets a child's pictures on the class box the tablets use, and
//!   that child's account reaches nothing beyond the grant;
//! - never: a school's name or settings, accounts (creating, renaming, disabling), roles,
//!   anyone else's secrets, family links, class creation or renaming, erasures.
//!
//! "Inside the grant" is judged on the receiver's rows as they stood *before* the page: a
//! page cannot admit a person by enrolling them and then act on them. Only the offering side
//! brings new people in: a page from it admits the people its own roster changes name.
//! The receiver gathers this judgement for the whole page in a read pass before it applies
//! any of it (`receive`), and refuses the page whole, naming the operation, if one fails.
//! Whole-school grants have no such limits: both boxes hold the school.
//!
//! # The class box keeps the rule itself
//!
//! An operation the offering box refuses would stay in the class box's log, and every later
//! push would be refused for it: sync between the two boxes wedged for good. So the box that
//! *joined* a class grant holds itself to the same rule before it records anything:
//! `store::Tx::record`, the one door every locally made operation goes through, asks
//! [`joined_class_limit`], which judges the operation with [`class_peer_may`] (and the
//! grant's partitions) against this box's rows as they stand before it, for every class
//! grant this box joined for that school. A refusal is `StoreError::WholeSchoolOnly`, shown
//! to the person as "This box holds only some classes of the school; add new people on the
//! school's main box" (code `whole_school_only`, 409). Received operations (`Tx::receive`)
//! are the school's word and are not judged here; a box that joined no class grant of the
//! school (it holds it whole, or is paired with no one) is not limited at all.
//!
//! # Whom the class box may give secrets
//!
//! The class box does not hold its students' places (or work) in classes it was not
//! offered, so on its own rows a student of X who is also in Y looks like X's alone: a new
//! secret for her would be recorded there and refused by the school's box, wedging sync. So
//! the box that holds the school says: every page it sends a box it offered classes carries
//! the ids of the grant's students who are in those classes alone ([`wholly_inside_students`],
//! on the same snapshot as the page; `Page::wholly_inside`), also a page with no operations.
//! The class box keeps the last word it received (`store::peers::wholly_inside`, local to
//! the box) and [`joined_class_limit`] refuses a secret for anyone else, in words that send
//! the teacher to the school's main box. Only ids of people the class box holds anyway
//! travel: nothing of another class. A box that has not been told yet (pages from an older
//! folio) gives nobody a secret; what a box we offered classes says about it is ignored.
//!
//! Left open: the word is as fresh as the last pull. If the school's box gives a student of
//! X a place in Y and, before the class box's next sync round (a few minutes, or at once
//! after a change), a teacher there gives her a new secret, the school's box refuses that push
//! and sync with that class box stays wedged until someone removes the pairing. Closing it
//! needs the secret's operation to say what the class box had been told when it made it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Queries, ReadTables, StoreError, SyncReads, peers};
pub use crate::domain::peer::OfferedBy;
use crate::domain::policy::valid_class_role;
use crate::domain::{Change, ClassId, Op, Role, SchoolId, Scope, UserId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub school: SchoolId,
    pub reach: Reach,
    /// Which side offered a class grant: whether the peer acts only inside it.
    #[serde(default)]
    pub offered_by: OfferedBy,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "classes", rename_all = "snake_case")]
pub enum Reach {
    WholeSchool,
    Classes(BTreeSet<ClassId>),
}

impl Grant {
    pub fn whole_school(school: SchoolId) -> Grant {
        Grant { school, reach: Reach::WholeSchool, offered_by: OfferedBy::Us }
    }

    /// Classes this box offers a peer: the peer acts only inside them.
    pub fn classes(school: SchoolId, classes: impl IntoIterator<Item = ClassId>) -> Grant {
        Grant { school, reach: Reach::Classes(classes.into_iter().collect()), offered_by: OfferedBy::Us }
    }

    /// The same grant, offered by `by`.
    pub fn offered_by(self, by: OfferedBy) -> Grant {
        Grant { offered_by: by, ..self }
    }

    /// Whether the peer is held to [`class_peer_may`]: it was offered some classes by us.
    pub fn limits_sender(&self) -> bool {
        matches!(self.reach, Reach::Classes(_)) && self.offered_by == OfferedBy::Us
    }

    /// The partitions a sender offers under this grant, in the order a page carries them:
    /// the school's, then classes', then people's.
    pub fn partitions(&self, r: &impl ReadTables) -> Result<Vec<Scope>, StoreError> {
        match &self.reach {
            Reach::WholeSchool => {
                let mut all: Vec<Scope> = r.positions(self.school)?.into_iter().map(|(p, _, _)| p).collect();
                all.dedup();
                Ok(all)
            }
            Reach::Classes(classes) => {
                let mut people = BTreeSet::new();
                for class in classes {
                    people.extend(r.people_of_class(*class)?);
                }
                let mut all = vec![Scope::School];
                all.extend(classes.iter().map(|c| Scope::Class(*c)));
                all.extend(people.into_iter().map(Scope::Person));
                Ok(all)
            }
        }
    }

    /// Whether a partition lies within this grant, judged on the rows `r` holds.
    pub fn allows(&self, r: &impl ReadTables, partition: Scope) -> Result<bool, StoreError> {
        let admitted = self.admitted(r, &[])?;
        self.allows_in(r, partition, &admitted)
    }

    /// Who this grant admits, on the rows `r` holds before `page_ops` are applied. From the
    /// side that offered the classes, the people the page's own roster changes of those
    /// classes name are admitted too (it brings new people in); from the side that was
    /// offered them, nobody is admitted by the page that would act on them.
    pub fn admitted(&self, r: &impl ReadTables, page_ops: &[Op]) -> Result<Admitted, StoreError> {
        let Reach::Classes(classes) = &self.reach else {
            return Ok(Admitted { people: None });
        };
        let mut people = BTreeSet::new();
        for class in classes {
            people.extend(r.people_of_class(*class)?);
        }
        if self.offered_by == OfferedBy::Peer {
            for op in page_ops {
                if let Change::MemberAdded { class, user, .. } | Change::MemberRemoved { class, user } = &op.change
                    && classes.contains(class)
                    && op.scope == Scope::Class(*class)
                {
                    people.insert(*user);
                }
            }
        }
        Ok(Admitted { people: Some(people) })
    }

    /// Whether a partition lies within this grant, for the people `admitted` holds.
    pub fn allows_in(&self, r: &impl ReadTables, partition: Scope, admitted: &Admitted) -> Result<bool, StoreError> {
        Ok(match partition {
            Scope::School => true,
            Scope::Class(class) => {
                let ours = r.class(class)?.is_none_or(|c| c.school == self.school);
                ours && match &self.reach {
                    Reach::WholeSchool => true,
                    Reach::Classes(classes) => classes.contains(&class),
                }
            }
            Scope::Person(person) => {
                let ours = r.user(person)?.is_none_or(|u| u.school == self.school);
                // An erased person's operations are refused and stored emptied anyway;
                // their places are gone, so they could not be judged by them.
                ours && (admitted.admits(person) || r.is_erased(person)?)
            }
        })
    }
}

/// The people a grant admits for one page (`None`: everyone, a whole school).
#[derive(Clone, Debug)]
pub struct Admitted {
    people: Option<BTreeSet<UserId>>,
}

impl Admitted {
    pub fn admits(&self, person: UserId) -> bool {
        self.people.as_ref().is_none_or(|people| people.contains(&person))
    }
}

/// Why a peer offered only some classes may not send `op`, if it may not (`None`: it may).
///
/// `op`'s partition has already been found inside the grant and to be the one its target is
/// in; `admitted` is who was inside the grant before the page. The one place that decides,
/// per kind of change, what such a peer may originate or forward: every kind is named, so a
/// new one is a compile error here until someone decides.
pub fn class_peer_may(
    r: &impl ReadTables,
    grant: &Grant,
    admitted: &Admitted,
    op: &Op,
) -> Result<Option<&'static str>, StoreError> {
    let Reach::Classes(_) = &grant.reach else {
        return Ok(None);
    };
    // Inside the grant before the page (an erased person's operations are emptied anyway).
    let inside = |person: UserId| -> Result<bool, StoreError> { Ok(admitted.admits(person) || r.is_erased(person)?) };
    let all_inside = |people: &mut dyn Iterator<Item = UserId>| -> Result<bool, StoreError> {
        for person in people {
            if !inside(person)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    const SCHOOL: &str = "it changes the whole school, which only a box holding the whole school may do";
    const ACCOUNT: &str = "it creates or changes an account, which only a box holding the whole school may do";
    const OUTSIDER: &str = "it names a person who was not in the granted classes before this page";
    Ok(match &op.change {
        Change::SchoolCreated { .. }
        | Change::SearchLanguageSet { .. }
        | Change::SkillsSet { .. }
        | Change::SkillSaved { .. }
        | Change::LevelsSet { .. }
        | Change::SchoolLanguageSet { .. } => Some(SCHOOL),
        Change::UserCreated { .. } | Change::UserRenamed { .. } | Change::UserDisabled { .. } => Some(ACCOUNT),
        Change::UserErased { .. } => Some("it erases a person, which only a box holding the whole school may do"),
        Change::FamilyLinked { .. } | Change::FamilyUnlinked { .. } => {
            Some("it changes a family link, which only a box holding the whole school may do")
        }
        Change::ClassCreated { .. } => {
            Some("it creates or renames a class, which only a box holding the whole school may do")
        }
        Change::PasswordSet { user, .. } | Change::PicturesSet { user, .. } | Change::QrCardIssued { user, .. } => {
            (!student_wholly_inside(r, grant, admitted, *user)?)
                .then_some("it sets a sign-in secret of someone who is not a student of the granted classes alone")
        }
        // A person's language is theirs like their secrets: a class box may set it for the
        // students of its classes alone.
        Change::UserLanguageSet { user, .. } => (!student_wholly_inside(r, grant, admitted, *user)?)
            .then_some("it sets the language of someone who is not a student of the granted classes alone"),
        Change::MemberAdded { user, role, .. } => {
            if !inside(*user)? {
                Some(OUTSIDER)
            } else if !r.user(*user)?.is_none_or(|u| valid_class_role(u.role, *role)) {
                Some("it gives a person a place their account's role does not allow")
            } else {
                None
            }
        }
        Change::MemberRemoved { user, .. } => (!inside(*user)?).then_some(OUTSIDER),
        Change::ClassSettingsChanged { .. } => None,
        Change::ActivityCreated { activity } => (!inside(activity.author)?).then_some(OUTSIDER),
        Change::ActivityEdited { .. } => match op.author {
            Some(author) if inside(author)? => None,
            _ => Some(OUTSIDER),
        },
        Change::ArtifactCreated { artifact } => {
            if artifact.scope.is_some_and(|scope| scope != op.scope) {
                Some("it makes work that claims another partition than the one it is filed in")
            } else if op.scope == Scope::School || artifact.owners.is_empty() {
                // Work filed school-wide (no class, no owner) would reach every box of the
                // school, far outside the classes this peer was offered.
                Some("it makes work for the whole school")
            } else if !all_inside(
                &mut artifact.owners.iter().copied().chain(artifact.versions.iter().map(|v| v.author)),
            )? {
                Some(OUTSIDER)
            } else {
                None
            }
        }
        Change::VersionAdded { version, .. } => (!inside(version.author)?).then_some(OUTSIDER),
        Change::CommentAdded { comment } => (!inside(comment.author)?).then_some(OUTSIDER),
        // A class box's teachers rate their classes' work and its students rate their own:
        // the rater must have been inside the grant (the partition, already checked, keeps
        // the work inside it).
        Change::ArtifactRated { .. } => match op.author {
            Some(rater) => (!inside(rater)?).then_some(OUTSIDER),
            None => Some("it rates work without saying who rated it"),
        },
        Change::ArtifactEdited { .. }
        | Change::ArtifactReviewed { .. }
        | Change::ArtifactDeleted { .. }
        | Change::CommentApproved { .. } => None,
        Change::Redacted { erased_artifact } => match erased_artifact {
            Some(id) => r
                .artifact(*id)?
                .is_some_and(|a| a.partition() != op.scope)
                .then_some("it empties work of another partition than the one it is filed in"),
            None => None,
        },
    })
}

/// Whether `person` is a student of the granted classes alone, on the rows `r` holds: their
/// account reaches nothing outside the grant, so a box offered those classes may give them a
/// new sign-in secret.
///
/// Judged on every place the person has or *had* (a removed place in another class still
/// sends their account to that class's boxes, and lets them sign in to their old work
/// there), on where their work lies (work filed in another class is theirs to open with
/// that secret), and on a present place in the grant (someone who left the granted classes
/// is not theirs to look after any more; nor is a student with no place at all).
pub fn student_wholly_inside(
    r: &impl ReadTables,
    grant: &Grant,
    admitted: &Admitted,
    person: UserId,
) -> Result<bool, StoreError> {
    let Reach::Classes(classes) = &grant.reach else {
        return Ok(true);
    };
    let Some(user) = r.user(person)? else { return Ok(false) };
    if user.role != Role::Student || user.school != grant.school || !admitted.admits(person) {
        return Ok(false);
    }
    let present = r.classes_of(person)?;
    if present.is_empty() || !present.iter().all(|(class, _)| classes.contains(&class.id)) {
        return Ok(false);
    }
    if !r.classes_ever_of(person)?.iter().all(|class| classes.contains(class)) {
        return Ok(false);
    }
    Ok(r.partitions_of_work_of(person)?.iter().all(|partition| match partition {
        Scope::Class(class) => classes.contains(class),
        Scope::Person(owner) => *owner == person,
        Scope::School => false,
    }))
}

/// The students of a class grant who are in its classes alone ([`student_wholly_inside`]),
/// on the rows `r` holds: what the box that offered the classes tells the other with every
/// page (`Page::wholly_inside`), since that box cannot see places in other classes.
pub fn wholly_inside_students(r: &impl ReadTables, grant: &Grant) -> Result<BTreeSet<UserId>, StoreError> {
    let Reach::Classes(classes) = &grant.reach else {
        return Ok(BTreeSet::new());
    };
    let admitted = grant.admitted(r, &[])?;
    let mut people = BTreeSet::new();
    for class in classes {
        people.extend(r.people_of_class(*class)?);
    }
    let mut inside = BTreeSet::new();
    for person in people {
        if student_wholly_inside(r, grant, &admitted, person)? {
            inside.insert(person);
        }
    }
    Ok(inside)
}

/// Whose sign-in secret `change` sets, if it sets one.
fn secret_of(change: &Change) -> Option<UserId> {
    match change {
        Change::PasswordSet { user, .. } | Change::PicturesSet { user, .. } | Change::QrCardIssued { user, .. } => {
            Some(*user)
        }
        _ => None,
    }
}

/// Why this box may not originate `op` itself, if it may not (`None`: it may).
///
/// For every class grant of `op`'s school that this box *joined* (a peer offered it the
/// classes, so that peer judges our pages by [`class_peer_may`]), `op` must lie inside the
/// grant and pass [`class_peer_may`], judged on `r` as it stands before `op`. Called by
/// `store::Tx::record` for every locally made operation, before anything is written, so an
/// operation the offering box would refuse never enters this box's log (where it would wedge
/// every later push). A box that joined no class grant of the school is not limited.
pub fn joined_class_limit(r: &impl ReadTables, op: &Op) -> Result<Option<&'static str>, StoreError> {
    for peer in peers::peers(r)? {
        let Some(grant) = peer.grant(op.school) else { continue };
        if grant.offered_by != OfferedBy::Peer || !matches!(grant.reach, Reach::Classes(_)) {
            continue;
        }
        let admitted = grant.admitted(r, &[])?;
        if !grant.allows_in(r, op.scope, &admitted)? {
            return Ok(Some("it is about someone or something outside the classes this box holds"));
        }
        if let Some(why) = class_peer_may(r, &grant, &admitted, op)? {
            return Ok(Some(why));
        }
        // This box cannot see its students' places in classes it was not offered: only the
        // box holding the school can say who is in these classes alone.
        if let Some(person) = secret_of(&op.change)
            && !peers::wholly_inside(r, op.school)?.contains(&person)
        {
            return Ok(Some(
                "the school's main box has not told this box that the student is in its classes alone \
                 (they may have a place in another class); change it on the school's main box",
            ));
        }
    }
    Ok(None)
}

/// Whether this box holds `school` whole: it has the school and joined no grant of only some
/// of its classes (it was never offered them by another box). The box that set the school up
/// holds it whole, and so does a box paired with it for whole schools.
pub fn holds_whole_school(r: &impl ReadTables, school: SchoolId) -> Result<bool, StoreError> {
    if r.school(school)?.is_none() {
        return Ok(false);
    }
    for peer in peers::peers(r)? {
        if peer.grant(school).is_some_and(|g| g.offered_by == OfferedBy::Peer && matches!(g.reach, Reach::Classes(_))) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A box's part in a pairing: it made the invitation, or entered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairingSide {
    Inviter,
    Joiner,
}

/// Why this box may not take `side` in a pairing sharing some classes of the schools
/// `schools` names (`None`: it may), judged on its rows `r`.
///
/// A class grant has a direction (the inviter's pages are the school's word; the joiner acts
/// only inside the classes), so the inviter must hold each such school whole and the joiner
/// must not: a school's box that joined a class box's invitation would take that class box's
/// pages as the school's word. The one rule, asked by both ends of a pairing (`peers::pairing`:
/// when an invitation is made, when it is entered, and when the inviter accepts it).
pub fn class_pairing_refusal(
    r: &impl ReadTables,
    schools: &BTreeSet<SchoolId>,
    side: PairingSide,
) -> Result<Option<&'static str>, StoreError> {
    for school in schools {
        let whole = holds_whole_school(r, *school)?;
        match side {
            PairingSide::Inviter if !whole => {
                return Ok(Some(
                    "This box does not hold the whole school, so it cannot offer some of its classes to another box. \
                     Make the invitation on the box that holds the school and join it from the class box.",
                ));
            }
            PairingSide::Joiner if whole => {
                return Ok(Some(
                    "This box holds the whole school, so it cannot join an invitation for some of its classes. \
                     Make the invitation on the box that holds the school and join it from the class box.",
                ));
            }
            _ => {}
        }
    }
    Ok(None)
}
