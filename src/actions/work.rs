//! Student work: creating artifacts from stored files, versions, edits, review, comments and
//! feedback, activities, deleting and erasing. Files are already in the blob store when these
//! run (the HTTP layer streams them there first), so a row never points at a missing file.

use std::collections::BTreeSet;

use crate::domain::hlc::wall_clock_ms;
use crate::domain::policy::{self, ArtifactFacts, ClassRelation};
use crate::domain::summary::Summary;
use crate::domain::upload::UploadId;
use crate::domain::work::{clean_text, clean_title};
use crate::domain::{
    Activity, ActivityId, Artifact, ArtifactId, Change, ClassId, Comment, CommentId, CommentKind, FileRef, Role, Scope,
    SkillId, User, UserId, Version, VersionId, Visibility,
};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::store::uploads::{self as store_uploads, Unusable};
use crate::store::{FactsCache, Queries, ReadTables, Store, Tx, sessions, summaries};

/// What a student types when they make something.
#[derive(Debug, Default)]
pub struct NewArtifact {
    pub id: Option<ArtifactId>,
    pub title: String,
    pub reflection: String,
    pub tags: BTreeSet<String>,
    pub skills: BTreeSet<String>,
    pub visibility: Visibility,
    pub class: Option<ClassId>,
    pub activity: Option<ActivityId>,
    /// Classmates who made it together with the author (group work).
    pub co_owners: Vec<UserId>,
    /// A family member adding to their child's portfolio from home: the child's id.
    pub for_student: Option<UserId>,
}

/// The artifact with the viewer's facts, or NotFound when the viewer may not see it.
pub fn visible(r: &impl ReadTables, viewer: &User, id: ArtifactId) -> Result<(Artifact, ArtifactFacts)> {
    let Some(artifact) = r.artifact(id)? else { return Err(Error::NotFound) };
    let facts = r.artifact_facts(viewer, &artifact)?;
    if policy::can_view_artifact(viewer, &facts) { Ok((artifact, facts)) } else { Err(Error::NotFound) }
}

/// Skills come from the school's own list (standards, competences), so work can be found
/// and counted by them; anything else is refused with the list to choose from.
fn check_skills(r: &impl ReadTables, actor: &User, skills: &BTreeSet<String>) -> Result<()> {
    if skills.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = r.skills(actor.school)?.into_iter().filter(|s| !s.retired).map(|s| s.code).collect();
    let unknown: Vec<&str> = skills.iter().filter(|s| !known.contains(s)).map(String::as_str).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::Invalid(if known.is_empty() {
        "This school has not listed any skills yet. Ask an administrator to add them.".to_string()
    } else {
        format!("\"{}\" is not one of the school's skills: choose from {}.", unknown.join("\", \""), known.join(", "))
    }))
}

/// The scope an artifact's operations belong to: its class's partition, or for work in no
/// class its first owner's (see `domain::partition`).
pub(super) fn scope(artifact: &Artifact) -> Scope {
    artifact.partition()
}

/// Decides the class of new work: the one given (the student must be in it), the activity's,
/// or the student's only class.
fn class_for(tx: &Tx, actor: &User, new: &NewArtifact) -> Result<Option<ClassId>> {
    let mut class = new.class;
    if let Some(activity) = new.activity {
        let found =
            tx.txn().activity(activity)?.filter(|a| a.school == actor.school).ok_or_else(|| {
                Error::Invalid("That activity does not exist. Choose one from your class page.".into())
            })?;
        if class.is_some_and(|c| c != found.class) {
            return Err(Error::Invalid("That activity belongs to another class.".into()));
        }
        class = Some(found.class);
    }
    match class {
        Some(c) => {
            if tx.txn().relation(actor.id, c)? != ClassRelation::Member(Role::Student) {
                return Err(Error::Invalid("You can only post work in a class you are in.".into()));
            }
            Ok(Some(c))
        }
        None => {
            let classes = tx.txn().classes_of(actor.id)?;
            Ok(if classes.len() == 1 { Some(classes[0].0.id) } else { None })
        }
    }
}

/// Uses up the resumable uploads whose files an operation in this transaction records, so
/// the commit that names the files is the one that forgets the uploads.
pub(super) fn use_uploads(tx: &Tx, actor: &User, uploads: &[UploadId]) -> Result<()> {
    let now = wall_clock_ms();
    for id in uploads {
        match store_uploads::take(tx.txn(), *id, actor.id, now)? {
            Ok(_) => {}
            Err(Unusable::Missing) => {
                return Err(Error::Invalid(
                    "An upload named here does not exist (any more): it may have expired, been deleted or been used already. Upload the file again.".into(),
                ));
            }
            Err(Unusable::Unfinished { .. }) => {
                return Err(Error::conflict(
                    "An upload named here is not finished yet. Send the rest, then try again.",
                ));
            }
        }
    }
    Ok(())
}

