//! Classes and their rosters.

use crate::domain::policy::{self, ClassRelation};
use crate::domain::school::{JOIN_CODE_ALPHABET, JOIN_CODE_LEN, clean_name};
use crate::domain::{Change, Class, ClassId, Role, Scope, User, UserId};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, Store, Tx};

fn new_join_code(tx: &Tx) -> Result<String> {
    use rand::Rng;
    let mut rng = rand::rng();
    loop {
        let code: String = (0..JOIN_CODE_LEN)
            .map(|_| JOIN_CODE_ALPHABET[rng.random_range(0..JOIN_CODE_ALPHABET.len())] as char)
            .collect();
        if tx.txn().class_by_join_code(&code)?.is_none() {
            return Ok(code);
        }
    }
}

/// Creates a class inside an open transaction. A teacher who creates a class teaches it.
pub fn create_in(tx: &mut Tx, actor: &User, name: &str, external_id: Option<String>) -> Result<Class> {
    let name = clean_name(name, "class name")?;
    let id = ClassId::new();
    let join_code = new_join_code(tx)?;
    tx.record(
        actor.school,
        Scope::Class(id),
        Some(actor.id),
        Change::ClassCreated { class: id, name, join_code, external_id },
    )?;
    if actor.role == Role::Teacher {
        tx.record(
            actor.school,
            Scope::Class(id),
            Some(actor.id),
            Change::MemberAdded { class: id, user: actor.id, role: Role::Teacher },
        )?;
    }
    tx.txn().class(id)?.ok_or_else(|| Error::internal(anyhow::anyhow!("a new class was not stored")))
}

pub fn create(store: &Store, actor: &User, name: &str) -> Result<Class> {
    if !policy::can_create_class(actor) {
        return Err(Error::forbidden("Only teachers and administrators can create classes."));
    }
    store.write(|tx| create_in(tx, actor, name, None))
}

/// The class, if the actor may see and manage it; otherwise NotFound.
pub fn managed(r: &impl ReadTables, actor: &User, class: ClassId) -> Result<Class> {
    let Some(found) = r.class(class)? else { return Err(Error::NotFound) };
    let relation = r.relation(actor.id, class)?;
    if policy::can_manage_class(actor, found.school == actor.school, relation) {
        Ok(found)
    } else {
        Err(Error::NotFound)
    }
}

/// The class, if the actor may see its roster (its managers and the school's leaders);
/// otherwise NotFound.
pub fn readable(r: &impl ReadTables, actor: &User, class: ClassId) -> Result<Class> {
    let Some(found) = r.class(class)? else { return Err(Error::NotFound) };
    let relation = r.relation(actor.id, class)?;
    if policy::can_see_class(actor, found.school == actor.school, relation) { Ok(found) } else { Err(Error::NotFound) }
}

/// The classes an actor sees on their class list: all of the school's for admins and
/// leaders, their own otherwise.
pub fn visible(store: &Store, actor: &User) -> Result<Vec<(Class, Option<Role>)>> {
    store.read(|r| {
        if matches!(actor.role, Role::Admin | Role::Leader) && !actor.disabled {
            Ok(r.classes_in_school(actor.school)?.into_iter().map(|c| (c, None)).collect())
        } else {
            Ok(r.classes_of(actor.id)?.into_iter().map(|(c, role)| (c, Some(role))).collect())
        }
    })
}

/// Adds an existing person to a class. Returns false if they were already in it that way.
pub fn add_member_in(tx: &mut Tx, actor: &User, class: &Class, user: UserId, role: Role) -> Result<bool> {
    let Some(person) = tx.txn().user(user)?.filter(|u| u.school == class.school) else {
        return Err(Error::Invalid("There is no such person in this school.".into()));
    };
    if !policy::valid_class_role(person.role, role) {
        return Err(Error::Invalid(format!(
            "{} is a {} and cannot join a class as a {}.",
            person.display_name, person.role, role
        )));
    }
    if tx.txn().relation(user, class.id)? == ClassRelation::Member(role) {
        return Ok(false);
    }
    if role == Role::Student {
        check_enrol(tx.txn(), actor, &person)?;
    }
    tx.record(
        class.school,
        Scope::Class(class.id),
        Some(actor.id),
        Change::MemberAdded { class: class.id, user, role },
    )?;
    Ok(true)
}

/// Whether the actor may put this existing student into a class (see
/// `policy::can_enrol_existing_student`).
pub fn check_enrol(r: &impl ReadTables, actor: &User, student: &User) -> Result<()> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    let teaches = r.teaches(actor.id, student.id)?;
    let in_a_class = !r.classes_of(student.id)?.is_empty();
    if policy::can_enrol_existing_student(actor, teaches, in_a_class) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} ({}) is in another teacher's class. Ask an administrator to add them to this class.",
            student.display_name, student.username
        )))
    }
}

pub fn add_member(store: &Store, actor: &User, class: ClassId, user: UserId, role: Role) -> Result<bool> {
    store.write(|tx| {
        let class = managed(tx.txn(), actor, class)?;
        add_member_in(tx, actor, &class, user, role)
    })
}

pub fn remove_member(store: &Store, actor: &User, class: ClassId, user: UserId) -> Result<()> {
    store.write(|tx| {
        let class = managed(tx.txn(), actor, class)?;
        if tx.txn().relation(user, class.id)? == ClassRelation::None {
            return Err(Error::NotFound);
        }
        tx.record(
            class.school,
            Scope::Class(class.id),
            Some(actor.id),
            Change::MemberRemoved { class: class.id, user },
        )?;
        Ok(())
    })
}

/// A teacher adds a new student straight into their class (no password: young students
/// sign in with pictures or a QR card, set from the class page).
pub fn add_new_student(
    store: &Store,
    actor: &User,
    class: ClassId,
    username: &str,
    display_name: &str,
) -> Result<User> {
    store.write(|tx| {
        let class = managed(tx.txn(), actor, class)?;
        let user = super::users::create_in(
            tx,
            actor,
            super::users::NewUser {
                username: username.into(),
                display_name: display_name.into(),
                role: Role::Student,
                external_id: None,
            },
            None,
        )?;
        add_member_in(tx, actor, &class, user.id, Role::Student)?;
        Ok(user)
    })
}
