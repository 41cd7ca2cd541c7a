//! The school and its classes as operations change them: the school's settings, a class's
//! settings and its places (see the laws in `apply`).

use redb::{ReadableTable, WriteTransaction};

use super::{claim_name, newer, update_record};
use crate::domain::skills::{self, Skill};
use crate::domain::{Change, Class, Hlc, Membership, Op, Role, School, UserId};
use crate::store::StoreError;
use crate::store::codec::{decode, encode};
use crate::store::tables::*;

/// The school record: created once, then its settings, each last writer wins.
pub(super) fn school(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
        Change::SchoolCreated { name } => {
            let mut schools = txn.open_table(SCHOOL_ID_TO_SCHOOL)?;
            if schools.get(op.school.bytes())?.is_none() {
                let school = School {
                    id: op.school,
                    name: name.clone(),
                    skills: Vec::new(),
                    levels: None,
                    search_language: Default::default(),
                    default_language: None,
                    field_clock: Default::default(),
                };
                schools.insert(op.school.bytes(), encode(&school).as_slice())?;
            }
        }
        Change::SearchLanguageSet { language } => {
            update_record(txn, SCHOOL_ID_TO_SCHOOL, op.school.bytes(), |s: &mut School| {
                if newer(&mut s.field_clock, "search_language", op.hlc) {
                    s.search_language = *language;
                }
            })?;
        }
        Change::SchoolLanguageSet { language } => {
            update_record(txn, SCHOOL_ID_TO_SCHOOL, op.school.bytes(), |s: &mut School| {
                if newer(&mut s.field_clock, "default_language", op.hlc) {
                    s.default_language = language.clone();
                }
            })?;
        }
        Change::SkillsSet { skills } => {
            update_record(txn, SCHOOL_ID_TO_SCHOOL, op.school.bytes(), |s: &mut School| {
                if newer(&mut s.field_clock, "skills", op.hlc) {
                    s.skills = skills.clone();
                }
            })?;
            // The codes of the old flat list become skills named by their codes, with the ids
            // a code derives, so every box (and the migration) makes the same ones.
            for code in skills {
                let skill = Skill {
                    id: skills::derived_id(op.school, &skills::code_key(code)),
                    code: code.clone(),
                    name: code.clone(),
                    group: None,
                    case_id: None,
                    retired: false,
                    clock: op.hlc,
                };
                save_skill(txn, op, skill)?;
            }
        }
        Change::SkillSaved { skill } => save_skill(txn, op, skill.clone())?,
        Change::LevelsSet { levels } => {
            update_record(txn, SCHOOL_ID_TO_SCHOOL, op.school.bytes(), |s: &mut School| {
                if newer(&mut s.field_clock, "levels", op.hlc) {
                    s.levels = levels.clone();
                }
            })?;
        }
        other => unreachable!("not a change of this record: {other:?}"),
    }
    Ok(())
}

/// A skill record, last writer wins as a whole (the clock is the operation's).
fn save_skill(txn: &WriteTransaction, op: &Op, mut skill: Skill) -> Result<(), StoreError> {
    let mut table = txn.open_table(SCHOOL_SKILL_TO_SKILL)?;
    let key = (op.school.bytes(), skill.id.bytes());
    let held = table.get(key)?.map(|v| decode::<Skill>(v.value())).transpose()?;
    if held.is_none_or(|h| h.clock < op.hlc) {
        skill.clock = op.hlc;
        table.insert(key, encode(&skill).as_slice())?;
    }
    Ok(())
}

