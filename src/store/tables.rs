//! Every redb table folio has, declared once. Names say what maps to what (KEY_TO_VALUE).
//!
//! Keys are fixed-size byte arrays (ids) or tuples of them, so prefix ranges work. Values are
//! encoded by `codec` with a version byte in front, so an old encoding can be migrated forward.
//! Tables marked *local* hold state of this box only (sessions); everything else is derived
//! from the op log and travels with sync.

use redb::{Key, ReadTransaction, ReadableTable, TableDefinition, TableError, TableHandle, Value, WriteTransaction};

use super::StoreError;

/// The version of the table layout and encodings. Bump it when either changes, and teach
/// `Store::open` to migrate from the previous one.
///
/// 2: the sync tables (partition index, positions, waiting operations, reflection edits,
/// erased work), every person in their own partition, artifacts' work in their class's; and
/// `VERSION_ID_TO_ARTIFACT_ID` and `COMMENT_ID_TO_ARTIFACT_ID` (exactly-once sends). A version
/// 1 file is moved forward when opened (`store::migrate`).
///
/// 3: skills in their own table (`SCHOOL_SKILL_TO_SKILL`, filled from the old flat lists when
/// a version 2 file is opened) and ratings (`ARTIFACT_VERSION_SKILL_RATER_TO_RATING`).
///
/// 4: the school report's counts kept by `apply` (`SCHOOL_CLASS_WEEK_TO_COUNTS`,
/// `ARTIFACT_TO_CONTRIBUTION`), filled from the work already there when a version 3 file is
/// opened.
///
/// 5: the class and student reports' rows kept by `apply` too: each artifact's contribution
/// (now for work in no class as well) carries what they need, and the class report's rows
/// (`CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT`, `CLASS_MS_ARTIFACT_TO_TURNAROUND`,
/// `CLASS_ACTIVITY_STUDENT_TO_ANSWERS`, `CLASS_STUDENT_SKILL_HLC_TO_LEVEL`); rebuilt from the
/// work when a version 4 file is opened.
/// 5: work summaries kept by `apply` (`ARTIFACT_TO_SUMMARY`, `OWNER_ARTIFACT_UNREVIEWED`,
/// `CLASS_ARTIFACT_HELD`, see `store::summaries`), filled from the work already there when a
/// version 4 file is opened; and the compact record encoding (`codec`, version 2).
pub const SCHEMA_VERSION: u32 = 5;

/// The oldest schema `Store::open` migrates forward; older files are refused.
pub const OLDEST_MIGRATABLE_SCHEMA: u32 = 1;

pub type IdKey = [u8; 16];
/// A partition of a school (`Scope`) as a key: a kind byte (0 school, 1 class, 2 person) and
/// the class's or person's id (zeros for the school), so a school's partitions sort school
/// first, then classes, then people. See `replication::partition_key`.
pub type PartitionKey = [u8; 17];

/// Box-wide settings: schema version, replica id, clock high-water mark, setup state.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The op log: (replica, sequence) -> encoded `Op`. Append-only.
pub const OPLOG: TableDefinition<(IdKey, u64), &[u8]> = TableDefinition::new("oplog");

pub const SCHOOL_ID_TO_SCHOOL: TableDefinition<IdKey, &[u8]> = TableDefinition::new("school_id_to_school");
pub const USER_ID_TO_USER: TableDefinition<IdKey, &[u8]> = TableDefinition::new("user_id_to_user");
/// (school, lowercase username) -> user id. Usernames are unique within a school.
pub const SCHOOL_USERNAME_TO_USER_ID: TableDefinition<(IdKey, &str), IdKey> =
    TableDefinition::new("school_username_to_user_id");
/// (school, `ExternalKind::key`) -> user or class id: the ids people and classes have in the
/// school's information system (OneRoster `sourcedId`s), which number users and classes
/// separately, so the kind is part of the key.
pub const SCHOOL_EXTERNAL_ID_TO_ID: TableDefinition<(IdKey, &str), IdKey> =
    TableDefinition::new("school_external_id_to_id");
