//! Who may read an artifact, written as sets of *principals* so that a search index can filter
//! by them inside the query, instead of checking hits one by one afterwards (which would leak
//! totals and facet counts, and make paging wrong).
//!
//! This is `policy::can_view_artifact` and `policy::can_view_comment` said another way, and the
//! two must agree: `store`'s tests check them against each other for every viewer and artifact
//! of a random school.
//!
//! A viewer holds principals (`viewer_principals`): themselves, the classes they teach or sit
//! in, the children they are family of. An artifact has up to three *audiences*, one per
//! [`Reach`], each with the principals that read it at that reach. Because a person can hold
//! principals of several audiences (a student owns a work and sits in its class), every
//! audience also lists the principals of the audiences above it as `outranked_by`: a viewer
//! matches an audience only if they hold one of its readers and none of its `outranked_by`.
//! So each viewer matches at most one audience of an artifact, the widest they are entitled
//! to, and a search counts each artifact once.

use super::{Artifact, Class, ClassId, Role, User, UserId, Visibility};

/// A name for a group of readers, as stored in the index. Ids are globally unique, so a
/// principal never matches across schools.
pub type Principal = String;

pub fn person(user: UserId) -> Principal {
    format!("person:{user}")
}

/// Held by people with the teacher role who teach `class`: they read the work of every
/// student in it, whichever class the work was posted to.
pub fn teaches(class: ClassId) -> Principal {
    format!("teaches:{class}")
}

/// Held by every teacher member of `class` (admins included): they read work posted to it.
pub fn class_teacher(class: ClassId) -> Principal {
    format!("class-teacher:{class}")
}

/// Held by the students of `class`.
pub fn classmate(class: ClassId) -> Principal {
    format!("classmate:{class}")
}

/// Held by family accounts linked to `student`.
pub fn family_of(student: UserId) -> Principal {
    format!("family:{student}")
}

/// What an audience may read of an artifact besides the work itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Teachers: every comment and all feedback, approved or not.
    Teachers,
    /// The owners and their families: feedback, and comments once approved.
    OwnersAndFamily,
    /// Classmates: comments once approved; feedback is between the student and the teacher.
    Classmates,
}