/// A class: created once (first claim of its join code and external id wins), its settings
/// last writer wins, and its places, add-wins with removals kept as tombstones.
pub(super) fn class(txn: &WriteTransaction, op: &Op) -> Result<(), StoreError> {
    match &op.change {
        Change::ClassCreated { class, name, join_code, external_id } => {
            let mut classes = txn.open_table(CLASS_ID_TO_CLASS)?;
            if classes.get(class.bytes())?.is_none() {
                let record = Class {
                    id: *class,
                    school: op.school,
                    name: name.clone(),
                    join_code: join_code.clone(),
                    external_id: external_id.clone(),
                    require_approval: true,
                    comments_allowed: true,
                    family_sharing: true,
                    hold_family_comments: true,
                    family_sees_ratings: false,
                    field_clock: Default::default(),
                };
                classes.insert(class.bytes(), encode(&record).as_slice())?;
                drop(classes);
                claim_join_code(txn, join_code, class.bytes())?;
                if let Some(ext) = external_id {
                    let key = ExternalKind::Class.key(ext);
                    claim_name(txn, SCHOOL_EXTERNAL_ID_TO_ID, (op.school.bytes(), key.as_str()), class.bytes())?;
                }
            }
        }
        Change::MemberAdded { class, user, role } => {
            update_membership(txn, class.bytes(), *user, |m| match m {
                None => Some(Membership { role: *role, added: op.hlc, removed: None }),
                Some(mut m) => {
                    if op.hlc > m.added {
                        m.added = op.hlc;
                        m.role = *role;
                    }
                    Some(m)
                }
            })?;
        }
        Change::MemberRemoved { class, user } => {
            // A removal can arrive (from another box) before the add it follows: it is kept as
            // a tombstone, so that add, arriving later with an older clock, stays removed.
            update_membership(txn, class.bytes(), *user, |m| {
                let mut m = m.unwrap_or(Membership { role: Role::Student, added: Hlc::ZERO, removed: None });
                m.removed = Some(m.removed.map_or(op.hlc, |r| r.max(op.hlc)));
                Some(m)
            })?;
        }
        Change::ClassSettingsChanged {
            class,
            require_approval,
            comments_allowed,
            family_sharing,
            hold_family_comments,
            family_sees_ratings,
        } => {
            update_record(txn, CLASS_ID_TO_CLASS, class.bytes(), |c: &mut Class| {
                if let Some(v) = family_sees_ratings
                    && newer(&mut c.field_clock, "family_sees_ratings", op.hlc)
                {
                    c.family_sees_ratings = *v;
                }
                if let Some(v) = family_sharing
                    && newer(&mut c.field_clock, "family_sharing", op.hlc)
                {
                    c.family_sharing = *v;
                }
                if let Some(v) = hold_family_comments
                    && newer(&mut c.field_clock, "hold_family_comments", op.hlc)
                {
                    c.hold_family_comments = *v;
                }
                if let Some(v) = require_approval
                    && newer(&mut c.field_clock, "require_approval", op.hlc)
                {
                    c.require_approval = *v;
                }
                if let Some(v) = comments_allowed
                    && newer(&mut c.field_clock, "comments_allowed", op.hlc)
                {
                    c.comments_allowed = *v;
                }
            })?;
        }
        other => unreachable!("not a change of this record: {other:?}"),
    }
    Ok(())
}

/// The same for join codes (unique on the box, not per school).
fn claim_join_code(txn: &WriteTransaction, code: &str, class: IdKey) -> Result<(), StoreError> {
    let mut t = txn.open_table(JOIN_CODE_TO_CLASS_ID)?;
    let holder = t.get(code)?.map(|v| v.value());
    if holder.is_none_or(|h| class < h) {
        t.insert(code, class)?;
    }
    Ok(())
}

fn update_membership(
    txn: &WriteTransaction,
    class: IdKey,
    user: UserId,
    change: impl FnOnce(Option<Membership>) -> Option<Membership>,
) -> Result<(), StoreError> {
    let mut memberships = txn.open_table(CLASS_USER_TO_MEMBERSHIP)?;
    let key = (class, user.bytes());
    let current = memberships.get(key)?.map(|v| decode::<Membership>(v.value())).transpose()?;
    let Some(next) = change(current) else {
        return Ok(());
    };
    memberships.insert(key, encode(&next).as_slice())?;
    let mut index = txn.open_table(USER_CLASS_TO_ROLE)?;
    if next.is_present() {
        index.insert((user.bytes(), class), next.role.as_str())?;
    } else {
        index.remove((user.bytes(), class))?;
    }
    Ok(())
}
