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

/// Pairing this box with other boxes and syncing with them: the box's administrators.
pub fn can_manage_boxes(actor: &User) -> bool {
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

/// The school's leaders (principals, coordinators): school-wide readers. They read every
/// class's list and reports and the work shared beyond private, and change nothing.
pub fn leads_school(actor: &User, school: super::SchoolId) -> bool {
    active(actor) && actor.role == Role::Leader && actor.school == school
}

/// Seeing a class's roster without managing it: whoever manages it, and the school's leaders.
pub fn can_see_class(actor: &User, same_school: bool, relation: ClassRelation) -> bool {
    can_manage_class(actor, same_school, relation) || (same_school && active(actor) && actor.role == Role::Leader)
}

/// Reading a class's report: the class's teachers and the school's leaders (administrators
/// see the school's counts only, in the school report).
pub fn can_read_class_report(actor: &User, same_school: bool, relation: ClassRelation) -> bool {
    active(actor)
        && same_school
        && match actor.role {
            Role::Leader => true,
            Role::Teacher | Role::Admin => relation == ClassRelation::Member(Role::Teacher),
            Role::Student | Role::Family => false,
        }
}

/// How much of the school report someone may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchoolReportDetail {
    /// The school's leaders: the counts with the classes' names.
    Named,
    /// Administrators: the counts only, each class by its id; no names at all.
    CountsOnly,
}

/// Who reads the school report, and how much of it (`None`: nobody else, answered 404).
pub fn school_report_detail(actor: &User, school: super::SchoolId) -> Option<SchoolReportDetail> {
    if !active(actor) || actor.school != school {
        return None;
    }
    match actor.role {
        Role::Leader => Some(SchoolReportDetail::Named),
        Role::Admin => Some(SchoolReportDetail::CountsOnly),
        Role::Teacher | Role::Student | Role::Family => None,
    }
}

/// Resetting someone's password, pictures or sign-in card. Admins may do it for anyone in
/// their school; teachers for students in one of their own classes.
pub fn can_reset_credentials(actor: &User, target: &User, teaches_target: bool) -> bool {
    active(actor)
        && actor.school == target.school
        && (actor.role == Role::Admin
            || (actor.role == Role::Teacher && target.role == Role::Student && teaches_target))
}

/// What someone must show to replace a person's sign-in secret: their password, their
/// pictures, or a new QR card (which is a secret too: whoever holds the printout is in).
/// Every change of a secret, by API or page, for one person or a class's cards, is decided
/// here and checked again inside the transaction that records it (`actions::users`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretChange {
    /// An administrator of the person's school, or a teacher of the student: a reset needs
    /// no old secret, which is what a forgotten password or lost pictures need.
    Reset,
    /// People changing their own: the current password. A device left signed in is then not
    /// enough to plant a lasting way in (a card, pictures or a password of one's choosing).
    CurrentPassword,
    /// A young student with pictures and no password: the current pictures.
    CurrentPictures,
    /// Someone with neither (a card only) cannot show it is them: a teacher does it.
    AskATeacher,
}

/// What `actor` must show to change `target`'s sign-in secrets; `None` when they may not at
/// all (answered as "not found"). Changing one's own always needs the current secret, for
/// administrators too; resetting someone else's follows [`can_reset_credentials`].
pub fn secret_change(actor: &User, target: &User, teaches_target: bool) -> Option<SecretChange> {
    if !active(actor) {
        return None;
    }
    if actor.id == target.id {
        return Some(if target.password_hash.is_some() {
            SecretChange::CurrentPassword
        } else if target.pictures_hash.is_some() {
            SecretChange::CurrentPictures
        } else {
            SecretChange::AskATeacher
        });
    }
    can_reset_credentials(actor, target, teaches_target).then_some(SecretChange::Reset)
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

/// What the store knows about one viewer and one artifact, gathered once so every rule about
/// that artifact is decided from the same facts.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArtifactFacts {
    pub owner: bool,
    /// The viewer teaches one of the owners (in any class).
    pub teaches_owner: bool,
    /// The viewer teaches the class the artifact was posted in.
    pub class_teacher: bool,
    /// The viewer is a student in the class the artifact was posted in.
    pub classmate: bool,
    /// The viewer is a family account linked to one of the owners.
    pub family: bool,
    /// The viewer leads the school the artifact was posted in, in one of its classes.
    pub school_leader: bool,
    /// The artifact's class asks for approval before classmates and families see work.
    pub needs_approval: bool,
    pub approved: bool,
    pub deleted: bool,
    pub visibility: super::Visibility,
    /// The artifact's class lets classmates comment.
    pub comments_allowed: bool,
    /// The artifact's class has family sharing off: its families see none of its work.
    pub family_hidden: bool,
    /// The artifact's class holds family members' comments for a teacher.
    pub hold_family_comments: bool,
}

