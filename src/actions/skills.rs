//! The school's skills and its scale of levels: listing them, adding and changing one,
//! retiring one, importing a list (CASE package or CSV, matched with what is there so a
//! re-import updates), and setting the scale. Admins and teachers manage skills; only admins
//! change the scale, which every class shares.

use std::collections::BTreeSet;

use crate::domain::skills::{self, Skill, SkillInput};
use crate::domain::{Change, Hlc, Role, Scope, SkillId, User};
use crate::error::{Error, Result};
use crate::store::{Queries, ReadTables, Store};

/// The school's skills and the names of its levels, lowest first.
#[derive(Clone, Debug)]
pub struct SkillList {
    pub skills: Vec<Skill>,
    pub levels: Vec<String>,
    /// The admins chose the scale (otherwise it is `skills::DEFAULT_LEVELS`).
    pub custom_levels: bool,
}

impl SkillList {
    /// The skills still offered, retired ones left out.
    pub fn active(&self) -> impl Iterator<Item = &Skill> {
        self.skills.iter().filter(|s| !s.retired)
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

pub fn may_manage(actor: &User) -> bool {
    matches!(actor.role, Role::Admin | Role::Teacher) && !actor.disabled
}

fn check_manager(actor: &User) -> Result<()> {
    if may_manage(actor) { Ok(()) } else { Err(Error::forbidden("Only teachers and administrators manage skills.")) }
}

/// Everyone in a school may read its skills and scale (students choose skills for their work).
pub fn list(r: &impl ReadTables, actor: &User) -> Result<SkillList> {
    let levels = r.school(actor.school)?.and_then(|s| s.levels);
    Ok(SkillList {
        skills: r.skills(actor.school)?,
        custom_levels: levels.is_some(),
        levels: skills::levels_or_default(&levels),
    })
}

/// The skill `input` is, among `held`: by CASE identifier first, then by code.
fn matching<'a>(held: &'a [Skill], input: &SkillInput) -> Option<&'a Skill> {
    let by_case = input.case_id.as_ref().and_then(|c| held.iter().find(|s| s.case_id.as_ref() == Some(c)));
    by_case.or_else(|| held.iter().find(|s| s.code.eq_ignore_ascii_case(&input.code)))
}

/// Imports a list: each skill matched with the school's by CASE identifier or code is
/// updated (and brought back if it was retired), the others are added. One operation per
/// skill that changes; nothing is recorded unless the whole list is acceptable.
pub fn import(store: &Store, actor: &User, inputs: Vec<SkillInput>) -> Result<ImportSummary> {
    check_manager(actor)?;
    let inputs = inputs.into_iter().map(skills::clean_input).collect::<std::result::Result<Vec<_>, _>>()?;
    store.write(|tx| {
        let mut held = tx.txn().skills(actor.school)?;
        let mut summary = ImportSummary::default();
        let mut codes_taken = BTreeSet::new();
        for input in inputs.clone() {
            let existing = matching(&held, &input).cloned();
            let id = match &existing {
                Some(s) => s.id,
                None => {
                    let key = input.case_id.as_deref().map_or_else(|| skills::code_key(&input.code), skills::case_key);
                    let derived = skills::derived_id(actor.school, &key);
                    // Taken by a skill whose code was changed since it was made: a new id.
                    if held.iter().any(|s| s.id == derived) { SkillId::new() } else { derived }
                }
            };
            let clash = held.iter().find(|s| s.id != id && !s.retired && s.code.eq_ignore_ascii_case(&input.code));
            if clash.is_some() || !codes_taken.insert(input.code.to_lowercase()) {
                return Err(Error::Invalid(format!(
                    "The code \"{}\" is already another skill's: change one of them first.",
                    input.code
                )));
            }
            let skill = Skill {
                id,
                code: input.code,
                name: input.name,
                group: input.group,
                case_id: input.case_id.or_else(|| existing.as_ref().and_then(|s| s.case_id.clone())),
                retired: false,
                clock: Hlc::ZERO,
            };
            match &existing {
                Some(s) if Skill { clock: Hlc::ZERO, ..s.clone() } == skill => {
                    summary.unchanged += 1;
                    continue;
                }
                Some(_) => summary.updated += 1,
                None => summary.created += 1,
            }
            tx.record(actor.school, Scope::School, Some(actor.id), Change::SkillSaved { skill: skill.clone() })?;
            held.retain(|s| s.id != id);
            held.push(skill);
        }
        Ok(summary)
    })
}

