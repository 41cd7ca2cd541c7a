//! Reads, usable inside a read transaction and inside a write transaction alike (a write must
//! see its own uncommitted rows when it validates), through the [`ReadTables`] abstraction.

use redb::{Key, ReadOnlyTable, ReadTransaction, ReadableTable, TableDefinition, Value, WriteTransaction};

use super::ReflectionEdit;
use super::StoreError;
use super::codec::decode;
use super::tables::*;
use crate::domain::audience::{self, Audience, Principal};
use crate::domain::policy::{ArtifactFacts, ClassRelation, Work};
use crate::domain::skills::{Rating, Skill};
use crate::domain::{
    Activity, ActivityId, Artifact, ArtifactId, Class, ClassId, Comment, CommentId, Hlc, ReplicaId, Role, School,
    SchoolId, SkillId, User, UserId, VersionId,
};

/// Opening a table, whichever kind of transaction we are in.
pub trait ReadTables {
    type Table<'a, K: Key + 'static, V: Value + 'static>: ReadableTable<K, V>
    where
        Self: 'a;
    fn table<'a, K: Key + 'static, V: Value + 'static>(
        &'a self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<Self::Table<'a, K, V>, StoreError>;
}

impl ReadTables for ReadTransaction {
    type Table<'a, K: Key + 'static, V: Value + 'static> = ReadOnlyTable<K, V>;
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<ReadOnlyTable<K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

impl ReadTables for WriteTransaction {
    type Table<'a, K: Key + 'static, V: Value + 'static> = redb::Table<'a, K, V>;
    fn table<'a, K: Key + 'static, V: Value + 'static>(
        &'a self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<redb::Table<'a, K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

fn decode_all<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<IdKey, &'static [u8]>,
) -> Result<Vec<T>, StoreError> {
    table
        .range::<IdKey>(..)?
        .map(|row| {
            let (_, v) = row?;
            decode(v.value())
        })
        .collect()
}

/// Every read folio makes, named for what it answers.
pub trait Queries: ReadTables {
    fn is_set_up(&self) -> Result<bool, StoreError> {
        Ok(self.table(SCHOOL_ID_TO_SCHOOL)?.first()?.is_some())
    }

    fn schools(&self) -> Result<Vec<School>, StoreError> {
        decode_all(&self.table(SCHOOL_ID_TO_SCHOOL)?)
    }

    fn school(&self, id: SchoolId) -> Result<Option<School>, StoreError> {
        self.table(SCHOOL_ID_TO_SCHOOL)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
    }

    fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.table(USER_ID_TO_USER)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
    }

    fn user_by_username(&self, school: SchoolId, username: &str) -> Result<Option<User>, StoreError> {
        let id = self
            .table(SCHOOL_USERNAME_TO_USER_ID)?
            .get((school.bytes(), username))?
            .map(|v| UserId::from_bytes(v.value()));
        match id {
            Some(id) => self.user(id),
            None => Ok(None),
        }
    }

    /// Everyone with this username, in any school on the box (usually one).
    fn users_by_username(&self, username: &str) -> Result<Vec<User>, StoreError> {
        let mut found = Vec::new();
        for school in self.schools()? {
            if let Some(user) = self.user_by_username(school.id, username)? {
                found.push(user);
            }
        }
        Ok(found)
    }