pub const CLASS_ID_TO_CLASS: TableDefinition<IdKey, &[u8]> = TableDefinition::new("class_id_to_class");
/// Join code -> class id; join codes are unique on the box.
pub const JOIN_CODE_TO_CLASS_ID: TableDefinition<&str, IdKey> = TableDefinition::new("join_code_to_class_id");
/// (class, user) -> encoded `Membership`, kept after a removal for add-wins merging.
pub const CLASS_USER_TO_MEMBERSHIP: TableDefinition<(IdKey, IdKey), &[u8]> =
    TableDefinition::new("class_user_to_membership");
/// (user, class) -> role as its name; present members only. The index behind "my classes".
pub const USER_CLASS_TO_ROLE: TableDefinition<(IdKey, IdKey), &str> = TableDefinition::new("user_class_to_role");
/// BLAKE3 of a QR sign-in card's secret -> user id.
pub const QR_TOKEN_HASH_TO_USER_ID: TableDefinition<[u8; 32], IdKey> = TableDefinition::new("qr_token_hash_to_user_id");

/// Artifacts (tombstones stay, emptied, so late operations for them are recognised).
pub const ARTIFACT_ID_TO_ARTIFACT: TableDefinition<IdKey, &[u8]> = TableDefinition::new("artifact_id_to_artifact");
/// (student, artifact) -> 1: a student's portfolio.
pub const OWNER_ARTIFACT: TableDefinition<(IdKey, IdKey), u8> = TableDefinition::new("owner_artifact");
/// (class, artifact) -> 1: work posted in a class (review queue, class feed).
pub const CLASS_ARTIFACT: TableDefinition<(IdKey, IdKey), u8> = TableDefinition::new("class_artifact");
/// (activity, artifact) -> 1: answers to an activity.
pub const ACTIVITY_ARTIFACT: TableDefinition<(IdKey, IdKey), u8> = TableDefinition::new("activity_artifact");
/// (artifact, comment) -> encoded `Comment`.
pub const ARTIFACT_COMMENT_TO_COMMENT: TableDefinition<(IdKey, IdKey), &[u8]> =
    TableDefinition::new("artifact_comment_to_comment");
/// Version id -> the artifact it belongs to. Ids stay taken after a delete, so an id made on
/// a device is answered the same way however late it comes back (exactly-once sends).
pub const VERSION_ID_TO_ARTIFACT_ID: TableDefinition<IdKey, IdKey> = TableDefinition::new("version_id_to_artifact_id");
/// Comment id -> the artifact it is on; kept like `VERSION_ID_TO_ARTIFACT_ID`.
pub const COMMENT_ID_TO_ARTIFACT_ID: TableDefinition<IdKey, IdKey> = TableDefinition::new("comment_id_to_artifact_id");
pub const ACTIVITY_ID_TO_ACTIVITY: TableDefinition<IdKey, &[u8]> = TableDefinition::new("activity_id_to_activity");
/// (class, activity) -> 1.
pub const CLASS_ACTIVITY: TableDefinition<(IdKey, IdKey), u8> = TableDefinition::new("class_activity");
/// (blob hash hex, file id) -> 1: which files use a blob; a blob with no row is garbage.
pub const BLOB_HASH_FILE: TableDefinition<(&str, IdKey), u8> = TableDefinition::new("blob_hash_file");
/// (family account, student) -> encoded `Membership` (add-wins, like class memberships).
pub const FAMILY_STUDENT_TO_LINK: TableDefinition<(IdKey, IdKey), &[u8]> =
    TableDefinition::new("family_student_to_link");
