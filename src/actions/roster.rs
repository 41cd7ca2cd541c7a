//! Roster imports. Parsing (in `domain::roster`) reports bad lines; this module also checks
//! each line against what the school already has, and writes nothing unless every line is
//! good, all in one transaction.

use serde::Serialize;
use std::collections::HashMap;

use super::users::{NewUser, create_in};
use crate::domain::policy::ClassRelation;
use crate::domain::roster::{FileLineError, LineError, OneRoster, RosterPerson};
use crate::domain::{Change, ClassId, Role, Scope, User, UserId};
use crate::error::Result;
use crate::store::tables::ExternalKind;
use crate::store::{Queries, Store, Tx};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Person)]
pub struct CreatedPerson {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl From<&User> for CreatedPerson {
    fn from(u: &User) -> Self {
        CreatedPerson { id: u.id, username: u.username.clone(), display_name: u.display_name.clone(), role: u.role }
    }
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// People made by this import.
    pub created: Vec<CreatedPerson>,
    /// People who already had an account and were added to the class.
    pub enrolled: Vec<CreatedPerson>,
    pub errors: Vec<LineError>,
}

/// A new account from a roster, without a password (its person signs in with pictures or a
/// card, or is given one later), listed in `created`.
fn create_listed(tx: &mut Tx, actor: &User, new: NewUser, created: &mut Vec<CreatedPerson>) -> Result<User> {
    let user = create_in(tx, actor, new, None)?;
    created.push((&user).into());
    Ok(user)
}

/// Imports `username,display_name` lines into one class. Existing students with the same
/// username are enrolled rather than duplicated, so importing a file twice is harmless.
pub fn import_simple(
    store: &Store,
    actor: &User,
    class: ClassId,
    people: Result<Vec<RosterPerson>, Vec<LineError>>,
) -> Result<ImportReport> {
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        let people = match people.clone() {
            Ok(p) => p,
            Err(errors) => return Ok(ImportReport { errors, ..Default::default() }),
        };
        let mut errors = Vec::new();
        for person in &people {
            let Some(existing) = tx.txn().user_by_username(class.school, &person.username)? else { continue };
            if existing.role != Role::Student {
                errors.push(LineError {
                    line: person.line,
                    message: format!("\"{}\" is already the username of a {}", person.username, existing.role),
                });
            } else if let Err(e) = super::classes::check_enrol(tx.txn(), actor, &existing) {
                errors.push(LineError { line: person.line, message: e.to_string() });
            }
        }
        if !errors.is_empty() {
            return Ok(ImportReport { errors, ..Default::default() });
        }
        let mut report = ImportReport::default();
        for person in people {
            let user = match tx.txn().user_by_username(class.school, &person.username)? {
                Some(existing) => {
                    report.enrolled.push((&existing).into());
                    existing
                }
                None => {
                    let (username, display_name) = (person.username, person.display_name);
                    let new = NewUser { username, display_name, role: Role::Student, external_id: None };
                    create_listed(tx, actor, new, &mut report.created)?
                }
            };
            super::classes::add_member_in(tx, actor, &class, user.id, Role::Student)?;
        }
        Ok(report)
    })
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct OneRosterReport {
    pub created: Vec<CreatedPerson>,
    pub updated: usize,
    pub classes_created: usize,
    pub enrollments: usize,
    /// Family accounts newly linked to a student (from `agentSourcedIds`).
    pub family_links: usize,
    /// People disabled because their row was marked `tobedeleted`.
    pub disabled: usize,
    /// Class places removed because their enrollment was marked `tobedeleted`.
    pub enrollments_removed: usize,
    pub errors: Vec<FileLineError>,
}

