//! Skills with levels: a school's list of skills (standards, competences), the scale of
//! levels work is rated on, the ratings themselves, and the two files a list is imported
//! from: a CASE 1.1 package (`CFPackage` JSON) and a `code,name,group` CSV.
//!
//! Work is tagged with skills by their *code* (what students and teachers read); ratings name
//! a skill by its id, so renaming a skill's code keeps its ratings.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use super::roster::LineError;
use super::{ArtifactId, Hlc, Invalid, SchoolId, SkillId, UserId, VersionId};

/// The scale a school starts with; admins may rename the levels or change their count.
pub const DEFAULT_LEVELS: [&str; 4] = ["Beginning", "Developing", "Secure", "Extending"];
/// The most levels a scale may have (a rating is a small number, shown as that many steps).
pub const MAX_LEVELS: usize = 10;
/// The most skills one import may bring: a whole CASE framework of a state fits.
pub const MAX_IMPORT: usize = 5000;
const MAX_CODE: usize = 60;
const MAX_NAME: usize = 500;
const MAX_GROUP: usize = 200;
const MAX_LEVEL_NAME: usize = 40;

/// One skill of a school's list. The whole record is last-writer-wins (`clock`); a skill is
/// never deleted, only retired, so ratings that name it keep their meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    pub id: SkillId,
    /// What work is tagged with and people read ("3.NF.A.1", "collaboration").
    pub code: String,
    pub name: String,
    /// A heading skills are shown under ("Number and Operations—Fractions").
    #[serde(default)]
    pub group: Option<String>,
    /// The CASE `identifier` of the item it was imported from: what a re-import matches on.
    #[serde(default)]
    pub case_id: Option<String>,
    /// No longer offered for new work or ratings; kept for what already names it.
    #[serde(default)]
    pub retired: bool,
    /// When the record was last written (set by the store from the operation).
    #[serde(default = "zero")]
    pub clock: Hlc,
}

fn zero() -> Hlc {
    Hlc::ZERO
}