/// (student, family account) -> 1, present links only.
pub const STUDENT_FAMILY: TableDefinition<(IdKey, IdKey), u8> = TableDefinition::new("student_family");
/// Erased people -> encoded HLC of the (earliest) erasure. Operations about them are refused.
pub const ERASED_USER_TO_HLC: TableDefinition<IdKey, &[u8]> = TableDefinition::new("erased_user_to_hlc");
/// Blob hash hex -> content type: images waiting for a thumbnail (a durable to-do list,
/// written in the same transaction as the upload's operation).
pub const THUMBNAIL_TODO: TableDefinition<&str, &str> = TableDefinition::new("thumbnail_todo");
/// *Derived.* Artifact -> ticket: artifacts whose search documents must be rebuilt, written in
/// the same transaction as the change that affects them (a durable to-do list, like
/// `THUMBNAIL_TODO`). The search indexer removes a row once the new documents are committed,
/// and only if its ticket is unchanged, so a change that arrives while indexing is not lost.
pub const SEARCH_TODO: TableDefinition<IdKey, u64> = TableDefinition::new("search_todo");
/// *Local.* (person, artifact) -> when they last opened it (ms): "3 new feedback".
pub const USER_ARTIFACT_SEEN_MS: TableDefinition<(IdKey, IdKey), u64> = TableDefinition::new("user_artifact_seen_ms");

/// (school, partition, origin replica, sequence) -> 1: which entries of the op log belong to
/// which partition, so a peer's missing operations are read by range. Written in the same
/// transaction as the entry itself.
pub const SCHOOL_PARTITION_ORIGIN_SEQ: TableDefinition<(IdKey, PartitionKey, IdKey, u64), u8> =
    TableDefinition::new("school_partition_origin_seq");
/// *Local.* (school, partition, origin replica) -> sequence: this box's position, meaning it
/// holds every operation that origin made in that partition up to that sequence. What a box
/// tells a peer it has; advanced with the page that brings the operations, in one transaction.
pub const SCHOOL_PARTITION_ORIGIN_TO_SEQ: TableDefinition<(IdKey, PartitionKey, IdKey), u64> =
    TableDefinition::new("school_partition_origin_to_seq");
/// *Local, derived.* (id of what an operation changes, origin, sequence) -> 1: operations that
/// arrived before the record they change (an edit before its artifact, from another box);
/// applied from the op log as soon as that record is made.
pub const TARGET_ORIGIN_SEQ_WAITING: TableDefinition<(IdKey, IdKey, u64), u8> =
    TableDefinition::new("target_origin_seq_waiting");
/// (artifact, hlc ms, hlc counter, hlc replica) -> encoded `ReflectionEdit`: the reflection
/// edits no later edit was written on top of. The newest is the reflection; the others are
/// concurrent edits that lost, kept for their author (`Queries::reflection_conflicts`).
pub const ARTIFACT_HLC_TO_REFLECTION_EDIT: TableDefinition<(IdKey, u64, u32, IdKey), &[u8]> =
    TableDefinition::new("artifact_hlc_to_reflection_edit");
/// Artifact -> 1: work whose every owner was erased. Its row is gone; operations about it
/// that arrive later are refused.
pub const ERASED_ARTIFACT: TableDefinition<IdKey, u8> = TableDefinition::new("erased_artifact");

/// (school, skill) -> encoded `skills::Skill`: the school's list of skills, retired ones kept.
pub const SCHOOL_SKILL_TO_SKILL: TableDefinition<(IdKey, IdKey), &[u8]> = TableDefinition::new("school_skill_to_skill");
/// (school, class, Monday 00:00 UTC in ms) -> encoded `domain::weekly::WeekCounts`: the school
/// report's numbers, kept by `apply` (`store::weekly`).
pub const SCHOOL_CLASS_WEEK_TO_COUNTS: TableDefinition<(IdKey, IdKey, u64), &[u8]> =
    TableDefinition::new("school_class_week_to_counts");
/// Artifact -> encoded `domain::weekly::Contribution`: what it adds to those counts and to the
/// class report's rows below now (live work only); the student report reads it whole.
pub const ARTIFACT_TO_CONTRIBUTION: TableDefinition<IdKey, &[u8]> = TableDefinition::new("artifact_to_contribution");
/// (class, student, ms, `weekly::Event`, artifact) -> how many: when the student's work in the
/// class was posted, got a version, got teacher feedback. Kept by `apply` (`store::weekly`),
/// so a class report's window is a range read per student.
pub const CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT: TableDefinition<(IdKey, IdKey, u64, u8, IdKey), u64> =
    TableDefinition::new("class_student_ms_event_artifact_to_count");