/// Makes a new piece of work with the given files, of which those of the resumable
/// `uploads` are used up in the same transaction.
pub fn create(
    store: &Store,
    actor: &User,
    new: NewArtifact,
    kind: String,
    files: Vec<FileRef>,
    uploads: &[UploadId],
) -> Result<Artifact> {
    if actor.role == Role::Family && !actor.disabled {
        return super::family::create_from_home(store, actor, new, kind, files, uploads);
    }
    if actor.role != Role::Student || actor.disabled {
        return Err(Error::forbidden("Only students keep portfolios. Teachers post activities from a class page."));
    }
    let title = clean_title(&new.title)?;
    let reflection = clean_text(&new.reflection, "reflection")?;
    store.write(|tx| {
        let id = new.id.unwrap_or_default();
        // Checked in the write transaction, which redb runs one at a time: of two copies of a
        // request racing each other, exactly one creates and the other finds its work.
        if let Some(existing) = tx.txn().artifact(id)? {
            let same_request = existing.owners.first() == Some(&actor.id) && !existing.deleted;
            return if same_request { Ok(existing) } else { Err(id_taken()) };
        }
        check_skills(tx.txn(), actor, &new.skills)?;
        use_uploads(tx, actor, uploads)?;
        let class = class_for(tx, actor, &new)?;
        let mut owners = vec![actor.id];
        for co in &new.co_owners {
            let ok =
                class.is_some_and(|c| tx.txn().relation(*co, c).ok() == Some(ClassRelation::Member(Role::Student)));
            if !ok {
                return Err(Error::Invalid("Group work can only include classmates from the same class.".into()));
            }
            if !owners.contains(co) {
                owners.push(*co);
            }
        }
        let now = wall_clock_ms();
        let artifact = Artifact {
            class,
            activity: new.activity,
            title: title.clone(),
            reflection: reflection.clone(),
            tags: new.tags.clone(),
            skills: new.skills.clone(),
            visibility: new.visibility,
            kind: kind.clone(),
            ..Artifact::first_saved(id, actor.school, owners, files.clone(), actor.id, now)
        };
        tx.record(
            actor.school,
            scope(&artifact),
            Some(actor.id),
            Change::ArtifactCreated { artifact: Box::new(artifact) },
        )?;
        tx.txn().artifact(id)?.ok_or_else(|| Error::internal(anyhow::anyhow!("a new artifact was not stored")))
    })
}

/// A request named an id that is already used, by someone else or for something else. The
/// same request sent again (a retry after a lost answer, or the outbox sending twice) is not
/// refused: it gets the same answer as the first time.
pub(super) fn id_taken() -> Error {
    Error::conflict("That id was already used for something else. Nothing was saved: send it again without an id.")
}

pub fn add_version(
    store: &Store,
    actor: &User,
    id: ArtifactId,
    version_id: Option<VersionId>,
    note: &str,
    files: Vec<FileRef>,
    uploads: &[UploadId],
) -> Result<Version> {
    let note = clean_text(note, "note")?;
    if files.is_empty() && uploads.is_empty() {
        return Err(Error::Refused(Msg::id("error-version-needs-file")));
    }
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if let Some(vid) = version_id
            && let Some(target) = tx.txn().artifact_of_version(vid)?
        {
            return match artifact.versions.iter().find(|v| v.id == vid) {
                Some(v) if target == id && v.author == actor.id => Ok(v.clone()),
                _ => Err(id_taken()),
            };
        }
        if !policy::can_edit_artifact(actor, &facts) {
            return Err(Error::forbidden("Only the students whose work this is can add a version."));
        }
        use_uploads(tx, actor, uploads)?;
        // A box without a real-time clock may wake up in the past; a new version still sorts
        // after the ones before it.
        let created_ms = wall_clock_ms().max(artifact.latest().map_or(0, |v| v.created_ms + 1));
        let version = Version {
            id: version_id.unwrap_or_default(),
            note: note.clone(),
            files: files.clone(),
            author: actor.id,
            created_ms,
        };
        tx.record(
            artifact.school,
            scope(&artifact),
            Some(actor.id),
            Change::VersionAdded { artifact: id, version: version.clone() },
        )?;
        Ok(version)
    })
}