/// What the rules read of a piece of work itself; from the artifact or its summary
/// (`domain::summary`), so a list of work is decided without decoding each artifact.
#[derive(Clone, Copy, Debug)]
pub struct Work<'a> {
    pub school: super::SchoolId,
    pub owners: &'a [super::UserId],
    pub class: Option<super::ClassId>,
    pub approved: bool,
    pub deleted: bool,
    pub visibility: super::Visibility,
}

impl<'a> From<&'a super::Artifact> for Work<'a> {
    fn from(a: &'a super::Artifact) -> Self {
        Work {
            school: a.school,
            owners: &a.owners,
            class: a.class,
            approved: a.approved,
            deleted: a.deleted,
            visibility: a.visibility,
        }
    }
}

impl ArtifactFacts {
    fn teacher(&self) -> bool {
        self.teaches_owner || self.class_teacher
    }
    fn shared(&self) -> bool {
        self.approved || !self.needs_approval
    }
}

/// Seeing an artifact, its files and its versions. The owners and their teachers always can;
/// classmates when it is shared with the class, families when it is shared with families,
/// in both cases once a teacher approved it if the class asks for approval. The school's
/// leaders see what the work's class sees, in every class of the school: never private work.
pub fn can_view_artifact(viewer: &User, f: &ArtifactFacts) -> bool {
    use super::Visibility::*;
    if !active(viewer) || f.deleted {
        return false;
    }
    if f.owner || f.teacher() {
        return true;
    }
    match f.visibility {
        Private => false,
        Class => (f.classmate || f.school_leader) && f.shared(),
        Family => (f.classmate || f.school_leader || (f.family && !f.family_hidden)) && f.shared(),
    }
}

/// What a student's family sees of a piece of work, whoever asks: shared with the family,
/// approved where the class asks for approval, in a class whose family sharing is on. The
/// weekly digest shows only this, also when a teacher prints it for the family.
pub fn shared_with_family(f: &ArtifactFacts) -> bool {
    !f.deleted && f.visibility == super::Visibility::Family && !f.family_hidden && f.shared()
}

/// Reading a student's family digest: the family linked to the student, the student's
/// teachers and the school's administrators (`same_school` already checked by the caller).
pub fn can_read_family_digest(actor: &User, linked_family: bool, teaches_student: bool) -> bool {
    active(actor)
        && match actor.role {
            Role::Admin => true,
            Role::Teacher => teaches_student,
            Role::Family => linked_family,
            Role::Student | Role::Leader => false,
        }
}

/// Changing the title, reflection, tags, visibility, adding versions: the students whose work it is.
pub fn can_edit_artifact(viewer: &User, f: &ArtifactFacts) -> bool {
    active(viewer) && !f.deleted && f.owner
}

/// Students delete their own work; teachers delete work in their classes.
pub fn can_delete_artifact(viewer: &User, f: &ArtifactFacts) -> bool {
    active(viewer) && !f.deleted && (f.owner || f.teacher())
}

/// Approving for sharing and giving feedback.
pub fn can_review_artifact(viewer: &User, f: &ArtifactFacts) -> bool {
    active(viewer) && !f.deleted && viewer.role != Role::Student && f.teacher()
}

/// Writing a comment: teachers and the owners always; classmates when the class allows it.
/// Families comment (held for a teacher where the class says so). The school's leaders read
/// the approved comments of the work they see, like classmates, and never write one.
pub fn can_comment(viewer: &User, f: &ArtifactFacts) -> bool {
    can_view_artifact(viewer, f)
        && (f.owner || f.teacher() || (f.classmate && f.comments_allowed) || (f.family && viewer.role == Role::Family))
}

/// A classmate's comment waits for a teacher when the class asks for approval; a family
/// member's when the class holds family comments (its own setting, on by default).
pub fn comment_needs_approval(f: &ArtifactFacts) -> bool {
    if f.owner || f.teacher() {
        return false;
    }
    if f.family && !f.classmate { f.hold_family_comments } else { f.needs_approval }
}

