//! Which partition of a school each operation belongs in.
//!
//! Sync grants a peer a school, or some classes of it (`store::grant`), and counts what each
//! box has per partition and origin. That only holds together if every operation's
//! partition follows from what it changes, the same on every box: a box that knows the
//! target can then refuse an operation that claims a partition its target is not in (a peer
//! granted class X sending an edit of class Y's work dressed up as class X).
//!
//! - **School**: the school, its settings (skills, search language) and erasure markers.
//! - **Class(c)**: the class, its memberships, settings and activities, and the work posted
//!   in it with everything that happens to that work.
//! - **Person(p)**: p's account and sign-in secrets, p's family links, and work of p's that
//!   belongs to no class.

use super::{ArtifactId, Change, Scope};

/// The partition an operation must carry, as far as the change itself says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Exactly this partition.
    Is(Scope),
    /// The partition of this artifact (fixed when it was made; see `Artifact::partition`).
    OfArtifact(ArtifactId),
    /// An emptied operation: nothing left to check.
    Unchecked,
}

pub fn rule(change: &Change) -> Rule {
    use Rule::*;
    match change {
        Change::SchoolCreated { .. }
        | Change::SearchLanguageSet { .. }
        | Change::SkillsSet { .. }
        | Change::SkillSaved { .. }
        | Change::LevelsSet { .. }
        | Change::SchoolLanguageSet { .. }
        | Change::UserErased { .. } => Is(Scope::School),
        Change::UserCreated { user, .. }
        | Change::UserRenamed { user, .. }
        | Change::UserDisabled { user, .. }
        | Change::PasswordSet { user, .. }
        | Change::PicturesSet { user, .. }
        | Change::UserLanguageSet { user, .. }
        | Change::QrCardIssued { user, .. } => Is(Scope::Person(*user)),
        Change::FamilyLinked { student, .. } | Change::FamilyUnlinked { student, .. } => Is(Scope::Person(*student)),
        Change::ClassCreated { class, .. }
        | Change::MemberAdded { class, .. }
        | Change::MemberRemoved { class, .. }
        | Change::ClassSettingsChanged { class, .. } => Is(Scope::Class(*class)),
        Change::ActivityCreated { activity } => Is(Scope::Class(activity.class)),
        Change::ActivityEdited { class, .. } => Is(Scope::Class(*class)),
        Change::ArtifactCreated { artifact } => Is(artifact.partition_when_made()),
        Change::ArtifactEdited { artifact, .. }
        | Change::VersionAdded { artifact, .. }
        | Change::ArtifactReviewed { artifact, .. }
        | Change::ArtifactRated { artifact, .. }
        | Change::ArtifactDeleted { artifact }
        | Change::CommentApproved { artifact, .. } => OfArtifact(*artifact),
        Change::CommentAdded { comment } => OfArtifact(comment.artifact),
        Change::Redacted { .. } => Unchecked,
    }
}

/// The partition of a person's own records, whatever their role.
pub fn of_person(user: super::UserId) -> Scope {
    Scope::Person(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    #[test]
    fn operations_written_before_sync_still_read() {
        // Schema 1 called a person's partition "student", and emptied entries carried nothing.
        let user = UserId::new();
        let old: Scope = serde_json::from_str(&format!(r#"{{"kind":"student","id":"{user}"}}"#)).unwrap();
        assert_eq!(old, Scope::Person(user));
        let emptied: Change = serde_json::from_str(r#"{"type":"redacted"}"#).unwrap();
        assert_eq!(emptied, Change::REDACTED);
        assert_eq!(serde_json::to_string(&Change::REDACTED).unwrap(), r#"{"type":"redacted"}"#);
        assert_eq!(rule(&emptied), Rule::Unchecked);
    }
}
