//! Operations: every change to shared data, as it is written to the op log and
//! replayed on other boxes. The store applies an `Op` the same way whether it was made here
//! or arrived from a peer, so a change made through the API and the same change replayed by
//! sync always produce the same rows.

use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use super::work::{Activity, Artifact, Comment, Version, Visibility};
use super::{ArtifactId, ClassId, CommentId, Hlc, ReplicaId, Role, SchoolId, UserId};

/// Where an operation came from: the replica that made it and its sequence number there.
/// Sequence numbers start at 1 and grow by one per operation on each replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId {
    pub replica: ReplicaId,
    pub seq: u64,
}

/// Which partition of a school an operation belongs to, so a peer can be granted part of a
/// school and receive nothing outside it. `domain::partition` says which partition each kind
/// of change belongs in; `store::grant` which partitions a peer may receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Scope {
    /// What every box holding the school needs: the school itself, its settings, and the
    /// erasure markers (so an erasure reaches every box that may hold the person's data).
    School,
    /// A class: the class, its memberships, settings and activities, and the work posted in
    /// it (with its versions, edits, reviews and comments).
    Class(ClassId),
    /// A person: their account and sign-in secrets, their family links, and work that belongs
    /// to no class. Called `student` before every person had one.
    #[serde(alias = "student")]
    Person(UserId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub hlc: Hlc,
    pub school: SchoolId,
    pub scope: Scope,
    /// Who made the change; `None` for changes folio makes itself (first-run setup).
    pub author: Option<UserId>,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    SchoolCreated {
        name: String,
    },
    UserCreated {
        user: UserId,
        username: String,
        display_name: String,
        role: Role,
        external_id: Option<String>,
    },
    UserRenamed {
        user: UserId,
        display_name: String,
    },
    UserDisabled {
        user: UserId,
        disabled: bool,
    },
    PasswordSet {
        user: UserId,
        hash: String,
    },
    PicturesSet {
        user: UserId,
        hash: String,
    },
    /// A new QR card; an empty `token_hash` revokes the card without a new one (a new
    /// password or new pictures do, so a card planted before them stops working).
    QrCardIssued {
        user: UserId,
        token_hash: String,
    },
    ClassCreated {
        class: ClassId,
        name: String,
        join_code: String,
        external_id: Option<String>,
    },
    MemberAdded {
        class: ClassId,
        user: UserId,
        role: Role,
    },
    MemberRemoved {
        class: ClassId,
        user: UserId,
    },
    ClassSettingsChanged {
        class: ClassId,
        require_approval: Option<bool>,
        comments_allowed: Option<bool>,
        /// Families of the class's students see their shared work (off: nothing at all).
        /// Absent in changes made before families had settings; left out when unchanged, so
        /// those changes encode as they always did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        family_sharing: Option<bool>,
        /// Family members' comments wait for a teacher.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_family_comments: Option<bool>,
        /// Families see teachers' ratings of their child's work (off by default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        family_sees_ratings: Option<bool>,
    },
    /// The skills (standards, competences) this school records work against.
    /// The language whose word endings search understands (stemming), for the whole school.
    SearchLanguageSet {
        language: super::school::Language,
    },
    /// The flat list of skill codes folio kept before skills had names and groups. No
    /// longer made; applied from older logs as skills named by their codes.
    SkillsSet {
        skills: Vec<String>,
    },
    /// A skill of the school's list made or changed: the whole record, last writer wins.
    SkillSaved {
        skill: super::skills::Skill,
    },
    /// The school's scale of levels, lowest first (`None`: the default scale).
    LevelsSet {
        levels: Option<Vec<String>>,
    },
    /// The author's ratings of skills in one version of a piece of work: a teacher's, or the
    /// student's own (`self_assessment`). Each (version, skill, rater) is last writer wins.
    ArtifactRated {
        artifact: ArtifactId,
        version: super::VersionId,
        ratings: Vec<super::skills::SkillLevel>,
        #[serde(default)]
        self_assessment: bool,
    },
    /// The language pages are shown in for the school, when nothing closer chose one.
    SchoolLanguageSet {
        language: Option<String>,
    },
    /// The language a person chose for pages and messages; none: back to the default.
    UserLanguageSet {
        user: UserId,
        language: Option<String>,
    },
    FamilyLinked {
        family: UserId,
        student: UserId,
    },
    FamilyUnlinked {
        family: UserId,
        student: UserId,
    },
    /// A new artifact with its first version (boxed: it is much larger than other changes).
    ArtifactCreated {
        artifact: Box<Artifact>,
    },
    /// Edits of an artifact's fields; each present field is last-writer-wins.
    ArtifactEdited {
        artifact: ArtifactId,
        title: Option<String>,
        reflection: Option<String>,
        tags: Option<BTreeSet<String>>,
        skills: Option<BTreeSet<String>>,
        visibility: Option<Visibility>,
        /// The clock of the reflection the author was looking at when they wrote this one
        /// (`Hlc::ZERO` if it had never been edited). Filled in by `Tx::record` where the edit
        /// is made; it is what tells a concurrent edit (kept when it loses) from an edit
        /// that was simply replaced later. Absent in edits made before sync existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reflection_base: Option<Hlc>,
        /// The edit changes what others see (words, tags, a wider audience), so approval is
        /// withdrawn. Decided by `Tx::record` where the edit is made, against what was there,
        /// so every box withdraws the same approvals whatever order edits arrive in.
        #[serde(default)]
        needs_review: bool,
    },
    VersionAdded {
        artifact: ArtifactId,
        version: Version,
    },
    /// A teacher looked at the work, and perhaps approved it for sharing.
    ArtifactReviewed {
        artifact: ArtifactId,
        approved: Option<bool>,
    },
    /// A tombstone: the artifact's content is gone everywhere; its id stays so late
    /// operations for it are ignored.
    ArtifactDeleted {
        artifact: ArtifactId,
    },
    CommentAdded {
        comment: Comment,
    },
    CommentApproved {
        artifact: ArtifactId,
        comment: CommentId,
    },
    ActivityCreated {
        activity: Activity,
    },
    /// A teacher of the activity's class changed what it asks: each field given is set, last
    /// writer wins per field. `class` is the activity's (its partition); `due` empty removes
    /// the date.
    ActivityEdited {
        activity: super::ActivityId,
        class: super::ClassId,
        title: Option<String>,
        prompt: Option<String>,
        due: Option<String>,
        skills: Option<Vec<super::SkillId>>,
    },
    /// A person erased for a privacy request: their work, comments, memberships and sign-in
    /// are removed, and a marker refuses any later operation about them.
    UserErased {
        user: UserId,
    },
    /// An operation whose content was removed by an erasure. It keeps its place (id, clock,
    /// scope) so replicas' positions still line up, and carries nothing, except, for the
    /// creation of work whose every owner was erased, that work's random id: a box that
    /// receives only the emptied entry still learns that later operations about that work
    /// (arriving from a box that has not heard of the erasure yet) must be refused.
    Redacted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        erased_artifact: Option<ArtifactId>,
    },
}