#[derive(Debug, Default)]
pub struct ArtifactEdit {
    pub title: Option<String>,
    pub reflection: Option<String>,
    pub tags: Option<BTreeSet<String>>,
    pub skills: Option<BTreeSet<String>>,
    pub visibility: Option<Visibility>,
}

pub fn edit(store: &Store, actor: &User, id: ArtifactId, edit: ArtifactEdit) -> Result<Artifact> {
    let title = edit.title.as_deref().map(clean_title).transpose()?;
    let reflection = edit.reflection.as_deref().map(|r| clean_text(r, "reflection")).transpose()?;
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if !policy::can_edit_artifact(actor, &facts) {
            return Err(Error::forbidden("Only the students whose work this is can change it."));
        }
        if let Some(skills) = &edit.skills {
            check_skills(tx.txn(), actor, skills)?;
        }
        tx.record(
            artifact.school,
            scope(&artifact),
            Some(actor.id),
            Change::ArtifactEdited {
                artifact: id,
                title: title.clone(),
                reflection: reflection.clone(),
                tags: edit.tags.clone(),
                skills: edit.skills.clone(),
                visibility: edit.visibility,
                // Both are decided by `Tx::record` against the artifact as it stands.
                reflection_base: None,
                needs_review: false,
            },
        )?;
        tx.txn().artifact(id)?.ok_or(Error::NotFound)
    })
}

/// Deletes an artifact (a tombstone everywhere). Returns the hashes its files used, for the
/// caller to collect if nothing else uses them.
pub fn delete(store: &Store, actor: &User, id: ArtifactId) -> Result<Vec<String>> {
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if !policy::can_delete_artifact(actor, &facts) {
            return Err(Error::forbidden("Only the students whose work this is, or their teachers, can delete it."));
        }
        let mut hashes: Vec<String> = artifact.files().map(|f| f.hash.clone()).collect();
        hashes.extend(tx.txn().comments(id)?.into_iter().filter_map(|c| c.audio.map(|a| a.hash)));
        tx.record(artifact.school, scope(&artifact), Some(actor.id), Change::ArtifactDeleted { artifact: id })?;
        Ok(hashes)
    })
}

/// A teacher has looked at the work; `approved` also decides whether it may be shared.
pub fn review(store: &Store, actor: &User, id: ArtifactId, approved: Option<bool>) -> Result<Artifact> {
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if !policy::can_review_artifact(actor, &facts) {
            return Err(Error::forbidden("Only the student's teachers can review this work."));
        }
        tx.record(
            artifact.school,
            scope(&artifact),
            Some(actor.id),
            Change::ArtifactReviewed { artifact: id, approved },
        )?;
        tx.txn().artifact(id)?.ok_or(Error::NotFound)
    })
}

/// What someone writes under a piece of work.
#[derive(Debug, Default)]
pub struct NewComment {
    /// Made by the device (the offline outbox), so sending it twice adds it once.
    pub id: Option<CommentId>,
    pub body: String,
    pub audio: Option<FileRef>,
    pub version: Option<VersionId>,
}

pub fn add_comment(store: &Store, actor: &User, id: ArtifactId, new: NewComment) -> Result<Comment> {
    let NewComment { id: comment_id, body, audio, version } = new;
    let body = clean_text(&body, "comment")?;
    if body.is_empty() && audio.is_none() {
        return Err(Error::Refused(Msg::id("error-comment-empty")));
    }
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if let Some(cid) = comment_id
            && let Some(target) = tx.txn().artifact_of_comment(cid)?
        {
            return match tx.txn().comments(id)?.into_iter().find(|c| c.id == cid) {
                Some(c) if target == id && c.author == actor.id => Ok(c),
                _ => Err(id_taken()),
            };
        }
        if !policy::can_comment(actor, &facts) {
            return Err(Error::forbidden("Comments are not open on this work."));
        }
        if version.is_some_and(|v| !artifact.versions.iter().any(|x| x.id == v)) {
            return Err(Error::Invalid("That version is not part of this work.".into()));
        }
        let teacher = actor.role != Role::Student && policy::can_review_artifact(actor, &facts);
        if audio.is_some() && !teacher {
            return Err(Error::forbidden("Voice recordings are for teachers' feedback."));
        }
        let comment = Comment {
            id: comment_id.unwrap_or_default(),
            artifact: id,
            version: version.or_else(|| artifact.latest().map(|v| v.id)),
            author: actor.id,
            kind: if teacher { CommentKind::Feedback } else { CommentKind::Comment },
            body: body.clone(),
            audio: audio.clone(),
            approved: !policy::comment_needs_approval(&facts),
            created_ms: wall_clock_ms(),
        };
        tx.record(
            artifact.school,
            scope(&artifact),
            Some(actor.id),
            Change::CommentAdded { comment: comment.clone() },
        )?;
        if teacher && !artifact.reviewed {
            tx.record(
                artifact.school,
                scope(&artifact),
                Some(actor.id),
                Change::ArtifactReviewed { artifact: id, approved: None },
            )?;
        }
        Ok(comment)
    })
}