/// An id that depends only on the school and what identifies the skill in the file it came
/// from (`case:<identifier>` or `code:<code>`), so the same import made on two boxes, or twice,
/// names the same skills.
pub fn derived_id(school: SchoolId, key: &str) -> SkillId {
    let mut hasher = blake3::Hasher::new_derive_key("folio 2026 skill id");
    hasher.update(&school.bytes());
    hasher.update(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    // A version 8 (custom) UUID in the RFC 9562 variant: recognisably not a random id.
    SkillId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// The key a skill without a CASE identifier is derived from.
pub fn code_key(code: &str) -> String {
    format!("code:{}", code.to_lowercase())
}

/// The key a skill imported from CASE is derived from.
pub fn case_key(identifier: &str) -> String {
    format!("case:{}", identifier.to_lowercase())
}

/// The level names of a school's scale (`None`: the default scale).
pub fn levels_or_default(levels: &Option<Vec<String>>) -> Vec<String> {
    match levels {
        Some(names) if !names.is_empty() => names.clone(),
        _ => DEFAULT_LEVELS.iter().map(|s| s.to_string()).collect(),
    }
}

/// A scale as an admin typed it: 2 to `MAX_LEVELS` names, each short and not empty.
pub fn clean_levels(names: &[String]) -> Result<Vec<String>, Invalid> {
    let names: Vec<String> = names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
    if names.len() < 2 || names.len() > MAX_LEVELS {
        return Err(Invalid::new(format!("A scale has from 2 to {MAX_LEVELS} levels, each with a name.")));
    }
    if let Some(long) = names.iter().find(|n| n.chars().count() > MAX_LEVEL_NAME) {
        return Err(Invalid::new(format!("\"{long}\" is too long for a level: at most {MAX_LEVEL_NAME} characters.")));
    }
    let unique: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    if unique.len() != names.len() {
        return Err(Invalid::new("Two levels have the same name."));
    }
    Ok(names)
}

/// A skill as a file or a form describes it, before it is matched with the school's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillInput {
    pub case_id: Option<String>,
    pub code: String,
    pub name: String,
    pub group: Option<String>,
}

/// Checks and trims one skill's fields (`what` says where it came from, for the message).
pub fn clean_input(input: SkillInput) -> Result<SkillInput, Invalid> {
    let code = input.code.trim().to_string();
    let name = collapse(&input.name);
    let group = input.group.map(|g| collapse(&g)).filter(|g| !g.is_empty());
    if code.is_empty() {
        return Err(Invalid::new("A skill needs a code."));
    }
    if code.chars().count() > MAX_CODE || code.contains(',') || code.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "\"{code}\" cannot be a skill's code: at most {MAX_CODE} characters, without commas."
        )));
    }
    let name = if name.is_empty() { code.clone() } else { name };
    if name.chars().count() > MAX_NAME {
        return Err(Invalid::new(format!("The name of \"{code}\" is too long: at most {MAX_NAME} characters.")));
    }
    if group.as_ref().is_some_and(|g| g.chars().count() > MAX_GROUP) {
        return Err(Invalid::new(format!("The group of \"{code}\" is too long: at most {MAX_GROUP} characters.")));
    }
    Ok(SkillInput { case_id: input.case_id.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()), code, name, group })
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `code,name,group` CSV (a header line is recognised and skipped). All or nothing:
/// every bad line is reported.
pub fn parse_csv(text: &str) -> Result<Vec<SkillInput>, Vec<LineError>> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut skills = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in reader.records().enumerate() {
        let line = row.as_ref().ok().and_then(|r| r.position()).map_or(i as u64 + 1, |p| p.line());
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                errors.push(LineError { line, message: format!("this line cannot be read: {e}") });
                continue;
            }
        };
        let field = |n: usize| row.get(n).unwrap_or("").to_string();
        if row.iter().all(str::is_empty) {
            continue;
        }
        if i == 0 && field(0).eq_ignore_ascii_case("code") {
            continue;
        }
        if row.len() > 3 {
            errors.push(LineError { line, message: "a line has at most three fields: code,name,group".into() });
            continue;
        }
        let input = SkillInput { case_id: None, code: field(0), name: field(1), group: Some(field(2)) };
        match clean_input(input) {
            Ok(skill) if !seen.insert(skill.code.to_lowercase()) => {
                errors.push(LineError { line, message: format!("\"{}\" is listed twice", skill.code) })
            }
            Ok(skill) => skills.push(skill),
            Err(e) => errors.push(LineError { line, message: e.0 }),
        }
    }
    if skills.len() > MAX_IMPORT {
        errors.push(LineError { line: 0, message: format!("a list has at most {MAX_IMPORT} skills") });
    }
    if errors.is_empty() { Ok(skills) } else { Err(errors) }
}

/// The parts of a CASE 1.1 `CFPackage` folio reads; everything else in it is ignored.
#[derive(Debug, Deserialize)]
pub struct CfPackage {
    #[serde(rename = "CFDocument")]
    pub document: CfDocument,
    #[serde(rename = "CFItems", default)]
    pub items: Vec<CfItem>,
    #[serde(rename = "CFAssociations", default)]
    pub associations: Vec<CfAssociation>,
}

#[derive(Debug, Deserialize)]
pub struct CfDocument {
    pub identifier: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Deserialize)]
