//! Schools, people and classes as folio keeps them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::{ClassId, Hlc, Invalid, SchoolId, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Teacher,
    Student,
    Family,
    /// A principal or coordinator: reads every class's reports and the work shared with a
    /// class or with families in any class of the school, and changes nothing in classes.
    /// A school-wide account like an administrator's, without an administrator's powers.
    Leader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
            Role::Student => "student",
            Role::Family => "family",
            Role::Leader => "leader",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Teacher => "Teacher",
            Role::Student => "Student",
            Role::Family => "Family",
            Role::Leader => "School leader",
        }
    }
    pub const ALL: [Role; 5] = [Role::Admin, Role::Teacher, Role::Student, Role::Family, Role::Leader];
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" | "administrator" => Ok(Role::Admin),
            "teacher" => Ok(Role::Teacher),
            "student" => Ok(Role::Student),
            "family" | "parent" | "guardian" => Ok(Role::Family),
            "leader" | "principal" | "coordinator" => Ok(Role::Leader),
            other => {
                Err(Invalid::new(format!("\"{other}\" is not a role: use admin, teacher, student, family or leader")))
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    /// The skills work can be tagged with (standards, competences), set by the school.
    /// Kept only as older folios wrote it; the skills are in their own table now.
    #[serde(default)]
    pub skills: Vec<String>,
    /// The names of the levels work is rated at, lowest first (`None`: the default scale,
    /// `skills::DEFAULT_LEVELS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
    /// The language search stems words in ("bridges" finds "bridge").
    #[serde(default)]
    pub search_language: Language,
    /// The language pages are shown in when nothing closer chose one (`i18n`), by code.
    #[serde(default)]
    pub default_language: Option<String>,
    #[serde(default)]
    pub field_clock: BTreeMap<String, Hlc>,
}

/// A language folio's search understands the word endings of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    English,
    Spanish,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::Spanish];

    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Spanish => "es",
        }
    }

    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The name of the language in itself, for the settings page.
    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Spanish => "Español",
        }
    }
}

/// A person. Credentials live here as hashes so that they travel with the school's data and
/// a student can sign in on any box that holds their school.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub school: SchoolId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub disabled: bool,
    /// The id this person has in the school's information system (OneRoster `sourcedId`).
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub pictures_hash: Option<String>,
    /// BLAKE3 of the secret on the person's current QR sign-in card, hex.
    #[serde(default)]
    pub qr_token_hash: Option<String>,
    /// The language this person chose for pages and messages (a code of `i18n::LANGUAGES`);
    /// none: their device's or their school's.
    #[serde(default)]
    pub language: Option<String>,
    /// For last-writer-wins per field: the timestamp of the write each field holds.
    #[serde(default)]
    pub field_clock: BTreeMap<String, Hlc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: ClassId,
    pub school: SchoolId,
    pub name: String,
    pub join_code: String,
    #[serde(default)]
    pub external_id: Option<String>,
    /// New work and classmates' comments wait for a teacher before classmates or families
    /// see them. On by default: the safe choice for young classes.
    #[serde(default = "yes")]
    pub require_approval: bool,
    /// Classmates may comment on work they can see.
    #[serde(default = "yes")]
    pub comments_allowed: bool,
    /// Families see their child's work shared with them (once approved). Off hides all of
    /// the class's work from families at once.
    #[serde(default = "yes")]
    pub family_sharing: bool,
    /// Family members' comments wait for a teacher before the child (or anyone else) sees
    /// them.
    #[serde(default = "yes")]
    pub hold_family_comments: bool,
    /// Families see the teachers' ratings of their child's work (and the child's own). Off
    /// by default: ratings are for the teacher and the student.
    #[serde(default)]
    pub family_sees_ratings: bool,
    #[serde(default)]
    pub field_clock: BTreeMap<String, Hlc>,
}

fn yes() -> bool {
    true
}

/// A person's place in a class. Kept (not deleted) when they leave, so that a remove and a
/// concurrent re-add from another box resolve the same way everywhere: add wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub role: Role,
    pub added: Hlc,
    #[serde(default)]
    pub removed: Option<Hlc>,
}

impl Membership {
    pub fn is_present(&self) -> bool {
        match self.removed {
            None => true,
            Some(removed) => self.added >= removed,
        }
    }
}

pub const MAX_NAME_CHARS: usize = 100;

/// Usernames are what people type on a tablet keyboard: short, lowercase, no spaces.
pub fn normalize_username(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err(Invalid::new("Enter a username."));
    }
    if name.chars().count() > 64 {
        return Err(Invalid::new("A username can have at most 64 characters."));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(Invalid::new("A username may use letters, digits and . _ - @ only (no spaces)."));
    }
    Ok(name)
}

/// Display names and class names: anything printable, trimmed, not too long.
pub fn clean_name(raw: &str, what: &str) -> Result<String, Invalid> {
    let name: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Invalid::new(format!("Enter a {what}.")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Invalid::new(format!("A {what} can have at most {MAX_NAME_CHARS} characters.")));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new(format!("The {what} contains a character that cannot be shown.")));
    }
    Ok(name)
}

pub const MIN_PASSWORD_CHARS: usize = 8;

pub fn check_password(password: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Invalid::new(format!("A password needs at least {MIN_PASSWORD_CHARS} characters.")));
    }
    if n > 256 {
        return Err(Invalid::new("A password can have at most 256 characters."));
    }
    Ok(())
}

/// Join codes are read aloud and typed by children: six characters from an alphabet with no
/// look-alikes (no 0/O, 1/I/L).
pub const JOIN_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const JOIN_CODE_LEN: usize = 6;

pub fn normalize_join_code(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_refuse_spaces() {
        assert_eq!(normalize_username("  Ana.P ").unwrap(), "ana.p");
        assert!(normalize_username("ana p").is_err());
        assert!(normalize_username("").is_err());
        assert!(normalize_username("../etc").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Ana   María ", "name").unwrap(), "Ana María");
        assert!(clean_name(&"x".repeat(101), "name").is_err());
        assert!(clean_name("a\u{7}b", "name").is_err());
    }

    #[test]
    fn membership_add_wins_over_a_concurrent_remove() {
        let r = super::super::ReplicaId::random();
        let t = |ms| Hlc { ms, counter: 0, replica: r };
        let mut m = Membership { role: Role::Student, added: t(5), removed: Some(t(5)) };
        assert!(m.is_present());
        m.removed = Some(t(6));
        assert!(!m.is_present());
    }
}