/// The comments and feedback on an artifact that the viewer may see.
pub fn comments(store: &Store, viewer: &User, id: ArtifactId) -> Result<Vec<Comment>> {
    store.read(|r| {
        let (_, facts) = visible(r, viewer, id)?;
        Ok(r.comments(id)?.into_iter().filter(|c| policy::can_view_comment(viewer, &facts, c)).collect())
    })
}

pub fn approve_comment(store: &Store, actor: &User, id: ArtifactId, comment: CommentId) -> Result<()> {
    store.write(|tx| {
        let (artifact, facts) = visible(tx.txn(), actor, id)?;
        if !policy::can_review_artifact(actor, &facts) {
            return Err(Error::NotFound);
        }
        if !tx.txn().comments(id)?.iter().any(|c| c.id == comment) {
            return Err(Error::NotFound);
        }
        tx.record(
            artifact.school,
            scope(&artifact),
            Some(actor.id),
            Change::CommentApproved { artifact: id, comment },
        )?;
        Ok(())
    })
}

/// What the viewer may see of a student's portfolio, newest first.
pub fn portfolio(store: &Store, viewer: &User, student: UserId) -> Result<Vec<Artifact>> {
    store.read(|r| {
        let mut found = Vec::new();
        for s in portfolio_summaries(r, viewer, student)? {
            found.extend(r.artifact(s.id)?);
        }
        Ok(found)
    })
}

/// [`portfolio`] as the summaries a page of tiles shows, without decoding the work.
pub fn portfolio_summaries(r: &impl ReadTables, viewer: &User, student: UserId) -> Result<Vec<Summary>> {
    let Some(person) = r.user(student)?.filter(|u| u.school == viewer.school) else { return Err(Error::NotFound) };
    let mut cache = FactsCache::default();
    let mut visible = Vec::new();
    for summary in summaries::of_owner(r, person.id)? {
        let facts = r.work_facts(viewer, summary.work(), &mut cache)?;
        if policy::can_view_artifact(viewer, &facts) {
            visible.push(summary);
        }
    }
    // Someone who can see nothing of a student cannot tell the student exists.
    if visible.is_empty() && viewer.id != person.id && !may_see_person(r, viewer, &person)? {
        return Err(Error::NotFound);
    }
    Ok(visible)
}

fn may_see_person(r: &impl ReadTables, viewer: &User, person: &User) -> Result<bool> {
    Ok(match viewer.role {
        Role::Admin => true,
        // Leaders see the school's class lists: its students, not its other accounts.
        Role::Leader => person.role == Role::Student && person.school == viewer.school,
        Role::Teacher => r.teaches(viewer.id, person.id)?,
        Role::Family => r.families_of(person.id)?.contains(&viewer.id),
        Role::Student => {
            let mine: Vec<ClassId> = r.classes_of(viewer.id)?.into_iter().map(|(c, _)| c.id).collect();
            r.classes_of(person.id)?.iter().any(|(c, _)| mine.contains(&c.id))
        }
    })
}

/// Work a teacher has not looked at yet, across their classes, oldest first (so the queue is
/// worked through in the order it arrived).
pub fn review_queue(store: &Store, teacher: &User) -> Result<Vec<Artifact>> {
    store.read(|r| {
        let mut queue = Vec::new();
        for s in summaries::waiting_for_review(r, teacher.id)? {
            queue.extend(r.artifact(s.id)?);
        }
        Ok(queue)
    })
}

/// [`review_queue`] as summaries: how long it is, and which piece is next.
pub fn review_queue_summaries(r: &impl ReadTables, teacher: &User) -> Result<Vec<Summary>> {
    Ok(summaries::waiting_for_review(r, teacher.id)?)
}

