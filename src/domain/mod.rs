//! The school's vocabulary: ids, people, classes, the operations that change them, and the
//! rules about who may do what. Nothing here does I/O, so every rule can be tested on its own
//! and the store, the HTTP layer and (later) sync all share one meaning for each word.

pub mod audience;
pub mod calendar;
pub mod family;
pub mod hlc;
pub mod ids;
pub mod markup;
pub mod ops;
pub mod partition;
pub mod peer;
pub mod pictures;
pub mod policy;
pub mod roster;
pub mod school;
pub mod skills;
pub mod summary;
pub mod upload;
pub mod weekly;
pub mod words;
pub mod work;

pub use hlc::Hlc;
pub use ids::{ActivityId, ArtifactId, ClassId, CommentId, FileId, ReplicaId, SchoolId, SkillId, UserId, VersionId};
pub use ops::{Change, Op, OpId, Scope};
pub use school::{Class, Language, Membership, Role, School, User};
pub use work::{Activity, Artifact, Comment, CommentKind, FileRef, Version, Visibility};

/// A value a person typed that folio cannot accept, with a message that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}