impl Reach {
    pub fn name(self) -> &'static str {
        match self {
            Reach::Teachers => "teachers",
            Reach::OwnersAndFamily => "owners",
            Reach::Classmates => "classmates",
        }
    }

    /// Whether this audience reads a comment (mirrors `policy::can_view_comment`, leaving out
    /// a commenter's own comment still waiting for approval, which is shown on the page).
    pub fn reads(self, comment: &super::Comment) -> bool {
        use super::CommentKind::*;
        match (self, comment.kind) {
            (Reach::Teachers, _) => true,
            (Reach::OwnersAndFamily, Feedback) => true,
            (Reach::Classmates, Feedback) => false,
            (_, Comment) => comment.approved,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audience {
    pub reach: Reach,
    pub readers: Vec<Principal>,
    pub outranked_by: Vec<Principal>,
}

/// The audiences of an artifact. `owner_classes` are the classes where any owner is a
/// student; `class` is the class the work was posted to, if any.
pub fn artifact_audiences(artifact: &Artifact, owner_classes: &[ClassId], class: Option<&Class>) -> Vec<Audience> {
    if artifact.deleted {
        return Vec::new();
    }
    // Work outside a class has no teacher to approve it, so it is never shared.
    let needs_approval = class.is_none_or(|c| c.require_approval);
    let shared = artifact.approved || !needs_approval;

    let mut teachers: Vec<Principal> = owner_classes.iter().map(|c| teaches(*c)).collect();
    let mut owners: Vec<Principal> = artifact.owners.iter().map(|o| person(*o)).collect();
    let mut classmates = Vec::new();
    if let Some(class) = class {
        teachers.push(class_teacher(class.id));
        if shared && artifact.visibility != Visibility::Private {
            classmates.push(classmate(class.id));
        }
    }
    if shared && artifact.visibility == Visibility::Family && class.is_none_or(|c| c.family_sharing) {
        owners.extend(artifact.owners.iter().map(|o| family_of(*o)));
    }
    for set in [&mut teachers, &mut owners, &mut classmates] {
        set.sort();
        set.dedup();
    }

    let mut audiences = Vec::new();
    let mut above: Vec<Principal> = Vec::new();
    for (reach, readers) in
        [(Reach::Teachers, teachers), (Reach::OwnersAndFamily, owners), (Reach::Classmates, classmates)]
    {
        if readers.is_empty() {
            continue;
        }
        audiences.push(Audience { reach, readers: readers.clone(), outranked_by: above.clone() });
        above.extend(readers);
    }
    audiences
}

/// The principals a viewer holds. `classes` are their class places with their role in each;
/// `family_of_students` the students a family account is linked to; `school_classes` every
/// class of their school, read only for a leader, who reads what each class sees (the
/// classmates' audience: shared work and approved comments, never feedback).
pub fn viewer_principals(
    viewer: &User,
    classes: &[(ClassId, Role)],
    family_of_students: &[UserId],
    school_classes: &[ClassId],
) -> Vec<Principal> {
    if viewer.disabled {
        return Vec::new();
    }
    let mut held = vec![person(viewer.id)];
    for (class, role) in classes {
        match role {
            Role::Teacher => {
                held.push(class_teacher(*class));
                if viewer.role == Role::Teacher {
                    held.push(teaches(*class));
                }
            }
            Role::Student => held.push(classmate(*class)),
            _ => {}
        }
    }
    if viewer.role == Role::Family {
        held.extend(family_of_students.iter().map(|s| family_of(*s)));
    }
    if viewer.role == Role::Leader {
        held.extend(school_classes.iter().map(|c| classmate(*c)));
    }
    held
}

/// The audience a viewer matches, if any: the same test the index runs.
pub fn matching<'a>(audiences: &'a [Audience], held: &[Principal]) -> Option<&'a Audience> {
    let holds = |set: &[Principal]| set.iter().any(|p| held.contains(p));
    audiences.iter().find(|a| holds(&a.readers) && !holds(&a.outranked_by))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_viewer_matches_at_most_one_audience() {
        let student = UserId::new();
        let class = Class {
            id: ClassId::new(),
            school: crate::domain::SchoolId::new(),
            name: "3B".into(),
            join_code: "X".into(),
            external_id: None,
            require_approval: false,
            comments_allowed: true,
            family_sharing: true,
            hold_family_comments: true,
            family_sees_ratings: false,
            field_clock: Default::default(),
        };
        let artifact = Artifact {
            id: crate::domain::ArtifactId::new(),
            school: class.school,
            owners: vec![student],
            class: Some(class.id),
            activity: None,
            title: "Bridge".into(),
            reflection: String::new(),
            tags: Default::default(),
            skills: Default::default(),
            visibility: Visibility::Family,
            kind: "image".into(),
            approved: false,
            reviewed: false,
            versions: Vec::new(),
            created_ms: 0,
            updated_ms: 0,
            from_home: false,
            deleted: false,
            reflection_conflicts: Vec::new(),
            field_clock: Default::default(),
            scope: None,
        };
        let audiences = artifact_audiences(&artifact, &[class.id], Some(&class));
        assert_eq!(audiences.len(), 3);
        // The owner sits in the class too: they hold a classmate principal and their own.
        let held = [person(student), classmate(class.id)];
        let matched: Vec<_> = audiences
            .iter()
            .filter(|a| a.readers.iter().any(|p| held.contains(p)) && !a.outranked_by.iter().any(|p| held.contains(p)))
            .collect();
        assert_eq!(matched.len(), 1);
        assert_eq!(matched[0].reach, Reach::OwnersAndFamily);
        assert_eq!(matching(&audiences, &[classmate(class.id)]).map(|a| a.reach), Some(Reach::Classmates));
        assert_eq!(matching(&audiences, &[person(UserId::new())]), None);
    }
}