/// (class, posted at ms, artifact) -> ms from posting to the first teacher feedback (work with
/// feedback only): the class report's turnaround for work posted in a window.
pub const CLASS_MS_ARTIFACT_TO_TURNAROUND: TableDefinition<(IdKey, u64, IdKey), u64> =
    TableDefinition::new("class_ms_artifact_to_turnaround");
/// (class, activity, student) -> how many pieces of the student's work in the class answer it.
pub const CLASS_ACTIVITY_STUDENT_TO_ANSWERS: TableDefinition<(IdKey, IdKey, IdKey), u64> =
    TableDefinition::new("class_activity_student_to_answers");
/// (class, student, skill, hlc ms, hlc counter, hlc replica) -> level, plus 256 for a
/// self-assessment: every rating of the student's work in the class, oldest first per skill,
/// so the latest is the last row.
pub const CLASS_STUDENT_SKILL_HLC_TO_LEVEL: TableDefinition<(IdKey, IdKey, IdKey, u64, u32, IdKey), u16> =
    TableDefinition::new("class_student_skill_hlc_to_level");
/// (artifact, version, skill, rater) -> encoded `skills::Rating`, last writer wins.
pub const ARTIFACT_VERSION_SKILL_RATER_TO_RATING: TableDefinition<(IdKey, IdKey, IdKey, IdKey), &[u8]> =
    TableDefinition::new("artifact_version_skill_rater_to_rating");

/// Live artifact -> `codec::encode_compact`ed `domain::summary::Summary`: what lists of work
/// show of it, kept by `apply` (`store::summaries`).
pub const ARTIFACT_TO_SUMMARY: TableDefinition<IdKey, &[u8]> = TableDefinition::new("artifact_to_summary");
/// (owner, artifact) -> created ms: live work no teacher has looked at yet (the review queue).
pub const OWNER_ARTIFACT_UNREVIEWED: TableDefinition<(IdKey, IdKey), u64> =
    TableDefinition::new("owner_artifact_unreviewed");
/// (class, artifact) -> how many: live work in the class with comments held for a teacher.
pub const CLASS_ARTIFACT_HELD: TableDefinition<(IdKey, IdKey), u32> = TableDefinition::new("class_artifact_held");

/// *Local.* BLAKE3 of a session id -> encoded `Session`. Only the hash is stored, so a copy
/// of the database does not hold usable sessions.
pub const SESSION_HASH_TO_SESSION: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("session_hash_to_session");

/// *Local.* Upload id -> encoded `store::uploads::Upload`: resumable (tus) uploads of this
/// box, unfinished or finished but not yet used by a piece of work. Their bytes live in
/// `<data>/uploads/` (unfinished) or the blob store (finished). A row is removed in the same
/// transaction as the operation that uses the upload, so it is used at most once.
pub const UPLOAD_ID_TO_UPLOAD: TableDefinition<IdKey, &[u8]> = TableDefinition::new("upload_id_to_upload");
/// *Local.* (blob hash hex, upload id) -> 1: finished uploads holding a blob, which garbage
/// collection leaves alone (like `BLOB_HASH_FILE`) until the upload is used or expires.
pub const BLOB_HASH_UPLOAD: TableDefinition<(&str, IdKey), u8> = TableDefinition::new("blob_hash_upload");

