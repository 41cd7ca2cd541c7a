//! Student work: artifacts with their versions and files, reflections, tags and skills,
//! comments and feedback, and the activities teachers post.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::{ActivityId, ArtifactId, ClassId, CommentId, FileId, Hlc, Invalid, SchoolId, SkillId, UserId, VersionId};

/// Who may see an artifact, in widening circles. The student and the teachers of the
/// student's classes always can.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// The student and their teachers.
    #[default]
    Private,
    /// Classmates in the artifact's class too (once approved, if the class asks for that).
    Class,
    /// The student's linked family accounts too (and classmates).
    Family,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Class => "class",
            Visibility::Family => "family",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Visibility::Private => "Just me and my teachers",
            Visibility::Class => "My class",
            Visibility::Family => "My class and my family",
        }
    }
    pub const ALL: [Visibility; 3] = [Visibility::Private, Visibility::Class, Visibility::Family];
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "private" => Ok(Visibility::Private),
            "class" => Ok(Visibility::Class),
            "family" => Ok(Visibility::Family),
            other => Err(Invalid::new(format!("\"{other}\" is not a visibility: use private, class or family"))),
        }
    }
}

/// Whether folio makes a thumbnail for a file of this type: the picture formats its image
/// decoder is built with (JPEG, PNG, GIF, WebP), whatever the case or parameters of the type.
/// The one rule for queuing a thumbnail (when work first uses a file, and when a file arrives
/// from another box), for offering one in pages and the API, and for serving it.
pub fn thumbnailable(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(essence.as_str(), "image/jpeg" | "image/png" | "image/gif" | "image/webp")
}

/// A stored file as a version, activity or comment refers to it. The name is for display
/// only; the bytes live in the blob store under `hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// BLAKE3 of the stored bytes, hex.
    pub hash: String,
}

impl FileRef {
    /// Whether `hash` has the shape of a stored file's name (64 hex digits of BLAKE3): a
    /// received operation may name anything, and only such a name can ever arrive as a file.
    pub fn names_a_blob(&self) -> bool {
        self.hash.len() == 64 && self.hash.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub id: VersionId,
    pub note: String,
    pub files: Vec<FileRef>,
    pub author: UserId,
    pub created_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub id: ArtifactId,
    pub school: SchoolId,
    /// The students whose work this is (several for group work).
    pub owners: Vec<UserId>,
    pub class: Option<ClassId>,
    pub activity: Option<ActivityId>,
    pub title: String,
    pub reflection: String,
    pub tags: BTreeSet<String>,
    pub skills: BTreeSet<String>,
    pub visibility: Visibility,
    /// Kind of the work, from its files ("image", "video", ...).
    pub kind: String,
    /// A teacher approved it for sharing with classmates and families.
    #[serde(default)]
    pub approved: bool,
    /// A teacher has looked at it (approved it or given feedback).
    #[serde(default)]
    pub reviewed: bool,
    /// Versions in order; never rewritten, only appended.
    pub versions: Vec<Version>,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// Added by a family member from home (the child owns it; it waits for the teacher).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_home: bool,
    #[serde(default)]
    pub deleted: bool,
    /// Reflections that lost a concurrent edit on another box: kept and shown to the author.
    /// Derived by the store from its reflection edits (oldest first), so every box lists the
    /// same ones whatever order the edits arrived in.
    #[serde(default)]
    pub reflection_conflicts: Vec<String>,
    #[serde(default)]
    pub field_clock: BTreeMap<String, Hlc>,
    /// The partition its operations travel in, fixed when it is made (see
    /// [`Artifact::partition`]); absent in work made before sync existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::Scope>,
}

impl Artifact {
    /// Work as it is first saved: `author` made its one version, holding `files`, at `now`.
    /// Private, neither reviewed nor approved, in no class and with no title yet: the caller
    /// sets what else the work has with struct update syntax.
    pub fn first_saved(
        id: ArtifactId,
        school: SchoolId,
        owners: Vec<UserId>,
        files: Vec<FileRef>,
        author: UserId,
        now: u64,
    ) -> Artifact {
        Artifact {
            id,
            school,
            owners,
            class: None,
            activity: None,
            title: String::new(),
            reflection: String::new(),
            tags: Default::default(),
            skills: Default::default(),
            visibility: Visibility::Private,
            kind: String::new(),
            approved: false,
            reviewed: false,
            versions: vec![Version { id: VersionId::new(), note: String::new(), files, author, created_ms: now }],
            created_ms: now,
            updated_ms: now,
            from_home: false,
            deleted: false,
            reflection_conflicts: Vec::new(),
            field_clock: Default::default(),
            scope: None,
        }
    }

    /// The partition this work's operations belong in: its class if it was posted in one,
    /// else its first owner's own partition. Fixed when it is made, so that an owner erased
    /// later does not move it.
    pub fn partition(&self) -> super::Scope {
        self.scope.unwrap_or_else(|| self.partition_when_made())
    }

    /// The partition work belongs in by its class and owners, whatever its `scope` field
    /// says: what an `ArtifactCreated` must be filed under.
    pub fn partition_when_made(&self) -> super::Scope {
        match (self.class, self.owners.first()) {
            (Some(class), _) => super::Scope::Class(class),
            (None, Some(owner)) => super::Scope::Person(*owner),
            (None, None) => super::Scope::School,
        }
    }

