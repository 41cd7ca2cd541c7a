//! What the new-work form offers a student: the school's skills to tag the work with (those
//! of the activity it answers already ticked) and the classmates who may share it as group
//! work. `actions::work::create` checks again what comes back; this only chooses what to
//! show. Also the check of the skills a teacher names on an activity.

use std::collections::BTreeSet;

use crate::domain::skills::Skill;
use crate::domain::{Activity, Class, Role, SkillId, User};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables};

/// The choices of one student's new-work form.
#[derive(Clone, Debug, Default)]
pub struct FormChoices {
    /// The school's skills still offered, in the school's order.
    pub skills: Vec<Skill>,
    /// The codes ticked from the start: the skills the activity targets.
    pub ticked: BTreeSet<String>,
    /// The class the work goes into, when the form knows it (the activity's, or the
    /// student's only class); group work needs it.
    pub class: Option<Class>,
    /// The other students of that class, by name.
    pub classmates: Vec<User>,
}

/// What `student`'s form offers, answering `activity` if given.
pub fn for_student(r: &impl ReadTables, student: &User, activity: Option<&Activity>) -> Result<FormChoices> {
    if student.role != Role::Student {
        return Ok(FormChoices::default());
    }
    let skills: Vec<Skill> = r.skills(student.school)?.into_iter().filter(|s| !s.retired).collect();
    let ticked = activity
        .map(|a| skills.iter().filter(|s| a.skills.contains(&s.id)).map(|s| s.code.clone()).collect())
        .unwrap_or_default();
    let own: Vec<Class> =
        r.classes_of(student.id)?.into_iter().filter(|(_, role)| *role == Role::Student).map(|(c, _)| c).collect();
    // The same choice `actions::work` makes for work posted without a class.
    let class = match activity {
        Some(a) => own.into_iter().find(|c| c.id == a.class),
        None if own.len() == 1 => own.into_iter().next(),
        None => None,
    };
    let mut classmates = Vec::new();
    if let Some(class) = &class {
        classmates = r
            .members(class.id)?
            .into_iter()
            .filter(|(u, role)| *role == Role::Student && u.id != student.id && !u.disabled)
            .map(|(u, _)| u)
            .collect();
        classmates.sort_by_key(|u| u.display_name.to_lowercase());
    }
    Ok(FormChoices { skills, ticked, class, classmates })
}

/// The skills a teacher names for an activity, each checked to be one the school still
/// offers; repeated ones are kept once, in the order given.
pub fn school_skills(r: &impl ReadTables, actor: &User, ids: &[SkillId]) -> Result<Vec<SkillId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let offered: Vec<SkillId> = r.skills(actor.school)?.into_iter().filter(|s| !s.retired).map(|s| s.id).collect();
    let mut chosen = Vec::new();
    for id in ids {
        if !offered.contains(id) {
            return Err(Error::Invalid(format!(
                "The skill {id} is not one of the school's skills. Choose from the school's list (GET /api/v1/skills)."
            )));
        }
        if !chosen.contains(id) {
            chosen.push(*id);
        }
    }
    Ok(chosen)
}

/// The skills an activity targets, as the school has them now (retired ones still shown:
/// the activity was posted with them).
pub fn activity_skills(r: &impl ReadTables, activity: &Activity) -> Result<Vec<Skill>> {
    if activity.skills.is_empty() {
        return Ok(Vec::new());
    }
    let all = r.skills(activity.school)?;
    Ok(activity.skills.iter().filter_map(|id| all.iter().find(|s| s.id == *id).cloned()).collect())
}