/// *Local.* Box id -> encoded `peers::Peer`: the boxes this box is paired with, pinned by id.
pub const PEER_ID_TO_PEER: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("peer_id_to_peer");
/// *Local.* BLAKE3 of an invitation's one-time secret -> the encoded invitation (what it
/// offers, until when). Removed when used or expired.
pub const INVITE_SECRET_HASH_TO_INVITE: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("invite_secret_hash_to_invite");
/// *Local.* BLAKE3 of a family invitation sheet's code -> the encoded `domain::family::Sheet`.
/// Local because a sheet is redeemed on the box that printed it; the accounts and links it
/// makes are operations. Printing again removes a student's earlier sheets.
pub const FAMILY_CODE_HASH_TO_SHEET: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("family_code_hash_to_sheet");
/// *Local.* (peer, school) -> encoded `sync::Positions`: what the peer last said it holds of
/// the school, so a USB bundle for it carries only what it lacks.
pub const PEER_SCHOOL_TO_POSITIONS: TableDefinition<([u8; 32], IdKey), &[u8]> =
    TableDefinition::new("peer_school_to_positions");
/// *Local.* School -> encoded set of user ids: on a box that joined a grant of some classes
/// of the school, the students the box holding the school last said are in those classes
/// alone (`sync::Page::wholly_inside`): the only ones this box may give new sign-in secrets.
pub const SCHOOL_TO_WHOLLY_INSIDE: TableDefinition<IdKey, &[u8]> = TableDefinition::new("school_to_wholly_inside");

/// *Local, derived.* File id -> encoded `file_index::Holder`: where each file that
/// `BLOB_HASH_FILE` lists belongs (school, partition, artifact, type, size), so a peer's
/// request for a blob is checked against its grant without reading every artifact. Written
/// and removed with the `BLOB_HASH_FILE` row; filled from the artifacts once when a database
/// that predates it is opened (`file_index::backfill`).
pub const FILE_ID_TO_HOLDER: TableDefinition<IdKey, &[u8]> = TableDefinition::new("file_id_to_holder");
/// *Local.* Blob hash hex -> size: files that operations received from other boxes name and
/// this box may not hold yet ("on its way"). Written in the transaction that receives the
/// operation; removed when the blob arrives, or when no file names it any more.
pub const BLOB_HASH_MISSING: TableDefinition<&str, u64> = TableDefinition::new("blob_hash_missing");
/// *Local.* (peer, school) -> encoded `sync::Positions`: up to where this box has made sure
/// the peer holds the files that operations name (pushed them, or heard that it has them),
/// so each sync offers a peer only the files of operations newer than that.
pub const PEER_SCHOOL_TO_FILE_POSITIONS: TableDefinition<([u8; 32], IdKey), &[u8]> =
    TableDefinition::new("peer_school_to_file_positions");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalKind {
    User,
    Class,
}

impl ExternalKind {
    pub fn key(self, external_id: &str) -> String {
        match self {
            ExternalKind::User => format!("user:{external_id}"),
            ExternalKind::Class => format!("class:{external_id}"),
        }
    }
}

/// What a table holds, which decides what each pass over the whole database does with it:
/// the canonical dump compares `Log` and `Shared` tables between replicas, the migration from
/// schema 1 empties and rebuilds `Shared` and `Derived` tables by replaying the log, and a
/// snapshot copies every table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The op log itself: the history every other table is made from.
    Log,
    /// Made by applying the log, and the same on every box granted the same data.
    Shared,
    /// Made by applying the log, but about how this box came by it (positions, operations
    /// waiting for their record, indexes of ids and files).
    Derived,
    /// This box's own state (settings, sessions, uploads, pairings, to-do lists), never
    /// made from the log.
    Local,
}

impl Kind {
    /// Whether replicas that hold the same operations must hold the same rows.
    pub fn converges(self) -> bool {
        matches!(self, Kind::Log | Kind::Shared)
    }

    /// Whether the rows are made from the op log, so replaying it rebuilds them.
    pub fn rebuilt_from_log(self) -> bool {
        matches!(self, Kind::Shared | Kind::Derived)
    }
}

