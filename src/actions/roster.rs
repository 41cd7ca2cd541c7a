//! Roster imports. Parsing (in `domain::roster`) reports bad lines; this module also checks
//! each line against what the school already has, and writes nothing unless every line is
//! good, all in one transaction.

use serde::Serialize;

use super::users::{NewUser, create_in};
use crate::domain::roster::{FileLineError, LineError, OneRoster, RosterPerson};
use crate::domain::{ClassId, Role, User, UserId};
use crate::error::Result;
use crate::store::tables::ExternalKind;
use crate::store::{Queries, Store};

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
                    let user = create_in(
                        tx,
                        actor,
                        NewUser {
                            username: person.username,
                            display_name: person.display_name,
                            role: Role::Student,
                            external_id: None,
                        },
                        None,
                    )?;
                    report.created.push((&user).into());
                    user
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
    pub errors: Vec<FileLineError>,
}

/// Imports a school's OneRoster export (admins only). People and classes are matched by
/// their sourcedId, so a later export updates rather than duplicates.
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
        if !errors.is_empty() {
            return Ok(OneRosterReport { errors, ..Default::default() });
        }
        let mut report = OneRosterReport::default();
        let mut user_ids = std::collections::HashMap::new();
        for person in roster.users.clone() {
            let ext = person.external_id.clone().unwrap_or_default();
            let user = match tx.txn().id_by_external(school, ExternalKind::User, &ext)? {
                Some(id) => {
                    report.updated += 1;
                    tx.txn().user(UserId::from_bytes(id))?.ok_or(crate::error::Error::NotFound)?
                }
                None => {
                    let user = create_in(
                        tx,
                        actor,
                        NewUser {
                            username: person.username,
                            display_name: person.display_name,
                            role: person.role,
                            external_id: person.external_id,
                        },
                        None,
                    )?;
                    report.created.push((&user).into());
                    user
                }
            };
            if user.disabled != person.disabled {
                tx.record(
                    school,
                    super::users::scope_of(user.id, user.role),
                    Some(actor.id),
                    crate::domain::Change::UserDisabled { user: user.id, disabled: person.disabled },
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