    fn users_in_school(&self, school: SchoolId) -> Result<Vec<User>, StoreError> {
        let start = (school.bytes(), "");
        let ids: Vec<UserId> = self
            .table(SCHOOL_USERNAME_TO_USER_ID)?
            .range(start..)?
            .map(|row| row.map(|(k, v)| (k.value().0, v.value())))
            .take_while(|row| row.as_ref().map_or(true, |(s, _)| *s == school.bytes()))
            .map(|row| row.map(|(_, id)| UserId::from_bytes(id)))
            .collect::<Result<_, _>>()?;
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            users.extend(self.user(id)?);
        }
        users.sort_by_key(|a| a.display_name.to_lowercase());
        Ok(users)
    }

    fn user_by_qr_hash(&self, hash: [u8; 32]) -> Result<Option<User>, StoreError> {
        let id = self.table(QR_TOKEN_HASH_TO_USER_ID)?.get(hash)?.map(|v| UserId::from_bytes(v.value()));
        // The index only finds the account; the card is theirs only while their own record
        // still holds this hash (an operation naming someone else's card hash for another
        // person moves the index entry, never the card).
        match id {
            Some(id) => {
                Ok(self.user(id)?.filter(|u| u.qr_token_hash.as_deref().and_then(super::apply::hash_key) == Some(hash)))
            }
            None => Ok(None),
        }
    }

    fn id_by_external(
        &self,
        school: SchoolId,
        kind: ExternalKind,
        external_id: &str,
    ) -> Result<Option<[u8; 16]>, StoreError> {
        Ok(self
            .table(SCHOOL_EXTERNAL_ID_TO_ID)?
            .get((school.bytes(), kind.key(external_id).as_str()))?
            .map(|v| v.value()))
    }

    fn class(&self, id: ClassId) -> Result<Option<Class>, StoreError> {
        self.table(CLASS_ID_TO_CLASS)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
    }

    fn class_by_join_code(&self, code: &str) -> Result<Option<Class>, StoreError> {
        let id = self.table(JOIN_CODE_TO_CLASS_ID)?.get(code)?.map(|v| ClassId::from_bytes(v.value()));
        match id {
            Some(id) => self.class(id),
            None => Ok(None),
        }
    }

    fn classes_in_school(&self, school: SchoolId) -> Result<Vec<Class>, StoreError> {
        let all: Vec<Class> = decode_all(&self.table(CLASS_ID_TO_CLASS)?)?;
        let mut classes: Vec<Class> = all.into_iter().filter(|c| c.school == school).collect();
        classes.sort_by_key(|a| a.name.to_lowercase());
        Ok(classes)
    }

    /// The classes a person is in, with their role in each.
    fn classes_of(&self, user: UserId) -> Result<Vec<(Class, Role)>, StoreError> {
        let rows: Vec<(ClassId, Role)> = self
            .table(USER_CLASS_TO_ROLE)?
            .range((user.bytes(), [0u8; 16])..=(user.bytes(), [0xffu8; 16]))?
            .map(|row| {
                let (k, v) = row?;
                let role = v.value().parse::<Role>().map_err(|e| StoreError::Corrupt(e.0))?;
                Ok((ClassId::from_bytes(k.value().1), role))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut classes = Vec::with_capacity(rows.len());
        for (id, role) in rows {
            if let Some(class) = self.class(id)? {
                classes.push((class, role));
            }
        }
        classes.sort_by_key(|a| a.0.name.to_lowercase());
        Ok(classes)
    }

    fn relation(&self, user: UserId, class: ClassId) -> Result<ClassRelation, StoreError> {
        let role = self
            .table(USER_CLASS_TO_ROLE)?
            .get((user.bytes(), class.bytes()))?
            .map(|v| v.value().parse::<Role>())
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.0))?;
        Ok(role.map_or(ClassRelation::None, ClassRelation::Member))
    }

    /// Whether `teacher` teaches a class that `student` is in.
    fn teaches(&self, teacher: UserId, student: UserId) -> Result<bool, StoreError> {
        for (class, role) in self.classes_of(teacher)? {
            if role == Role::Teacher && self.relation(student, class.id)? == ClassRelation::Member(Role::Student) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The present members of a class with their class role, sorted by name.
    fn members(&self, class: ClassId) -> Result<Vec<(User, Role)>, StoreError> {
        let rows: Vec<(UserId, crate::domain::Membership)> = self
            .table(CLASS_USER_TO_MEMBERSHIP)?
            .range((class.bytes(), [0u8; 16])..=(class.bytes(), [0xffu8; 16]))?
            .map(|row| {
                let (k, v) = row?;
                Ok((UserId::from_bytes(k.value().1), decode(v.value())?))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut members = Vec::new();
        for (id, membership) in rows {
            if membership.is_present()
                && let Some(user) = self.user(id)?
            {
                members.push((user, membership.role));
            }
        }
        members.sort_by(|a, b| {
            (a.1 != Role::Teacher, a.0.display_name.to_lowercase())
                .cmp(&(b.1 != Role::Teacher, b.0.display_name.to_lowercase()))
        });
        Ok(members)
    }

    fn artifact(&self, id: ArtifactId) -> Result<Option<Artifact>, StoreError> {
        self.table(ARTIFACT_ID_TO_ARTIFACT)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
    }

    /// Whether the artifact's row (live or a tombstone) is here, without decoding it: asked
    /// for every incoming operation on an artifact, where decoding showed in profiles.
    fn has_artifact(&self, id: ArtifactId) -> Result<bool, StoreError> {
        Ok(self.table(ARTIFACT_ID_TO_ARTIFACT)?.get(id.bytes())?.is_some())
    }

    /// Ids from an index keyed (prefix, id) -> u8.
    fn ids_under(
        &self,
        table: TableDefinition<'static, (IdKey, IdKey), u8>,
        prefix: [u8; 16],
    ) -> Result<Vec<[u8; 16]>, StoreError> {
        self.table(table)?
            .range((prefix, [0u8; 16])..=(prefix, [0xffu8; 16]))?
            .map(|row| Ok(row?.0.value().1))
            .collect()
    }

    /// Artifacts from an index, newest first, tombstones left out.
    fn artifacts_under(
        &self,
        table: TableDefinition<'static, (IdKey, IdKey), u8>,
        prefix: [u8; 16],
    ) -> Result<Vec<Artifact>, StoreError> {
        let mut found = Vec::new();
        for id in self.ids_under(table, prefix)? {
            if let Some(a) = self.artifact(ArtifactId::from_bytes(id))?.filter(|a| !a.deleted) {
                found.push(a);
            }
        }
        found.sort_by_key(|a| std::cmp::Reverse(a.updated_ms));
        Ok(found)
    }

    fn artifacts_of_owner(&self, owner: UserId) -> Result<Vec<Artifact>, StoreError> {
        self.artifacts_under(OWNER_ARTIFACT, owner.bytes())
    }

    fn artifacts_in_class(&self, class: ClassId) -> Result<Vec<Artifact>, StoreError> {
        self.artifacts_under(CLASS_ARTIFACT, class.bytes())
    }

    fn artifacts_for_activity(&self, activity: ActivityId) -> Result<Vec<Artifact>, StoreError> {
        self.artifacts_under(ACTIVITY_ARTIFACT, activity.bytes())
    }

    /// An artifact's comments and feedback, oldest first.
    fn comments(&self, artifact: ArtifactId) -> Result<Vec<Comment>, StoreError> {
        let mut found: Vec<Comment> = self
            .table(ARTIFACT_COMMENT_TO_COMMENT)?
            .range((artifact.bytes(), [0u8; 16])..=(artifact.bytes(), [0xffu8; 16]))?
            .map(|row| decode(row?.1.value()))
            .collect::<Result<_, _>>()?;
        found.sort_by_key(|c| (c.created_ms, c.id));
        Ok(found)
    }

    /// The school's skills, retired ones too, by group and code.
    fn skills(&self, school: SchoolId) -> Result<Vec<Skill>, StoreError> {
        let mut found: Vec<Skill> = self
            .table(SCHOOL_SKILL_TO_SKILL)?
            .range((school.bytes(), [0u8; 16])..=(school.bytes(), [0xffu8; 16]))?
            .map(|row| decode(row?.1.value()))
            .collect::<Result<_, _>>()?;
        found.sort_by(|a, b| (&a.group, a.code.to_lowercase()).cmp(&(&b.group, b.code.to_lowercase())));
        Ok(found)
    }

    fn skill(&self, school: SchoolId, id: SkillId) -> Result<Option<Skill>, StoreError> {
        self.table(SCHOOL_SKILL_TO_SKILL)?.get((school.bytes(), id.bytes()))?.map(|v| decode(v.value())).transpose()
    }

    /// Every rating of an artifact's versions, oldest first.
    fn ratings(&self, artifact: ArtifactId) -> Result<Vec<Rating>, StoreError> {
        let (lo, hi) = ([0u8; 16], [0xffu8; 16]);
        let mut found: Vec<Rating> = self
            .table(ARTIFACT_VERSION_SKILL_RATER_TO_RATING)?
            .range((artifact.bytes(), lo, lo, lo)..=(artifact.bytes(), hi, hi, hi))?
            .map(|row| decode(row?.1.value()))
            .collect::<Result<_, _>>()?;
        found.sort_by_key(|r| r.clock);
        Ok(found)
    }

    /// The artifact a version id belongs to, if that id was ever used (also after a delete).
    fn artifact_of_version(&self, id: VersionId) -> Result<Option<ArtifactId>, StoreError> {
        Ok(self.table(VERSION_ID_TO_ARTIFACT_ID)?.get(id.bytes())?.map(|v| ArtifactId::from_bytes(v.value())))
    }

    /// The artifact a comment id belongs to, if that id was ever used (also after a delete).
    fn artifact_of_comment(&self, id: CommentId) -> Result<Option<ArtifactId>, StoreError> {
        Ok(self.table(COMMENT_ID_TO_ARTIFACT_ID)?.get(id.bytes())?.map(|v| ArtifactId::from_bytes(v.value())))
    }

    fn activity(&self, id: ActivityId) -> Result<Option<Activity>, StoreError> {
        self.table(ACTIVITY_ID_TO_ACTIVITY)?.get(id.bytes())?.map(|v| decode(v.value())).transpose()
    }

    /// A class's activities, newest first.
    fn activities_of_class(&self, class: ClassId) -> Result<Vec<Activity>, StoreError> {
        let mut found = Vec::new();
        for id in self.ids_under(CLASS_ACTIVITY, class.bytes())? {
            found.extend(self.activity(ActivityId::from_bytes(id))?);
        }
        found.sort_by_key(|a| std::cmp::Reverse(a.created_ms));
        Ok(found)
    }

    /// The family accounts linked to a student.
    fn families_of(&self, student: UserId) -> Result<Vec<UserId>, StoreError> {
        Ok(self.ids_under(STUDENT_FAMILY, student.bytes())?.into_iter().map(UserId::from_bytes).collect())
    }

    /// The students a family account is linked to.
    fn students_of_family(&self, family: UserId) -> Result<Vec<User>, StoreError> {
        let links: Vec<(UserId, crate::domain::Membership)> = self
            .table(FAMILY_STUDENT_TO_LINK)?
            .range((family.bytes(), [0u8; 16])..=(family.bytes(), [0xffu8; 16]))?
            .map(|row| {
                let (k, v) = row?;
                Ok((UserId::from_bytes(k.value().1), decode(v.value())?))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut students = Vec::new();
        for (id, link) in links {
            if link.is_present() {
                students.extend(self.user(id)?);
            }
        }
        Ok(students)
    }

    /// Whether any file still uses the blob with this hash.
    /// Whether a file uses the blob, or a finished upload waiting to be used holds it.
    fn blob_in_use(&self, hash_hex: &str) -> Result<bool, StoreError> {
        let range = (hash_hex, [0u8; 16])..=(hash_hex, [0xffu8; 16]);
        Ok(self.table(BLOB_HASH_FILE)?.range(range.clone())?.next().is_some()
            || self.table(BLOB_HASH_UPLOAD)?.range(range)?.next().is_some())
    }

    /// Images waiting for a thumbnail: (hash hex, content type).
    fn thumbnail_todo(&self, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        self.table(THUMBNAIL_TODO)?
            .range::<&str>(..)?
            .take(limit)
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value().to_string(), v.value().to_string()))
            })
            .collect()
    }

    /// When a person last opened an artifact (ms), on this box.
    fn seen_ms(&self, user: UserId, artifact: ArtifactId) -> Result<u64, StoreError> {
        Ok(self.table(USER_ARTIFACT_SEEN_MS)?.get((user.bytes(), artifact.bytes()))?.map_or(0, |v| v.value()))
    }

    /// Every artifact of a school, tombstones left out.
    fn artifacts_of_school(&self, school: SchoolId) -> Result<Vec<Artifact>, StoreError> {
        let all: Vec<Artifact> = decode_all(&self.table(ARTIFACT_ID_TO_ARTIFACT)?)?;
        Ok(all.into_iter().filter(|a| a.school == school && !a.deleted).collect())
    }

    /// The ids of every artifact, tombstones included (their documents must go).
    fn all_artifact_ids(&self) -> Result<Vec<ArtifactId>, StoreError> {
        self.table(ARTIFACT_ID_TO_ARTIFACT)?
            .range::<IdKey>(..)?
            .map(|row| Ok(ArtifactId::from_bytes(row?.0.value())))
            .collect()
    }

    /// The artifacts a person has commented on or given feedback to.
    fn artifacts_commented_by(&self, author: UserId) -> Result<Vec<ArtifactId>, StoreError> {
        let mut found = Vec::new();
        for row in self.table(ARTIFACT_COMMENT_TO_COMMENT)?.range::<(IdKey, IdKey)>(..)? {
            let (_, v) = row?;
            let comment: Comment = decode(v.value())?;
            if comment.author == author {
                found.push(comment.artifact);
            }
        }
        found.dedup();
        Ok(found)
    }

    /// Artifacts waiting to be (re)indexed for search, with their tickets.
    fn search_todo(&self, limit: usize) -> Result<Vec<(ArtifactId, u64)>, StoreError> {
        self.table(SEARCH_TODO)?
            .range::<IdKey>(..)?
            .take(limit)
            .map(|row| {
                let (k, v) = row?;
                Ok((ArtifactId::from_bytes(k.value()), v.value()))
            })
            .collect()
    }

    fn search_todo_len(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata;
        Ok(self.table(SEARCH_TODO)?.len()?)
    }

    /// The principals a person holds for search (see `domain::audience`).
    fn principals_of(&self, viewer: &User) -> Result<Vec<Principal>, StoreError> {
        let classes: Vec<(ClassId, Role)> = self.classes_of(viewer.id)?.into_iter().map(|(c, r)| (c.id, r)).collect();
        let children: Vec<UserId> = if viewer.role == Role::Family {
            self.students_of_family(viewer.id)?.into_iter().map(|s| s.id).collect()
        } else {
            Vec::new()
        };
        let school_classes: Vec<ClassId> = if viewer.role == Role::Leader {
            self.classes_in_school(viewer.school)?.into_iter().map(|c| c.id).collect()
        } else {
            Vec::new()
        };
        Ok(audience::viewer_principals(viewer, &classes, &children, &school_classes))
    }

    /// Who may read an artifact, as audiences (see `domain::audience`).
    fn audiences_of(&self, artifact: &Artifact) -> Result<Vec<Audience>, StoreError> {
        let mut owner_classes = Vec::new();
        for owner in &artifact.owners {
            for (class, role) in self.classes_of(*owner)? {
                if role == Role::Student {
                    owner_classes.push(class.id);
                }
            }
        }
        let class = artifact.class.map(|c| self.class(c)).transpose()?.flatten();
        Ok(audience::artifact_audiences(artifact, &owner_classes, class.as_ref()))
    }

    /// The facts `policy` decides about one viewer and one artifact.
    fn artifact_facts(&self, viewer: &User, artifact: &Artifact) -> Result<ArtifactFacts, StoreError> {
        self.work_facts(viewer, Work::from(artifact), &mut FactsCache::default())
    }

    /// [`Queries::artifact_facts`] from what the rules read of the work (an artifact or its
    /// summary); `cache` keeps what was read about its class and owners for the next piece of
    /// a list, which mostly shares them.
    fn work_facts(&self, viewer: &User, work: Work<'_>, cache: &mut FactsCache) -> Result<ArtifactFacts, StoreError> {
        let mut f = ArtifactFacts {
            approved: work.approved,
            deleted: work.deleted,
            visibility: work.visibility,
            needs_approval: true,
            ..ArtifactFacts::default()
        };
        if viewer.school != work.school {
            return Ok(f);
        }
        f.owner = work.owners.contains(&viewer.id);
        for owner in work.owners {
            let (teaches, family) = match cache.owners.get(owner) {
                Some(known) => *known,
                None => {
                    let teaches = viewer.role == Role::Teacher && self.teaches(viewer.id, *owner)?;
                    let family = viewer.role == Role::Family
                        && self.table(STUDENT_FAMILY)?.get((owner.bytes(), viewer.id.bytes()))?.is_some();
                    *cache.owners.entry(*owner).or_insert((teaches, family))
                }
            };
            f.teaches_owner |= teaches;
            f.family |= family;
        }
        let Some(class_id) = work.class else { return Ok(f) };
        let class = match cache.classes.get(&class_id) {
            Some(known) => *known,
            None => {
                let found = match self.class(class_id)? {
                    Some(class) => Some(ClassFacts {
                        require_approval: class.require_approval,
                        comments_allowed: class.comments_allowed,
                        family_sharing: class.family_sharing,
                        hold_family_comments: class.hold_family_comments,
                        in_viewer_school: class.school == viewer.school,
                        relation: self.relation(viewer.id, class.id)?,
                    }),
                    None => None,
                };
                *cache.classes.entry(class_id).or_insert(found)
            }
        };
        if let Some(class) = class {
            f.needs_approval = class.require_approval;
            f.comments_allowed = class.comments_allowed;
            f.family_hidden = !class.family_sharing;
            f.hold_family_comments = class.hold_family_comments;
            f.school_leader = viewer.role == Role::Leader && class.in_viewer_school;
            match class.relation {
                ClassRelation::Member(Role::Teacher) => f.class_teacher = true,
                ClassRelation::Member(Role::Student) => f.classmate = true,
                _ => {}
            }
        }
        Ok(f)
    }

    /// An artifact's reflections that lost to a concurrent edit made on another box, oldest
    /// first, with who wrote them and when: kept so their author can be shown them and take
    /// back what they want (`Artifact::reflection_conflicts` holds their texts).
    fn reflection_conflicts(&self, artifact: ArtifactId) -> Result<Vec<(Hlc, ReflectionEdit)>, StoreError> {
        let Some(current) = self.artifact(artifact)? else { return Ok(Vec::new()) };
        let winner = current.field_clock.get("reflection").copied();
        let id = artifact.bytes();
        let mut found = Vec::new();
        for row in self
            .table(ARTIFACT_HLC_TO_REFLECTION_EDIT)?
            .range((id, 0u64, 0u32, [0u8; 16])..=(id, u64::MAX, u32::MAX, [0xffu8; 16]))?
        {
            let (k, v) = row?;
            let (_, ms, counter, replica) = k.value();
            let hlc = Hlc { ms, counter, replica: ReplicaId(uuid::Uuid::from_bytes(replica)) };
            let edit: ReflectionEdit = decode(v.value())?;
            if Some(hlc) != winner && edit.text != current.reflection {
                found.push((hlc, edit));
            }
        }
        Ok(found)
    }

    /// How many operations the op log holds (for `/healthz`-style status and tests).
    fn op_count(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata;
        Ok(self.table(OPLOG)?.len()?)
    }
}

impl<T: ReadTables> Queries for T {}

/// What [`Queries::work_facts`] read about classes and owners, for one viewer.
#[derive(Default)]
pub struct FactsCache {
    classes: std::collections::BTreeMap<ClassId, Option<ClassFacts>>,
    owners: std::collections::BTreeMap<UserId, (bool, bool)>,
}

#[derive(Clone, Copy)]
struct ClassFacts {
    require_approval: bool,
    comments_allowed: bool,
    family_sharing: bool,
    hold_family_comments: bool,
    in_viewer_school: bool,
    relation: ClassRelation,
}