/// A table of whatever key and value types, so that one list can name them all and each
/// pass can do its work on it without knowing the types.
pub trait AnyTable: Sync {
    fn name(&self) -> &str;
    fn kind(&self) -> Kind;
    /// Creates the table if it is not there.
    fn create(&self, txn: &WriteTransaction) -> Result<(), TableError>;
    /// Deletes the table and its rows.
    fn delete(&self, txn: &WriteTransaction) -> Result<(), TableError>;
    /// Copies every row from `source` into the same table in `dest`; returns how many.
    fn copy(&self, source: &ReadTransaction, dest: &WriteTransaction) -> Result<u64, StoreError>;
    /// Every row as (key, value) in `Debug` form, in key order.
    fn debug_rows(&self, txn: &ReadTransaction) -> Result<Vec<(String, String)>, StoreError>;
}

struct Listed<K: Key + 'static, V: Value + 'static>(TableDefinition<'static, K, V>, Kind);

impl<K: Key + Sync + 'static, V: Value + Sync + 'static> AnyTable for Listed<K, V>
where
    for<'a> K::SelfType<'a>: std::fmt::Debug,
    for<'a> V::SelfType<'a>: std::fmt::Debug,
{
    fn name(&self) -> &str {
        self.0.name()
    }

    fn kind(&self) -> Kind {
        self.1
    }

    fn create(&self, txn: &WriteTransaction) -> Result<(), TableError> {
        txn.open_table(self.0)?;
        Ok(())
    }

    fn delete(&self, txn: &WriteTransaction) -> Result<(), TableError> {
        txn.delete_table(self.0)?;
        Ok(())
    }

    fn copy(&self, source: &ReadTransaction, dest: &WriteTransaction) -> Result<u64, StoreError> {
        let mut to = dest.open_table(self.0)?;
        let from = match source.open_table(self.0) {
            Ok(table) => table,
            // A table the source never created is empty; the copy gets it empty too.
            Err(TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut rows = 0;
        for row in from.iter()? {
            let (k, v) = row?;
            to.insert(k.value(), v.value())?;
            rows += 1;
        }
        Ok(rows)
    }

    fn debug_rows(&self, txn: &ReadTransaction) -> Result<Vec<(String, String)>, StoreError> {
        let table = txn.open_table(self.0)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            out.push((format!("{:?}", k.value()), format!("{:?}", v.value())));
        }
        Ok(out)
    }
}

/// Every table above, once, with what it holds. The dump, the migration, snapshots and
/// `create_all` go through this list, and a unit test fails when a table is declared above
/// but not listed here.
pub const ALL: &[&dyn AnyTable] = &[
    &Listed(META, Kind::Local),
    &Listed(OPLOG, Kind::Log),
    &Listed(SCHOOL_ID_TO_SCHOOL, Kind::Shared),
    &Listed(USER_ID_TO_USER, Kind::Shared),
    &Listed(SCHOOL_USERNAME_TO_USER_ID, Kind::Shared),
    &Listed(SCHOOL_EXTERNAL_ID_TO_ID, Kind::Shared),
    &Listed(CLASS_ID_TO_CLASS, Kind::Shared),
    &Listed(JOIN_CODE_TO_CLASS_ID, Kind::Shared),
    &Listed(CLASS_USER_TO_MEMBERSHIP, Kind::Shared),
    &Listed(USER_CLASS_TO_ROLE, Kind::Shared),
    &Listed(QR_TOKEN_HASH_TO_USER_ID, Kind::Shared),
    &Listed(SESSION_HASH_TO_SESSION, Kind::Local),
    &Listed(ARTIFACT_ID_TO_ARTIFACT, Kind::Shared),
    &Listed(OWNER_ARTIFACT, Kind::Shared),
    &Listed(CLASS_ARTIFACT, Kind::Shared),
    &Listed(ACTIVITY_ARTIFACT, Kind::Shared),
    &Listed(ARTIFACT_COMMENT_TO_COMMENT, Kind::Shared),
    &Listed(VERSION_ID_TO_ARTIFACT_ID, Kind::Derived),
    &Listed(COMMENT_ID_TO_ARTIFACT_ID, Kind::Derived),
    &Listed(ACTIVITY_ID_TO_ACTIVITY, Kind::Shared),
    &Listed(CLASS_ACTIVITY, Kind::Shared),
    &Listed(BLOB_HASH_FILE, Kind::Shared),
    &Listed(FAMILY_STUDENT_TO_LINK, Kind::Shared),
    &Listed(STUDENT_FAMILY, Kind::Shared),
    &Listed(ERASED_USER_TO_HLC, Kind::Shared),
    &Listed(THUMBNAIL_TODO, Kind::Local),
    &Listed(SEARCH_TODO, Kind::Local),
    &Listed(USER_ARTIFACT_SEEN_MS, Kind::Local),
    &Listed(UPLOAD_ID_TO_UPLOAD, Kind::Local),
    &Listed(BLOB_HASH_UPLOAD, Kind::Local),
    &Listed(SCHOOL_PARTITION_ORIGIN_SEQ, Kind::Shared),
    &Listed(SCHOOL_PARTITION_ORIGIN_TO_SEQ, Kind::Derived),
    &Listed(TARGET_ORIGIN_SEQ_WAITING, Kind::Derived),
    &Listed(ARTIFACT_HLC_TO_REFLECTION_EDIT, Kind::Shared),
    &Listed(ERASED_ARTIFACT, Kind::Shared),
    &Listed(SCHOOL_SKILL_TO_SKILL, Kind::Shared),
    &Listed(ARTIFACT_VERSION_SKILL_RATER_TO_RATING, Kind::Shared),
    &Listed(SCHOOL_CLASS_WEEK_TO_COUNTS, Kind::Shared),
    &Listed(ARTIFACT_TO_CONTRIBUTION, Kind::Shared),
    &Listed(CLASS_STUDENT_MS_EVENT_ARTIFACT_TO_COUNT, Kind::Shared),
    &Listed(CLASS_MS_ARTIFACT_TO_TURNAROUND, Kind::Shared),
    &Listed(CLASS_ACTIVITY_STUDENT_TO_ANSWERS, Kind::Shared),
    &Listed(CLASS_STUDENT_SKILL_HLC_TO_LEVEL, Kind::Shared),
    &Listed(ARTIFACT_TO_SUMMARY, Kind::Shared),
    &Listed(OWNER_ARTIFACT_UNREVIEWED, Kind::Shared),
    &Listed(CLASS_ARTIFACT_HELD, Kind::Shared),
    &Listed(PEER_ID_TO_PEER, Kind::Local),
    &Listed(INVITE_SECRET_HASH_TO_INVITE, Kind::Local),
    &Listed(FAMILY_CODE_HASH_TO_SHEET, Kind::Local),
    &Listed(PEER_SCHOOL_TO_POSITIONS, Kind::Local),
    &Listed(SCHOOL_TO_WHOLLY_INSIDE, Kind::Local),
    &Listed(FILE_ID_TO_HOLDER, Kind::Derived),
    &Listed(BLOB_HASH_MISSING, Kind::Local),
    &Listed(PEER_SCHOOL_TO_FILE_POSITIONS, Kind::Local),
];

/// Creates every table so read transactions never meet a missing one.
pub fn create_all(txn: &WriteTransaction) -> Result<(), TableError> {
    for table in ALL {
        table.create(txn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of every table definition in this file, read from its source, so a table
    /// declared but not listed in `ALL` fails the test below.
    fn declared_tables() -> Vec<String> {
        let source = include_str!("tables.rs");
        let mut names = Vec::new();
        for marker in ["TableDefinition::new(\"", "MultimapTableDefinition::new(\""] {
            for (at, _) in source.match_indices(marker) {
                let rest = &source[at + marker.len()..];
                names.push(rest[..rest.find('"').unwrap()].to_string());
            }
        }
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn every_declared_table_is_listed_once() {
        let mut listed: Vec<String> = ALL.iter().map(|t| t.name().to_string()).collect();
        listed.sort();
        let count = listed.len();
        listed.dedup();
        assert_eq!(count, listed.len(), "a table is listed twice in ALL");
        let declared = declared_tables();
        assert!(declared.len() > 20, "found the declarations: {declared:?}");
        assert_eq!(listed, declared, "ALL must list exactly the tables tables.rs declares");
    }
}