pub struct NewActivity {
    pub title: String,
    pub prompt: String,
    pub due: Option<String>,
    /// The skills it targets, from the school's list.
    pub skills: Vec<SkillId>,
}

pub fn create_activity(
    store: &Store,
    actor: &User,
    class: ClassId,
    new: NewActivity,
    files: Vec<FileRef>,
) -> Result<Activity> {
    let title = clean_title(&new.title)?;
    let prompt = clean_text(&new.prompt, "prompt")?;
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        let skills = super::work_form::school_skills(tx.txn(), actor, &new.skills)?;
        let activity = Activity {
            id: ActivityId::new(),
            school: class.school,
            class: class.id,
            title: title.clone(),
            prompt: prompt.clone(),
            due: new.due.clone(),
            files: files.clone(),
            author: actor.id,
            created_ms: wall_clock_ms(),
            skills,
            field_clock: Default::default(),
        };
        tx.record(
            class.school,
            Scope::Class(class.id),
            Some(actor.id),
            Change::ActivityCreated { activity: activity.clone() },
        )?;
        Ok(activity)
    })
}

/// What a teacher changes of an activity: each field given (`due` empty removes the date).
#[derive(Clone, Debug, Default)]
pub struct ActivityEdit {
    pub title: Option<String>,
    pub prompt: Option<String>,
    pub due: Option<String>,
    pub skills: Option<Vec<SkillId>>,
}

/// Changes an activity: its class's teachers (and whoever manages the class); anyone else
/// gets NotFound, as for an activity that does not exist. One operation, so it syncs.
pub fn edit_activity(store: &Store, actor: &User, id: ActivityId, edit: ActivityEdit) -> Result<Activity> {
    let title = edit.title.as_deref().map(clean_title).transpose()?;
    let prompt = edit.prompt.as_deref().map(|p| clean_text(p, "prompt")).transpose()?;
    let due = match edit.due.as_deref().map(str::trim) {
        Some("") => Some(String::new()),
        Some(raw) => Some(crate::domain::work::parse_due(raw)?.unwrap_or_default()),
        None => None,
    };
    store.write(|tx| {
        let Some(activity) = tx.txn().activity(id)? else { return Err(Error::NotFound) };
        let class = super::classes::managed(tx.txn(), actor, activity.class)?;
        let skills = edit.skills.as_ref().map(|s| super::work_form::school_skills(tx.txn(), actor, s)).transpose()?;
        let change = Change::ActivityEdited {
            activity: id,
            class: class.id,
            title: title.clone(),
            prompt: prompt.clone(),
            due: due.clone(),
            skills,
        };
        tx.record(class.school, Scope::Class(class.id), Some(actor.id), change)?;
        tx.txn().activity(id)?.ok_or(Error::NotFound)
    })
}

/// An activity for someone in its class (teachers of the class, its students).
pub fn activity(r: &impl ReadTables, viewer: &User, id: ActivityId) -> Result<Activity> {
    let Some(activity) = r.activity(id)? else { return Err(Error::NotFound) };
    match r.relation(viewer.id, activity.class)? {
        ClassRelation::Member(_) => Ok(activity),
        ClassRelation::None
            if matches!(viewer.role, Role::Admin | Role::Leader)
                && viewer.school == activity.school
                && !viewer.disabled =>
        {
            Ok(activity)
        }
        ClassRelation::None => Err(Error::NotFound),
    }
}

pub struct ActivityStatus {
    pub activity: Activity,
    pub answered: Vec<(User, Vec<Artifact>)>,
    pub waiting: Vec<User>,
}

/// Who has answered an activity and who has not (for the class's teachers).
pub fn activity_status(store: &Store, teacher: &User, id: ActivityId) -> Result<ActivityStatus> {
    store.read(|r| {
        let activity = activity(r, teacher, id)?;
        // Only the class's own teachers: the answers include private work.
        if r.relation(teacher.id, activity.class)? != ClassRelation::Member(Role::Teacher) {
            return Err(Error::NotFound);
        }
        let answers = r.artifacts_for_activity(id)?;
        let mut answered = Vec::new();
        let mut waiting = Vec::new();
        for (student, role) in r.members(activity.class)? {
            if role != Role::Student {
                continue;
            }
            let theirs: Vec<Artifact> = answers.iter().filter(|a| a.is_owner(student.id)).cloned().collect();
            if theirs.is_empty() { waiting.push(student) } else { answered.push((student, theirs)) }
        }
        Ok(ActivityStatus { activity, answered, waiting })
    })
}