impl Change {
    /// An emptied operation that carries nothing.
    pub const REDACTED: Change = Change::Redacted { erased_artifact: None };

    /// The kind of change, as it is named on the wire (`type`), for messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::SchoolCreated { .. } => "school_created",
            Change::UserCreated { .. } => "user_created",
            Change::UserRenamed { .. } => "user_renamed",
            Change::UserDisabled { .. } => "user_disabled",
            Change::PasswordSet { .. } => "password_set",
            Change::PicturesSet { .. } => "pictures_set",
            Change::QrCardIssued { .. } => "qr_card_issued",
            Change::ClassCreated { .. } => "class_created",
            Change::MemberAdded { .. } => "member_added",
            Change::MemberRemoved { .. } => "member_removed",
            Change::ClassSettingsChanged { .. } => "class_settings_changed",
            Change::SearchLanguageSet { .. } => "search_language_set",
            Change::SkillsSet { .. } => "skills_set",
            Change::SkillSaved { .. } => "skill_saved",
            Change::LevelsSet { .. } => "levels_set",
            Change::ArtifactRated { .. } => "artifact_rated",
            Change::SchoolLanguageSet { .. } => "school_language_set",
            Change::UserLanguageSet { .. } => "user_language_set",
            Change::FamilyLinked { .. } => "family_linked",
            Change::FamilyUnlinked { .. } => "family_unlinked",
            Change::ArtifactCreated { .. } => "artifact_created",
            Change::ArtifactEdited { .. } => "artifact_edited",
            Change::VersionAdded { .. } => "version_added",
            Change::ArtifactReviewed { .. } => "artifact_reviewed",
            Change::ArtifactDeleted { .. } => "artifact_deleted",
            Change::CommentAdded { .. } => "comment_added",
            Change::CommentApproved { .. } => "comment_approved",
            Change::ActivityCreated { .. } => "activity_created",
            Change::ActivityEdited { .. } => "activity_edited",
            Change::UserErased { .. } => "user_erased",
            Change::Redacted { .. } => "redacted",
        }
    }

    /// The artifact an operation is about, if any.
    pub fn artifact(&self) -> Option<ArtifactId> {
        match self {
            Change::ArtifactCreated { artifact } => Some(artifact.id),
            Change::ArtifactEdited { artifact, .. }
            | Change::VersionAdded { artifact, .. }
            | Change::ArtifactReviewed { artifact, .. }
            | Change::ArtifactRated { artifact, .. }
            | Change::ArtifactDeleted { artifact }
            | Change::CommentApproved { artifact, .. } => Some(*artifact),
            Change::CommentAdded { comment } => Some(comment.artifact),
            _ => None,
        }
    }

    /// The stored files an operation names: what a box that receives it must fetch.
    pub fn files(&self) -> Vec<&super::FileRef> {
        match self {
            Change::ArtifactCreated { artifact } => artifact.files().collect(),
            Change::VersionAdded { version, .. } => version.files.iter().collect(),
            Change::CommentAdded { comment } => comment.audio.iter().collect(),
            Change::ActivityCreated { activity } => activity.files.iter().collect(),
            _ => Vec::new(),
        }
    }
}