/// Imports a school's OneRoster export (admins only). People and classes are matched by
/// their sourcedId, so a later export updates rather than duplicates, and importing the same
/// files twice changes nothing the second time. Parents, guardians and relatives become
/// family accounts without a password (an administrator prints them a QR card, or the class
/// teacher a family sheet), linked to the students their `agentSourcedIds` name. Rows
/// marked `tobedeleted` disable the person or remove the class place; nothing is erased.
pub fn import_oneroster(
    store: &Store,
    actor: &User,
    roster: Result<OneRoster, Vec<FileLineError>>,
) -> Result<OneRosterReport> {
    if actor.role != Role::Admin {
        return Err(crate::error::Error::forbidden("Only an administrator can import the school's OneRoster files."));
    }
    let roster = match roster {
        Ok(r) => r,
        Err(errors) => return Ok(OneRosterReport { errors, ..Default::default() }),
    };
    store.write(|tx| {
        let school = actor.school;
        let mut errors = Vec::new();
        for person in &roster.users {
            let by_ext =
                tx.txn().id_by_external(school, ExternalKind::User, person.external_id.as_deref().unwrap_or(""))?;
            if let Some(existing) = tx.txn().user_by_username(school, &person.username)?
                && by_ext != Some(existing.id.bytes())
            {
                errors.push(FileLineError {
                    file: "users.csv",
                    line: person.line,
                    message: format!(
                        "the username \"{}\" already belongs to someone else ({})",
                        person.username, existing.display_name
                    ),
                });
            }
        }
        let in_file: std::collections::HashMap<&str, Role> =
            roster.users.iter().filter_map(|p| Some((p.external_id.as_deref()?, p.role))).collect();
        for link in &roster.family_links {
            for (sourced_id, role) in
                [(&link.family_sourced_id, Role::Family), (&link.student_sourced_id, Role::Student)]
            {
                if in_file.contains_key(sourced_id.as_str()) {
                    continue;
                }
                let known = match tx.txn().id_by_external(school, ExternalKind::User, sourced_id)? {
                    Some(id) => tx.txn().user(UserId::from_bytes(id))?.map(|u| u.role),
                    None => None,
                };
                if known != Some(role) {
                    errors.push(FileLineError {
                        file: "users.csv",
                        line: link.line,
                        message: format!(
                            "agentSourcedIds names \"{sourced_id}\", who is not a {role} in users.csv or in this school"
                        ),
                    });
                }
            }
        }
        if !errors.is_empty() {
            return Ok(OneRosterReport { errors, ..Default::default() });
        }
        let mut report = OneRosterReport::default();
        let mut user_ids = HashMap::new();
        for person in roster.users.clone() {
            let ext = person.external_id.clone().unwrap_or_default();
            let user = match tx.txn().id_by_external(school, ExternalKind::User, &ext)? {
                Some(id) => {
                    report.updated += 1;
                    tx.txn().user(UserId::from_bytes(id))?.ok_or(crate::error::Error::NotFound)?
                }
                None => {
                    let (username, display_name) = (person.username, person.display_name);
                    let new = NewUser { username, display_name, role: person.role, external_id: person.external_id };
                    create_listed(tx, actor, new, &mut report.created)?
                }
            };
            if user.disabled != person.disabled {
                tx.record(
                    school,
                    super::users::scope_of(user.id, user.role),
                    Some(actor.id),
                    Change::UserDisabled { user: user.id, disabled: person.disabled },
                )?;
            }
            user_ids.insert(ext, user.id);
        }
        let mut class_ids = std::collections::HashMap::new();
        for class in roster.classes.clone() {
            let id = match tx.txn().id_by_external(school, ExternalKind::Class, &class.sourced_id)? {
                Some(id) => ClassId::from_bytes(id),
                None => {
                    report.classes_created += 1;
                    super::classes::create_in(tx, actor, &class.title, Some(class.sourced_id.clone()))?.id
                }
            };
            class_ids.insert(class.sourced_id, id);
        }
        let user_of = |tx: &Tx, known: &HashMap<String, UserId>, sourced_id: &str| -> Result<Option<User>> {
            let id = match known.get(sourced_id) {
                Some(&id) => Some(id),
                None => tx.txn().id_by_external(school, ExternalKind::User, sourced_id)?.map(UserId::from_bytes),
            };
            Ok(match id {
                Some(id) => tx.txn().user(id)?.filter(|u| u.school == school),
                None => None,
            })
        };
        for link in &roster.family_links {
            let family = user_of(tx, &user_ids, &link.family_sourced_id)?;
            let student = user_of(tx, &user_ids, &link.student_sourced_id)?;
            let (Some(family), Some(student)) = (family, student) else { continue };
            if super::family::link_in(tx, actor, &family, &student)? {
                report.family_links += 1;
            }
        }
        for (_, sourced_id) in &roster.deleted_users {
            // Someone the school never imported has nothing here to disable.
            let Some(person) = user_of(tx, &user_ids, sourced_id)? else { continue };
            if !person.disabled && person.id != actor.id {
                tx.record(
                    school,
                    super::users::scope_of(person.id, person.role),
                    Some(actor.id),
                    Change::UserDisabled { user: person.id, disabled: true },
                )?;
                report.disabled += 1;
            }
        }
        for removal in &roster.removed_enrollments {
            let class = match class_ids.get(&removal.class_sourced_id) {
                Some(&id) => Some(id),
                None => tx
                    .txn()
                    .id_by_external(school, ExternalKind::Class, &removal.class_sourced_id)?
                    .map(ClassId::from_bytes),
            };
            let user = user_of(tx, &user_ids, &removal.user_sourced_id)?;
            let (Some(class), Some(user)) = (class, user) else { continue };
            if tx.txn().relation(user.id, class)? != ClassRelation::None {
                tx.record(school, Scope::Class(class), Some(actor.id), Change::MemberRemoved { class, user: user.id })?;
                report.enrollments_removed += 1;
            }
        }
        for enrollment in roster.enrollments.clone() {
            let (Some(&class), Some(&user)) =
                (class_ids.get(&enrollment.class_sourced_id), user_ids.get(&enrollment.user_sourced_id))
            else {
                continue;
            };
            let class = tx.txn().class(class)?.ok_or(crate::error::Error::NotFound)?;
            if super::classes::add_member_in(tx, actor, &class, user, enrollment.role)? {
                report.enrollments += 1;
            }
        }
        Ok(report)
    })
}