/// The class settings a change sets; `None` leaves one as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct SettingsChange {
    pub require_approval: Option<bool>,
    pub comments_allowed: Option<bool>,
    pub family_sharing: Option<bool>,
    pub hold_family_comments: Option<bool>,
    pub family_sees_ratings: Option<bool>,
}

pub fn set_class_settings(store: &Store, actor: &User, class: ClassId, change: SettingsChange) -> Result<()> {
    let SettingsChange {
        require_approval,
        comments_allowed,
        family_sharing,
        hold_family_comments,
        family_sees_ratings,
    } = change;
    store.write(|tx| {
        let class = super::classes::managed(tx.txn(), actor, class)?;
        tx.record(
            class.school,
            Scope::Class(class.id),
            Some(actor.id),
            Change::ClassSettingsChanged {
                class: class.id,
                require_approval,
                comments_allowed,
                family_sharing,
                hold_family_comments,
                family_sees_ratings,
            },
        )?;
        Ok(())
    })
}

/// Links a family account to a student (admins).
pub fn link_family(store: &Store, actor: &User, family: UserId, student: UserId) -> Result<()> {
    if actor.role != Role::Admin {
        return Err(Error::forbidden("Only an administrator can link family accounts."));
    }
    store.write(|tx| {
        let f = tx.txn().user(family)?.filter(|u| u.school == actor.school && u.role == Role::Family);
        let s = tx.txn().user(student)?.filter(|u| u.school == actor.school && u.role == Role::Student);
        let (Some(_), Some(s)) = (f, s) else {
            return Err(Error::Invalid("Link a family account to a student of this school.".into()));
        };
        tx.record(actor.school, Scope::Person(s.id), Some(actor.id), Change::FamilyLinked { family, student })?;
        Ok(())
    })
}

/// Erases a person for a privacy request (admins). Returns the blob hashes their files used.
/// What an erasure leaves for the caller to remove from disk.
#[derive(Debug, Default)]
pub struct Erasure {
    /// Blobs the person's work (and finished uploads) used, to collect if nothing else does.
    pub hashes: Vec<String>,
    /// The person's resumable uploads, whose rows are gone: their unfinished files go too.
    pub uploads: Vec<UploadId>,
}

pub fn erase_user(store: &Store, actor: &User, user: UserId) -> Result<Erasure> {
    if actor.role != Role::Admin {
        return Err(Error::forbidden("Only an administrator can erase a person."));
    }
    store.write(|tx| {
        let Some(person) = tx.txn().user(user)?.filter(|u| u.school == actor.school) else {
            return Err(Error::NotFound);
        };
        if person.id == actor.id {
            return Err(Error::forbidden("You cannot erase your own account."));
        }
        let mut hashes = Vec::new();
        for artifact in tx.txn().artifacts_of_owner(user)? {
            hashes.extend(artifact.files().map(|f| f.hash.clone()));
            hashes.extend(tx.txn().comments(artifact.id)?.into_iter().filter_map(|c| c.audio.map(|a| a.hash)));
        }
        // In the school's partition, so the erasure reaches every box that holds anything of
        // the school, whichever classes it was granted.
        tx.record(person.school, Scope::School, Some(actor.id), Change::UserErased { user })?;
        sessions::remove_for_user(tx.txn(), user, None)?;
        let mut uploads = Vec::new();
        for (id, _) in store_uploads::of_owner(tx.txn(), user, 0)? {
            if let Some(finished) = store_uploads::remove(tx.txn(), id)?.and_then(|u| u.finished) {
                hashes.push(finished.hash);
            }
            uploads.push(id);
        }
        Ok(Erasure { hashes, uploads })
    })
}

/// Bytes a student's portfolio holds (each file counted once per artifact).
/// The bytes a student's quota has given out: their work's files, and the sizes of their
/// resumable uploads that are live (unfinished, or finished and not yet used).
pub fn used_bytes(store: &Store, student: UserId) -> Result<u64> {
    store.read(|r| used_bytes_in(r, student, wall_clock_ms()))
}

pub fn used_bytes_in(r: &impl ReadTables, student: UserId, now_ms: u64) -> Result<u64> {
    let files: u64 = r.artifacts_of_owner(student)?.iter().flat_map(|a| a.files()).map(|f| f.size).sum();
    let reserved: u64 = store_uploads::of_owner(r, student, now_ms)?.iter().map(|(_, u)| u.reserved()).sum();
    Ok(files + reserved)
}
