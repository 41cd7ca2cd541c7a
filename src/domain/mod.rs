//! The school's vocabulary: ids, people, classes, the operations that change them, and the
//! rules about who may do what. Nothing here does I/O, so every rule can be tested on its own
//! and the store, the HTTP layer and (later) sync all share one meaning for each word.

pub mod hlc;
pub mod ids;
pub mod ops;
pub mod pictures;
pub mod policy;
pub mod roster;
pub mod school;

pub use hlc::Hlc;
pub use ids::{ClassId, ReplicaId, SchoolId, UserId};
pub use ops::{Change, Op, OpId, Scope};
pub use school::{Class, Membership, Role, School, User};

/// A value a person typed that folio cannot accept, with a message that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}
