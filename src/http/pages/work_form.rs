//! The new-work form's fields (`work_form.html`), shared by the student's home page, an
//! activity's page and a family's "add from home" page: the skills to tick, grouped as the
//! school groups them, and the classmates to choose for group work. Families tag no skills
//! and choose no classmates: they add to one child's portfolio, and the teacher and the
//! child say what it shows.

use crate::actions::work_form::FormChoices;
use crate::domain::skills::Skill;
use crate::domain::{ActivityId, SkillId, UserId};

#[derive(Default)]
pub struct WorkForm {
    pub activity_id: Option<ActivityId>,
    /// A family adds to this child's portfolio, from home.
    pub for_child: Option<UserId>,
    /// Empty when the school lists no skills (then the form shows no skills at all).
    pub skill_groups: Vec<SkillGroup>,
    /// (id, name) of the classmates who may share the work.
    pub classmates: Vec<(UserId, String)>,
}

/// The skills under one heading (`None`: the skills the school put in no group).
pub struct SkillGroup {
    pub name: Option<String>,
    pub skills: Vec<SkillChoice>,
}

pub struct SkillChoice {
    pub id: SkillId,
    pub code: String,
    pub name: String,
    pub ticked: bool,
}

impl WorkForm {
    /// A student's form, answering `activity_id` when given.
    pub fn student(choices: FormChoices, activity_id: Option<ActivityId>) -> Self {
        WorkForm {
            activity_id,
            for_child: None,
            skill_groups: groups(&choices.skills, |s| choices.ticked.contains(&s.code)),
            classmates: choices.classmates.into_iter().map(|u| (u.id, u.display_name)).collect(),
        }
    }

    /// A family's form, adding to `child`'s portfolio.
    pub fn family(child: UserId) -> Self {
        WorkForm { for_child: Some(child), ..WorkForm::default() }
    }
}

/// The skills under their groups' headings, each group where its first skill is in the
/// school's list.
pub fn groups(skills: &[Skill], ticked: impl Fn(&Skill) -> bool) -> Vec<SkillGroup> {
    let mut groups: Vec<SkillGroup> = Vec::new();
    for skill in skills {
        let choice =
            SkillChoice { id: skill.id, code: skill.code.clone(), name: skill.name.clone(), ticked: ticked(skill) };
        match groups.iter_mut().find(|g| g.name == skill.group) {
            Some(group) => group.skills.push(choice),
            None => groups.push(SkillGroup { name: skill.group.clone(), skills: vec![choice] }),
        }
    }
    groups
}