pub struct CfItem {
    pub identifier: String,
    #[serde(rename = "humanCodingScheme", default)]
    pub human_coding_scheme: Option<String>,
    #[serde(rename = "fullStatement", default)]
    pub full_statement: String,
    #[serde(rename = "abbreviatedStatement", default)]
    pub abbreviated_statement: Option<String>,
    #[serde(rename = "CFItemType", default)]
    pub item_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CfAssociation {
    #[serde(rename = "associationType")]
    pub association_type: String,
    #[serde(rename = "originNodeURI")]
    pub origin: CfLink,
    #[serde(rename = "destinationNodeURI")]
    pub destination: CfLink,
}

#[derive(Debug, Deserialize)]
pub struct CfLink {
    pub identifier: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// The skills of a CASE package: the items nothing else `isChildOf` (the standards at the
/// leaves of the tree, not the domains and clusters above them) that have a human coding
/// scheme, which becomes the code; the full statement is the name. A skill's group is the
/// item it `isChildOf`: that item's code and statement (abbreviated when it has one), or
/// nothing when its parent is the document itself.
pub fn parse_case(package: &CfPackage) -> Result<Vec<SkillInput>, Invalid> {
    if package.items.len() > MAX_IMPORT * 4 {
        return Err(Invalid::new(format!("This package has more items than folio imports at once ({MAX_IMPORT}).")));
    }
    let by_id: HashMap<&str, &CfItem> = package.items.iter().map(|i| (i.identifier.as_str(), i)).collect();
    let parent: HashMap<&str, &str> = package
        .associations
        .iter()
        .filter(|a| a.association_type == "isChildOf")
        .map(|a| (a.origin.identifier.as_str(), a.destination.identifier.as_str()))
        .collect();
    let heading = |item: &CfItem| {
        let statement = item.abbreviated_statement.as_deref().filter(|s| !s.trim().is_empty());
        let statement = statement.unwrap_or(&item.full_statement);
        match item.human_coding_scheme.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => format!("{code} {statement}"),
            None => statement.to_string(),
        }
    };
    let parents: HashSet<&str> = parent.values().copied().filter(|p| by_id.contains_key(p)).collect();
    let mut skills = Vec::new();
    let mut seen = HashSet::new();
    for item in package.items.iter().filter(|i| !parents.contains(i.identifier.as_str())) {
        let Some(code) = item.human_coding_scheme.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
            continue;
        };
        let group = parent.get(item.identifier.as_str()).and_then(|p| by_id.get(p)).map(|p| heading(p));
        let input = SkillInput {
            case_id: Some(item.identifier.clone()),
            code: code.to_string(),
            name: item.full_statement.clone(),
            group: group.map(|g| g.chars().take(MAX_GROUP).collect()),
        };
        let input = clean_input(SkillInput { name: input.name.chars().take(MAX_NAME).collect(), ..input })
            .map_err(|e| Invalid::new(format!("The item {}: {}", item.identifier, e.0)))?;
        if !seen.insert(input.code.to_lowercase()) {
            return Err(Invalid::new(format!("Two items of this package have the code \"{}\".", input.code)));
        }
        skills.push(input);
    }
    if skills.is_empty() {
        return Err(Invalid::new(format!(
            "\"{}\" has no items with a code (humanCodingScheme) to import as skills.",
            package.document.title
        )));
    }
    if skills.len() > MAX_IMPORT {
        return Err(Invalid::new(format!("This package has more skills than folio imports at once ({MAX_IMPORT}).")));
    }
    Ok(skills)
}

/// One skill rated at one level (1 is the lowest level of the school's scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SkillLevel {
    pub skill_id: SkillId,
    pub level: u8,
}

/// A rating as kept: one rater's level for one skill of one version of a piece of work,
/// last writer wins per (artifact, version, skill, rater).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub artifact: ArtifactId,
    pub version: VersionId,
    pub skill: SkillId,
    pub rater: UserId,
    pub level: u8,
    /// The student rating their own work.
    pub self_assessment: bool,
    pub clock: Hlc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_depend_on_school_and_key_only() {
        let school = SchoolId::new();
        assert_eq!(derived_id(school, &code_key("Fr.1")), derived_id(school, &code_key("fr.1")));
        assert_ne!(derived_id(school, &code_key("Fr.1")), derived_id(SchoolId::new(), &code_key("Fr.1")));
        assert_ne!(derived_id(school, &code_key("a")), derived_id(school, &case_key("a")));
    }

    #[test]
    fn the_csv_reports_every_bad_line() {
        let ok = parse_csv("code,name,group\nFR.1,Compare fractions,Fractions\ncollab,Collaboration,\n").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].group.as_deref(), Some("Fractions"));
        assert_eq!(ok[1].group, None);
        let errors = parse_csv("a,b\n,no code\na,again\nx,y,z,w\n").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3, 4]);
    }

    #[test]
    fn levels_are_checked() {
        assert!(clean_levels(&["one".into()]).is_err());
        assert!(clean_levels(&["a".into(), "A".into()]).is_err());
        assert_eq!(clean_levels(&[" Low ".into(), "High".into()]).unwrap(), vec!["Low", "High"]);
        assert_eq!(levels_or_default(&None).len(), 4);
    }
}