/// Seeing one comment on an artifact the viewer can see: feedback is for the owners, their
/// teachers and families; comments for everyone who sees the work once approved (authors and
/// teachers see held ones).
pub fn can_view_comment(viewer: &User, f: &ArtifactFacts, comment: &super::Comment) -> bool {
    if !can_view_artifact(viewer, f) {
        return false;
    }
    match comment.kind {
        super::CommentKind::Feedback => f.owner || f.teacher() || f.family,
        super::CommentKind::Comment => comment.approved || comment.author == viewer.id || f.teacher(),
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
            language: None,
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
    fn artifacts_are_private_by_default_and_shared_only_once_approved() {
        let s = SchoolId::new();
        let student = user(Role::Student, s);
        let owner = ArtifactFacts { owner: true, needs_approval: true, ..Default::default() };
        assert!(can_view_artifact(&student, &owner));
        let classmate = ArtifactFacts { classmate: true, needs_approval: true, ..Default::default() };
        assert!(!can_view_artifact(&student, &classmate), "private by default");
        let shared = ArtifactFacts { visibility: crate::domain::Visibility::Class, ..classmate };
        assert!(!can_view_artifact(&student, &shared), "waits for approval");
        assert!(can_view_artifact(&student, &ArtifactFacts { approved: true, ..shared }));
        let family = user(Role::Family, s);
        let for_family = ArtifactFacts {
            family: true,
            visibility: crate::domain::Visibility::Class,
            approved: true,
            ..Default::default()
        };
        assert!(!can_view_artifact(&family, &for_family), "class sharing is not family sharing");
        assert!(can_view_artifact(
            &family,
            &ArtifactFacts { visibility: crate::domain::Visibility::Family, ..for_family }
        ));
        let teacher = user(Role::Teacher, s);
        assert!(can_view_artifact(&teacher, &ArtifactFacts { teaches_owner: true, ..Default::default() }));
        assert!(!can_view_artifact(&teacher, &ArtifactFacts::default()));
        assert!(!can_view_artifact(&student, &ArtifactFacts { owner: true, deleted: true, ..Default::default() }));
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

    #[test]
    fn ones_own_secret_needs_the_current_one_and_others_need_a_teacher_or_an_admin() {
        use SecretChange::*;
        let s = SchoolId::new();
        let mut pupil = user(Role::Student, s);
        assert_eq!(secret_change(&pupil, &pupil, false), Some(AskATeacher), "a card proves nothing");
        pupil.pictures_hash = Some("p".into());
        assert_eq!(secret_change(&pupil, &pupil, false), Some(CurrentPictures));
        pupil.password_hash = Some("h".into());
        assert_eq!(secret_change(&pupil, &pupil, false), Some(CurrentPassword), "the stronger secret");
        let mut admin = user(Role::Admin, s);
        admin.password_hash = Some("h".into());
        assert_eq!(secret_change(&admin, &admin, false), Some(CurrentPassword), "admins too");
        assert_eq!(secret_change(&admin, &pupil, false), Some(Reset));
        let t = user(Role::Teacher, s);
        assert_eq!(secret_change(&t, &pupil, true), Some(Reset));
        assert_eq!(secret_change(&t, &pupil, false), None);
        assert_eq!(secret_change(&user(Role::Student, s), &pupil, false), None, "classmates never");
        admin.disabled = true;
        assert_eq!(secret_change(&admin, &pupil, false), None);
    }

    #[test]
    fn the_family_digest_shows_what_families_see_to_whom_may_read_it() {
        use crate::domain::Visibility;
        let shared = ArtifactFacts {
            visibility: Visibility::Family,
            approved: true,
            needs_approval: true,
            ..ArtifactFacts::default()
        };
        assert!(shared_with_family(&shared));
        assert!(!shared_with_family(&ArtifactFacts { approved: false, ..shared }), "waiting for the teacher");
        assert!(shared_with_family(&ArtifactFacts { approved: false, needs_approval: false, ..shared }));
        assert!(!shared_with_family(&ArtifactFacts { visibility: Visibility::Class, ..shared }));
        assert!(!shared_with_family(&ArtifactFacts { visibility: Visibility::Private, ..shared }));
        assert!(!shared_with_family(&ArtifactFacts { family_hidden: true, ..shared }), "family sharing off");
        assert!(!shared_with_family(&ArtifactFacts { deleted: true, ..shared }));

        let school = SchoolId::new();
        let (admin, teacher, family, student) = (
            user(Role::Admin, school),
            user(Role::Teacher, school),
            user(Role::Family, school),
            user(Role::Student, school),
        );
        assert!(can_read_family_digest(&admin, false, false));
        assert!(can_read_family_digest(&teacher, false, true));
        assert!(!can_read_family_digest(&teacher, false, false), "a teacher of other students");
        assert!(can_read_family_digest(&family, true, false));
        assert!(!can_read_family_digest(&family, false, false), "another family");
        assert!(!can_read_family_digest(&student, true, true), "a classmate, even the student");
        assert!(!can_read_family_digest(&User { disabled: true, ..family }, true, false));
    }

    #[test]
    fn leaders_read_what_classes_see_in_every_class_of_their_school_and_change_nothing() {
        use crate::domain::{Comment, CommentKind, Visibility};
        let s = SchoolId::new();
        let leader = user(Role::Leader, s);
        let shared = ArtifactFacts {
            school_leader: true,
            visibility: Visibility::Class,
            needs_approval: true,
            approved: true,
            comments_allowed: true,
            ..Default::default()
        };
        assert!(can_view_artifact(&leader, &shared));
        assert!(can_view_artifact(&leader, &ArtifactFacts { visibility: Visibility::Family, ..shared }));
        assert!(
            can_view_artifact(
                &leader,
                &ArtifactFacts { visibility: Visibility::Family, family_hidden: true, ..shared }
            ),
            "family sharing off still leaves it shared with the class"
        );
        assert!(
            !can_view_artifact(&leader, &ArtifactFacts { visibility: Visibility::Private, ..shared }),
            "never private"
        );
        assert!(!can_view_artifact(&leader, &ArtifactFacts { approved: false, ..shared }), "waits for the teacher");
        assert!(!can_view_artifact(&leader, &ArtifactFacts { school_leader: false, ..shared }), "another school");
        assert!(!can_view_artifact(&User { disabled: true, ..leader.clone() }, &shared));
        assert!(!can_edit_artifact(&leader, &shared));
        assert!(!can_delete_artifact(&leader, &shared));
        assert!(!can_review_artifact(&leader, &shared));
        assert!(!can_comment(&leader, &shared), "leaders read comments and never post one");
        let comment = |kind, approved| Comment {
            id: crate::domain::CommentId::new(),
            artifact: crate::domain::ArtifactId::new(),
            version: None,
            author: UserId::new(),
            body: "Nice".into(),
            kind,
            approved,
            created_ms: 0,
            audio: None,
        };
        assert!(can_view_comment(&leader, &shared, &comment(CommentKind::Comment, true)));
        assert!(!can_view_comment(&leader, &shared, &comment(CommentKind::Comment, false)), "held");
        assert!(
            !can_view_comment(&leader, &shared, &comment(CommentKind::Feedback, true)),
            "feedback is the student's"
        );

        // No administrator's powers, and no place in a class.
        let pupil = user(Role::Student, s);
        assert!(!can_create_users(&leader));
        assert!(!can_manage_boxes(&leader));
        assert!(!can_create_class(&leader));
        assert!(!can_manage_class(&leader, true, ClassRelation::None));
        assert!(!can_reset_credentials(&leader, &pupil, false));
        assert_eq!(secret_change(&leader, &pupil, false), None);
        assert!(!can_disable_users(&leader, &pupil));
        assert!(!can_read_family_digest(&leader, false, false));
        assert!(!valid_class_role(Role::Leader, Role::Teacher) && !valid_class_role(Role::Leader, Role::Student));
        // They see class lists and read class reports, in their own school only.
        assert!(can_see_class(&leader, true, ClassRelation::None));
        assert!(!can_see_class(&leader, false, ClassRelation::None));
        assert!(can_read_class_report(&leader, true, ClassRelation::None));
        assert!(!can_read_class_report(&leader, false, ClassRelation::None));
        assert!(leads_school(&leader, s) && !leads_school(&leader, SchoolId::new()));
    }

    #[test]
    fn class_reports_are_for_the_class_s_teachers_and_the_school_report_for_leaders_and_admins() {
        let s = SchoolId::new();
        let teacher = user(Role::Teacher, s);
        let as_teacher = ClassRelation::Member(Role::Teacher);
        assert!(can_read_class_report(&teacher, true, as_teacher));
        assert!(!can_read_class_report(&teacher, true, ClassRelation::None));
        assert!(!can_read_class_report(&user(Role::Admin, s), true, ClassRelation::None), "admins see counts only");
        assert!(!can_read_class_report(&user(Role::Student, s), true, ClassRelation::Member(Role::Student)));
        assert!(!can_read_class_report(&user(Role::Family, s), true, ClassRelation::None));

        use SchoolReportDetail::*;
        assert_eq!(school_report_detail(&user(Role::Leader, s), s), Some(Named));
        assert_eq!(school_report_detail(&user(Role::Admin, s), s), Some(CountsOnly));
        assert_eq!(school_report_detail(&user(Role::Leader, s), SchoolId::new()), None, "another school");
        for role in [Role::Teacher, Role::Student, Role::Family] {
            assert_eq!(school_report_detail(&user(role, s), s), None, "{role}");
        }
        assert_eq!(school_report_detail(&User { disabled: true, ..user(Role::Leader, s) }, s), None);
    }
}
