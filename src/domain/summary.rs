//! What the lists of work show about one piece of work (a portfolio's tiles, "3 new
//! feedback", the review queue, comments waiting for a teacher), worked out from the artifact
//! and its comments. The store keeps one per live artifact, refreshed by `apply` in the
//! transaction of every change to the artifact or its comments (`store::summaries`), so
//! those pages read one small record per piece instead of the artifact and every comment on
//! it.

use serde::{Deserialize, Serialize};

use super::work::thumbnailable;
use super::{ActivityId, Artifact, ArtifactId, ClassId, Comment, CommentKind, FileId, SchoolId, UserId, VersionId};
use super::{Visibility, policy::Work};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub id: ArtifactId,
    pub school: SchoolId,
    pub owners: Vec<UserId>,
    pub class: Option<ClassId>,
    pub activity: Option<ActivityId>,
    pub title: String,
    pub kind: String,
    pub visibility: Visibility,
    pub approved: bool,
    pub reviewed: bool,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub versions: u32,
    pub latest_version: Option<VersionId>,
    /// The content type of the latest version's first file, which names the work's kind.
    pub latest_type: Option<String>,
    /// The latest version's first file that has a thumbnail.
    pub thumbnail: Option<FileId>,
    /// Comments (not feedback) that others see, and those held for a teacher.
    pub comments: u32,
    pub held: u32,
    /// Teachers' feedback: who gave it and when (ms), oldest first, for "new since seen".
    pub feedback: Vec<(UserId, u64)>,
}

impl Summary {
    /// The summary of a piece of work and its comments. The store keeps one for live work
    /// only (`store::summaries`).
    pub fn of(artifact: &Artifact, comments: &[Comment]) -> Summary {
        let latest = artifact.latest();
        let mut summary = Summary {
            id: artifact.id,
            school: artifact.school,
            owners: artifact.owners.clone(),
            class: artifact.class,
            activity: artifact.activity,
            title: artifact.title.clone(),
            kind: artifact.kind.clone(),
            visibility: artifact.visibility,
            approved: artifact.approved,
            reviewed: artifact.reviewed,
            created_ms: artifact.created_ms,
            updated_ms: artifact.updated_ms,
            versions: artifact.versions.len() as u32,
            latest_version: latest.map(|v| v.id),
            latest_type: latest.and_then(|v| v.files.first()).map(|f| f.content_type.clone()),
            thumbnail: latest.and_then(|v| v.files.iter().find(|f| thumbnailable(&f.content_type))).map(|f| f.id),
            comments: 0,
            held: 0,
            feedback: Vec::new(),
        };
        for comment in comments {
            summary.tally(comment);
        }
        summary.feedback.sort_by_key(|&(author, ms)| (ms, author));
        summary
    }

    /// The summary once `comment` is added to the work: the same as [`Summary::of`] the work
    /// with all its comments, without reading the others (the store's way when a comment is
    /// posted, so a comment costs the same on work with thousands of them).
    pub fn with_comment(mut self, comment: &Comment) -> Summary {
        self.tally(comment);
        self.feedback.sort_by_key(|&(author, ms)| (ms, author));
        self
    }

    /// Counts one comment, leaving the feedback to be sorted.
    fn tally(&mut self, comment: &Comment) {
        match comment.kind {
            CommentKind::Feedback => self.feedback.push((comment.author, comment.created_ms)),
            CommentKind::Comment if comment.approved => self.comments += 1,
            CommentKind::Comment => self.held += 1,
        }
    }

    /// Feedback given after `seen_ms`, by someone other than `reader`.
    pub fn feedback_since(&self, seen_ms: u64, reader: UserId) -> usize {
        self.feedback.iter().filter(|&&(author, ms)| ms > seen_ms && author != reader).count()
    }

    /// What `policy` needs to know about the work.
    pub fn work(&self) -> Work<'_> {
        Work {
            school: self.school,
            owners: &self.owners,
            class: self.class,
            approved: self.approved,
            deleted: false,
            visibility: self.visibility,
        }
    }
}