/// Adds a skill (`id` none) or changes one, from the skills page or the API.
pub fn save(store: &Store, actor: &User, id: Option<SkillId>, input: SkillInput) -> Result<Skill> {
    check_manager(actor)?;
    let input = skills::clean_input(input)?;
    store.write(|tx| {
        let held = tx.txn().skills(actor.school)?;
        let existing = match id {
            Some(id) => Some(held.iter().find(|s| s.id == id).cloned().ok_or(Error::NotFound)?),
            None => None,
        };
        let (id, existing) = match existing {
            Some(s) => (s.id, Some(s)),
            None => {
                let derived = skills::derived_id(actor.school, &skills::code_key(&input.code));
                match held.iter().find(|s| s.id == derived) {
                    None => (derived, None),
                    // A retired skill of that code: brought back rather than made twice.
                    Some(s) if s.retired && s.code.eq_ignore_ascii_case(&input.code) => {
                        (derived, Some(Skill { retired: false, ..s.clone() }))
                    }
                    // The id that code derives is a skill's whose code was changed since.
                    Some(_) => (SkillId::new(), None),
                }
            }
        };
        if held.iter().any(|s| s.id != id && !s.retired && s.code.eq_ignore_ascii_case(&input.code)) {
            return Err(Error::Invalid(format!("There is already a skill with the code \"{}\".", input.code)));
        }
        save_unchecked(tx, actor, merged(id, input.clone(), existing.as_ref()))
    })
}

fn merged(id: SkillId, input: SkillInput, existing: Option<&Skill>) -> Skill {
    Skill {
        id,
        code: input.code,
        name: input.name,
        group: input.group,
        case_id: existing.and_then(|s| s.case_id.clone()),
        retired: existing.is_some_and(|s| s.retired),
        clock: Hlc::ZERO,
    }
}

fn save_unchecked(tx: &mut crate::store::Tx, actor: &User, skill: Skill) -> Result<Skill> {
    tx.record(actor.school, Scope::School, Some(actor.id), Change::SkillSaved { skill: skill.clone() })?;
    Ok(skill)
}

/// Retires a skill (no longer offered; work and ratings that name it keep it) or brings it
/// back.
pub fn set_retired(store: &Store, actor: &User, id: SkillId, retired: bool) -> Result<Skill> {
    check_manager(actor)?;
    store.write(|tx| {
        let skill = tx.txn().skill(actor.school, id)?.ok_or(Error::NotFound)?;
        if retired == skill.retired {
            return Ok(skill);
        }
        if !retired
            && tx
                .txn()
                .skills(actor.school)?
                .iter()
                .any(|s| s.id != id && !s.retired && s.code.eq_ignore_ascii_case(&skill.code))
        {
            return Err(Error::Invalid(format!("Another skill has the code \"{}\" now.", skill.code)));
        }
        save_unchecked(tx, actor, Skill { retired, ..skill })
    })
}

/// The old flat list (`PUT /api/v1/skills`): codes not in the list are retired, new codes
/// added as skills named by their codes. Returns the active codes.
pub fn set_codes(store: &Store, actor: &User, codes: &[String]) -> Result<Vec<String>> {
    if actor.role != Role::Admin {
        return Err(Error::forbidden("Only an administrator can set the school's skills."));
    }
    let codes: Vec<String> = crate::domain::work::parse_labels(&codes.join(","), false)?.into_iter().collect();
    store.write(|tx| {
        let held = tx.txn().skills(actor.school)?;
        for skill in held.iter().filter(|s| !s.retired && !codes.contains(&s.code)) {
            save_unchecked(tx, actor, Skill { retired: true, ..skill.clone() })?;
        }
        for code in &codes {
            let existing = held.iter().find(|s| &s.code == code);
            match existing {
                Some(s) if !s.retired => {}
                Some(s) => {
                    save_unchecked(tx, actor, Skill { retired: false, ..s.clone() })?;
                }
                None => {
                    let input = skills::clean_input(SkillInput {
                        case_id: None,
                        code: code.clone(),
                        name: code.clone(),
                        group: None,
                    })?;
                    let derived = skills::derived_id(actor.school, &skills::code_key(code));
                    let id = if held.iter().any(|s| s.id == derived) { SkillId::new() } else { derived };
                    save_unchecked(tx, actor, merged(id, input, None))?;
                }
            }
        }
        Ok(codes.clone())
    })
}

/// Sets the school's scale (administrators); `None` goes back to the default scale.
pub fn set_levels(store: &Store, actor: &User, names: Option<Vec<String>>) -> Result<Vec<String>> {
    if actor.role != Role::Admin || actor.disabled {
        return Err(Error::forbidden("Only an administrator can change the school's levels."));
    }
    let levels = names.map(|n| skills::clean_levels(&n)).transpose()?;
    store.write(|tx| {
        tx.record(actor.school, Scope::School, Some(actor.id), Change::LevelsSet { levels: levels.clone() })?;
        Ok(skills::levels_or_default(&levels))
    })
}
