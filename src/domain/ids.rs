//! Identifiers. Every entity gets a UUIDv7 made by whichever box or device creates it, so ids
//! made offline on different machines never collide and still sort by creation time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
            /// The 16 bytes used as a key in the store.
            pub fn bytes(&self) -> [u8; 16] {
                *self.0.as_bytes()
            }
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(Uuid::from_bytes(bytes))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

entity_id!(
    /// A school. One box may hold several (a district box); every record names its school.
    SchoolId
);
entity_id!(
    /// A person of any role.
    UserId
);
entity_id!(
    /// A class (a teaching group with a roster).
    ClassId
);

entity_id!(
    /// A piece of student work.
    ArtifactId
);
entity_id!(
    /// One version of an artifact (its files and a note on what changed).
    VersionId
);
entity_id!(
    /// One uploaded file, as it appears in a version, an activity or a comment.
    FileId
);
entity_id!(
    /// A comment or a teacher's feedback.
    CommentId
);
entity_id!(
    /// A task a teacher posts to a class.
    ActivityId
);
entity_id!(
    /// A skill of a school's list (a standard, a competence). Skills imported from a file
    /// get ids derived from what identifies them there (`domain::skills::derived_id`), so two
    /// boxes importing the same package make the same skills.
    SkillId
);

/// Reads an id that a client made for something it creates (`field` names it in the
/// message). The offline outbox makes its ids on the device, so a piece of work sent twice
/// arrives once. Accepted: UUID version 7 (time-ordered, as folio makes them) or 4 (random,
/// `crypto.randomUUID()`), in the RFC 9562 variant; anything else is refused, so a typo or a
/// nil id never stands for somebody's work.
pub fn client_made(raw: &str, field: &str) -> Result<Uuid, super::Invalid> {
    let refused = || super::Invalid::new(format!("\"{field}\" must be a UUID (version 7 or 4) made by the device."));
    let id = Uuid::parse_str(raw.trim()).map_err(|_| refused())?;
    let variant_ok = id.get_variant() == uuid::Variant::RFC4122;
    match id.get_version_num() {
        4 | 7 if variant_ok => Ok(id),
        _ => Err(refused()),
    }
}

/// The identity of one copy of the database: the origin of the operations it writes.
/// Made at random on first start, and made anew when the data directory turns up on another
/// machine, so two boxes never write the same (replica, sequence) pair.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ReplicaId(pub Uuid);

impl ReplicaId {
    pub fn random() -> Self {
        ReplicaId(Uuid::new_v4())
    }
    pub fn bytes(&self) -> [u8; 16] {
        *self.0.as_bytes()
    }
}

impl fmt::Debug for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplicaId({})", self.0)
    }
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_made_ids_are_uuids_of_version_7_or_4() {
        let v7 = UserId::new().to_string();
        assert!(client_made(&v7, "id").is_ok());
        assert!(client_made(&Uuid::new_v4().to_string(), "id").is_ok());
        for bad in
            ["", "42", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"]
        {
            let err = client_made(bad, "id").unwrap_err();
            assert!(err.0.contains("\"id\" must be a UUID"), "{bad}: {err:?}");
        }
    }

    #[test]
    fn ids_sort_by_creation_and_round_trip() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b, "UUIDv7 ids made later sort later");
        assert_eq!(UserId::from_bytes(a.bytes()), a);
        assert_eq!(a.to_string().parse::<UserId>().unwrap(), a);
    }
}
