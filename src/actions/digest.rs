//! The weekly family digest: a student's week on paper, for families without a device. It
//! holds what the family sees in folio and nothing more (`policy::shared_with_family`): work
//! shared with the family and approved, in classes whose family sharing is on, with the
//! teacher's feedback on it. The family opens their own child's; a teacher of the class or
//! an administrator prints a whole class's at once. Reading a digest writes nothing (it does
//! not mark work as seen: the paper may never reach home).

use std::collections::BTreeMap;

use crate::domain::calendar::Week;
use crate::domain::{Artifact, Class, ClassId, CommentKind, Role, User, UserId, policy};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, Store};

/// Feedback on a piece of work, as the digest prints it.
pub struct DigestFeedback {
    pub author: String,
    pub body: String,
    /// A voice recording, which paper cannot play: the digest says so.
    pub voice: bool,
    pub at_ms: u64,
}

pub struct DigestEntry {
    pub artifact: Artifact,
    /// Feedback written up to the end of the week, oldest first.
    pub feedback: Vec<DigestFeedback>,
}

pub struct Digest {
    pub student: User,
    pub week: Week,
    /// The work that was shared, or had feedback, during the week; oldest first.
    pub entries: Vec<DigestEntry>,
    /// The language most of the student's family chose for themselves, if any: a teacher's
    /// printout speaks it.
    pub family_language: Option<String>,
}

/// A student's digest for the family linked to them, their teachers and the school's
/// administrators; NotFound for everyone else.
pub fn student_digest(store: &Store, actor: &User, student: UserId, week: Week) -> Result<Digest> {
    store.read(|r| {
        let Some(student) = r.user(student)?.filter(|s| s.role == Role::Student && s.school == actor.school) else {
            return Err(Error::NotFound);
        };
        let linked = actor.role == Role::Family && r.families_of(student.id)?.contains(&actor.id);
        let teaches = actor.role == Role::Teacher && r.teaches(actor.id, student.id)?;
        if !policy::can_read_family_digest(actor, linked, teaches) {
            return Err(Error::NotFound);
        }
        digest_in(r, student, week, None)
    })
}

/// Every student's digest in a class (its teachers, administrators), with the work of this
/// class only: the paper a class sends home. Empty for each student when the class's family
/// sharing is off.
pub fn class_digests(store: &Store, actor: &User, class: ClassId, week: Week) -> Result<(Class, Vec<Digest>)> {
    store.read(|r| {
        let class = super::classes::managed(r, actor, class)?;
        let mut students: Vec<User> = r
            .members(class.id)?
            .into_iter()
            .filter(|(u, role)| *role == Role::Student && !u.disabled)
            .map(|(u, _)| u)
            .collect();
        students.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        let mut digests = Vec::with_capacity(students.len());
        for student in students {
            digests.push(digest_in(r, student, week, Some(class.id))?);
        }
        Ok((class, digests))
    })
}

fn digest_in(r: &impl ReadTables, student: User, week: Week, only_class: Option<ClassId>) -> Result<Digest> {
    let (start, end) = week.span_ms();
    let in_week = |ms: u64| (start..end).contains(&ms);
    let mut entries = Vec::new();
    for artifact in r.artifacts_of_owner(student.id)? {
        if only_class.is_some() && artifact.class != only_class {
            continue;
        }
        // The facts that decide what families see depend on the work and its class, not on
        // who reads the digest.
        let facts = r.artifact_facts(&student, &artifact)?;
        if !policy::shared_with_family(&facts) {
            continue;
        }
        let mut feedback = Vec::new();
        let mut fresh_feedback = false;
        for c in r.comments(artifact.id)? {
            if c.kind != CommentKind::Feedback || c.created_ms >= end {
                continue;
            }
            fresh_feedback |= in_week(c.created_ms);
            let author = r.user(c.author)?.map(|u| u.display_name).unwrap_or_default();
            feedback.push(DigestFeedback { author, body: c.body, voice: c.audio.is_some(), at_ms: c.created_ms });
        }
        let shared_this_week = artifact.versions.iter().any(|v| in_week(v.created_ms));
        if shared_this_week || fresh_feedback {
            feedback.sort_by_key(|f| f.at_ms);
            entries.push(DigestEntry { artifact, feedback });
        }
    }
    entries.sort_by_key(|e| e.artifact.latest().map_or(e.artifact.created_ms, |v| v.created_ms));
    let family_language = family_language(r, student.id)?;
    Ok(Digest { student, week, entries, family_language })
}

/// The language chosen by most of a student's family members (the earliest account's
/// choice on a tie); None when none of them chose one.
fn family_language(r: &impl ReadTables, student: UserId) -> Result<Option<String>> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut family = r.families_of(student)?;
    family.sort();
    for (order, id) in family.into_iter().enumerate() {
        if let Some(code) = r.user(id)?.filter(|u| !u.disabled).and_then(|u| u.language) {
            counts.entry(code).or_insert((0, order)).0 += 1;
        }
    }
    Ok(counts.into_iter().max_by_key(|(_, (n, first))| (*n, std::cmp::Reverse(*first))).map(|(code, _)| code))
}
