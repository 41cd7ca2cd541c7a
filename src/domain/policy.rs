//! Who may do what. Every permission question folio asks is answered here, from facts the
//! caller has already loaded, so the rules are in one place and testable without a server.
//!
//! A refused read is reported by the HTTP layer as "not found", never "forbidden", so that
//! ids of things a person may not see do not leak.

use super::{Role, User};

/// What the store knows about the actor's relation to one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassRelation {
    /// Not in the class (or not in its school).
    None,
    Member(Role),
}

fn active(actor: &User) -> bool {
    !actor.disabled
}

pub fn can_create_users(actor: &User) -> bool {
    active(actor) && actor.role == Role::Admin
}

pub fn can_create_class(actor: &User) -> bool {
    active(actor) && matches!(actor.role, Role::Admin | Role::Teacher)
}

/// Seeing a class's roster and managing it (adding people, importing, printing sign-in
/// cards) go together: admins of the school, and the class's own teachers.
pub fn can_manage_class(actor: &User, same_school: bool, relation: ClassRelation) -> bool {
    active(actor)
        && same_school
        && (actor.role == Role::Admin
            || (actor.role == Role::Teacher && relation == ClassRelation::Member(Role::Teacher)))
}

/// Resetting someone's password, pictures or sign-in card. Admins may do it for anyone in
/// their school; teachers for students in one of their own classes.
pub fn can_reset_credentials(actor: &User, target: &User, teaches_target: bool) -> bool {
    active(actor)
        && actor.school == target.school
        && (actor.role == Role::Admin
            || (actor.role == Role::Teacher && target.role == Role::Student && teaches_target))
}

pub fn can_disable_users(actor: &User, target: &User) -> bool {
    active(actor) && actor.role == Role::Admin && actor.school == target.school && actor.id != target.id
}

/// Putting an existing student into a class. Admins may; a teacher may only for a student
/// they already teach, or one in no class yet: otherwise adding a student to one's own class
/// would be a way to take over their sign-in (teachers may reset their students' pictures).
pub fn can_enrol_existing_student(actor: &User, teaches_student: bool, student_in_any_class: bool) -> bool {
    active(actor) && (actor.role == Role::Admin || teaches_student || !student_in_any_class)
}

/// The role a person may hold inside a class.
pub fn valid_class_role(person: Role, as_role: Role) -> bool {
    match as_role {
        Role::Teacher => matches!(person, Role::Teacher | Role::Admin),
        Role::Student => person == Role::Student,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SchoolId, UserId};

    fn user(role: Role, school: SchoolId) -> User {
        User {
            id: UserId::new(),
            school,
            username: "x".into(),
            display_name: "X".into(),
            role,
            disabled: false,
            external_id: None,
            password_hash: None,
            pictures_hash: None,
            qr_token_hash: None,
            field_clock: Default::default(),
        }
    }

    #[test]
    fn teachers_manage_only_their_own_classes() {
        let s = SchoolId::new();
        let t = user(Role::Teacher, s);
        assert!(can_manage_class(&t, true, ClassRelation::Member(Role::Teacher)));
        assert!(!can_manage_class(&t, true, ClassRelation::None));
        assert!(!can_manage_class(&user(Role::Student, s), true, ClassRelation::Member(Role::Student)));
        assert!(can_manage_class(&user(Role::Admin, s), true, ClassRelation::None));
        assert!(!can_manage_class(&user(Role::Admin, s), false, ClassRelation::None));
    }

    #[test]
    fn students_cannot_create_classes_and_disabled_people_can_do_nothing() {
        let s = SchoolId::new();
        assert!(!can_create_class(&user(Role::Student, s)));
        let mut t = user(Role::Teacher, s);
        assert!(can_create_class(&t));
        t.disabled = true;
        assert!(!can_create_class(&t));
    }

    #[test]
    fn teachers_enrol_only_students_they_teach_or_unplaced_ones() {
        let s = SchoolId::new();
        let t = user(Role::Teacher, s);
        assert!(can_enrol_existing_student(&t, true, true));
        assert!(can_enrol_existing_student(&t, false, false));
        assert!(!can_enrol_existing_student(&t, false, true));
        assert!(can_enrol_existing_student(&user(Role::Admin, s), false, true));
    }

    #[test]
    fn teachers_reset_only_their_students() {
        let s = SchoolId::new();
        let t = user(Role::Teacher, s);
        let pupil = user(Role::Student, s);
        assert!(can_reset_credentials(&t, &pupil, true));
        assert!(!can_reset_credentials(&t, &pupil, false));
        assert!(!can_reset_credentials(&t, &user(Role::Teacher, s), true));
        assert!(can_reset_credentials(&user(Role::Admin, s), &pupil, false));
    }
}
