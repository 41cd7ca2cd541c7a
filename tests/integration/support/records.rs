//! [`artifact`]: a piece of work as the store records it, for tests that write records
//! straight into a store (sync, bundles, peer files) instead of going through the API.

use folio::domain::{Artifact, ArtifactId, ClassId, FileRef, SchoolId, UserId, Version, VersionId, Visibility};

/// Private work by `owner` (in `class`, if given) with one version holding `files`, made at
/// 1 ms and not yet reviewed. A test changes what it needs with struct update syntax:
/// `Artifact { visibility: Visibility::Class, ..artifact(...) }`.
pub fn artifact(school: SchoolId, owner: UserId, class: Option<ClassId>, title: &str, files: Vec<FileRef>) -> Artifact {
    Artifact {
        id: ArtifactId::new(),
        school,
        owners: vec![owner],
        class,
        activity: None,
        title: title.into(),
        reflection: String::new(),
        tags: Default::default(),
        skills: Default::default(),
        visibility: Visibility::Private,
        kind: "text".into(),
        approved: false,
        reviewed: false,
        versions: vec![Version { id: VersionId::new(), note: String::new(), files, author: owner, created_ms: 1 }],
        created_ms: 1,
        updated_ms: 1,
        from_home: false,
        deleted: false,
        reflection_conflicts: Vec::new(),
        field_clock: Default::default(),
        scope: None,
    }
}