    pub fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }
    pub fn files(&self) -> impl Iterator<Item = &FileRef> {
        self.versions.iter().flat_map(|v| v.files.iter())
    }
    pub fn file(&self, id: FileId) -> Option<&FileRef> {
        self.files().find(|f| f.id == id)
    }
    pub fn is_owner(&self, user: UserId) -> bool {
        self.owners.contains(&user)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    /// A teacher's feedback: for the student, their teachers and their family.
    Feedback,
    /// A classmate's (or the student's own) comment: for everyone who sees the work.
    Comment,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub artifact: ArtifactId,
    pub version: Option<VersionId>,
    pub author: UserId,
    pub kind: CommentKind,
    pub body: String,
    /// A voice recording (teacher feedback).
    pub audio: Option<FileRef>,
    /// Held comments wait for a teacher; feedback and teachers' comments never wait.
    pub approved: bool,
    pub created_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub school: SchoolId,
    pub class: ClassId,
    pub title: String,
    pub prompt: String,
    /// A date (YYYY-MM-DD) by which work is due.
    pub due: Option<String>,
    pub files: Vec<FileRef>,
    pub author: UserId,
    pub created_ms: u64,
    /// The school's skills the activity targets: work answering it starts with them ticked.
    #[serde(default)]
    pub skills: Vec<SkillId>,
    /// When each field was last edited (`Change::ActivityEdited`, last writer wins).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_clock: BTreeMap<String, Hlc>,
}

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_TAGS: usize = 20;

/// Free text (reflections, notes, comments, prompts): kept as typed, bounded, with control
/// characters other than line breaks and tabs removed.
pub fn clean_text(raw: &str, what: &str) -> Result<String, Invalid> {
    let text: String =
        raw.replace("\r\n", "\n").chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let text = text.trim().to_string();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Invalid::new(format!("The {what} is too long: at most {MAX_TEXT_CHARS} characters.")));
    }
    Ok(text)
}

pub fn clean_title(raw: &str) -> Result<String, Invalid> {
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Err(Invalid::new("Give your work a title."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Invalid::new(format!("A title can have at most {MAX_TITLE_CHARS} characters.")));
    }
    Ok(title)
}

/// Tags and skills from "a, b ,c": trimmed, lowercased for tags, deduplicated, bounded.
pub fn parse_labels(raw: &str, lowercase: bool) -> Result<BTreeSet<String>, Invalid> {
    let labels: BTreeSet<String> = raw
        .split(',')
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|t| if lowercase { t.to_lowercase() } else { t })
        .filter(|t| !t.is_empty())
        .collect();
    if labels.len() > MAX_TAGS {
        return Err(Invalid::new(format!("Use at most {MAX_TAGS} tags.")));
    }
    if let Some(long) = labels.iter().find(|t| t.chars().count() > 50) {
        return Err(Invalid::new(format!("The tag \"{long}\" is too long: at most 50 characters.")));
    }
    Ok(labels)
}

/// A due date as people type it: YYYY-MM-DD.
pub fn parse_due(raw: &str) -> Result<Option<String>, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let ok = super::calendar::start_of_day(raw).is_some();
    if ok {
        Ok(Some(raw.to_string()))
    } else {
        Err(Invalid::new("Write the due date as YYYY-MM-DD, for example 2026-12-01."))
    }
}

/// A reflection split into paragraphs of text and links, for safe rendering: nothing the
/// student typed ever becomes markup; only http(s) URLs become links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Link(String),
}

pub fn paragraphs(text: &str) -> Vec<Vec<Inline>> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut out = Vec::new();
            let mut text = String::new();
            for (i, word) in p.split(' ').enumerate() {
                let sep = if i == 0 { "" } else { " " };
                let is_link = (word.starts_with("http://") || word.starts_with("https://"))
                    && word.len() > 8
                    && !word.contains(['"', '<', '>', '\'']);
                if is_link {
                    text.push_str(sep);
                    if !text.is_empty() {
                        out.push(Inline::Text(std::mem::take(&mut text)));
                    }
                    out.push(Inline::Link(word.to_string()));
                } else {
                    text.push_str(sep);
                    text.push_str(word);
                }
            }
            if !text.is_empty() {
                out.push(Inline::Text(text));
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflections_become_paragraphs_with_only_http_links() {
        let p = paragraphs("I made a bridge.\n\nSee https://example.org/x and <script>alert(1)</script>\n\n\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1][0], Inline::Text("See ".into()));
        assert_eq!(p[1][1], Inline::Link("https://example.org/x".into()));
        assert_eq!(p[1][2], Inline::Text(" and <script>alert(1)</script>".into()));
        assert!(paragraphs("javascript:alert(1)").iter().flatten().all(|i| matches!(i, Inline::Text(_))));
    }

    #[test]
    fn labels_are_trimmed_deduplicated_and_bounded() {
        let tags = parse_labels(" Bridges, bridges ,  science fair,,", true).unwrap();
        assert_eq!(tags.into_iter().collect::<Vec<_>>(), vec!["bridges", "science fair"]);
        assert!(parse_labels(&(0..25).map(|i| i.to_string()).collect::<Vec<_>>().join(","), true).is_err());
    }

    #[test]
    fn due_dates_and_titles_are_checked() {
        assert_eq!(parse_due("2026-12-01").unwrap(), Some("2026-12-01".into()));
        assert_eq!(parse_due("").unwrap(), None);
        assert!(parse_due("1/12/2026").is_err());
        assert!(parse_due("2026-13-01").is_err());
        assert!(clean_title("   ").is_err());
        assert_eq!(clean_title(" My   bridge ").unwrap(), "My bridge");
        assert_eq!(clean_text("a\u{0}b\r\nc", "note").unwrap(), "ab\nc");
    }
}
