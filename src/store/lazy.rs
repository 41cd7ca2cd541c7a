//! Local bookkeeping written lazily: when a person last opened a piece of work ("seen"
//! marks, for the "new feedback" counts) and when a session was last used (its idle
//! timeout). Both are local to this box, never operations.
//!
//! Opening a page must not cost a durable write (an fsync per view, and every view waiting
//! its turn behind the writers), so these are kept in memory at once and written with the
//! next write transaction of any kind, or by the flush the workers run every few seconds
//! and at shutdown (`app`). Readers take the newer of memory and table, so a person sees
//! their own mark at once. On power loss the last few seconds of them are lost: a piece of
//! feedback may show as new once more, a session may time out a few seconds early.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use redb::{ReadableTable, WriteTransaction};

use super::tables::USER_ARTIFACT_SEEN_MS;
use super::{Queries, ReadTables, StoreError, sessions};
use crate::domain::{ArtifactId, UserId};

/// What is not written yet. Cheap to clone; one per store.
#[derive(Clone, Default)]
pub(super) struct Pending(Arc<Mutex<Marks>>);

#[derive(Default)]
struct Marks {
    /// (person, work) → when they last opened it (ms).
    seen: HashMap<(UserId, ArtifactId), u64>,
    /// A session's id hash → when it was last used (ms).
    used: HashMap<[u8; 32], u64>,
}

fn newer(slot: &mut u64, at: u64) {
    *slot = (*slot).max(at);
}

impl Pending {
    fn marks(&self) -> MutexGuard<'_, Marks> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn seen(&self, user: UserId, artifact: ArtifactId, at_ms: u64) {
        newer(self.marks().seen.entry((user, artifact)).or_default(), at_ms);
    }

    pub(super) fn used(&self, session: [u8; 32], at_ms: u64) {
        newer(self.marks().used.entry(session).or_default(), at_ms);
    }

    pub(super) fn seen_at(&self, user: UserId, artifact: ArtifactId) -> u64 {
        self.marks().seen.get(&(user, artifact)).copied().unwrap_or(0)
    }

    pub(super) fn used_at(&self, session: [u8; 32]) -> u64 {
        self.marks().used.get(&session).copied().unwrap_or(0)
    }

    pub(super) fn is_empty(&self) -> bool {
        let marks = self.marks();
        marks.seen.is_empty() && marks.used.is_empty()
    }

    /// Writes everything pending into `txn`, and returns what it wrote, to be forgotten with
    /// [`Pending::forget`] once `txn` has committed (until then readers still find it here).
    /// A mark whose person, work or session is gone meanwhile (deleted, erased, signed out)
    /// is not written: nothing is written about an erased person, and no session comes back.
    pub(super) fn write_into(&self, txn: &WriteTransaction) -> Result<Written, StoreError> {
        let (seen, used) = {
            let marks = self.marks();
            (marks.seen.clone(), marks.used.clone())
        };
        if !seen.is_empty() {
            let mut table = txn.open_table(USER_ARTIFACT_SEEN_MS)?;
            for (&(user, artifact), &at) in &seen {
                if txn.user(user)?.is_none() || txn.artifact(artifact)?.is_none() {
                    continue;
                }
                let key = (user.bytes(), artifact.bytes());
                let stored = table.get(key)?.map_or(0, |v| v.value());
                table.insert(key, stored.max(at))?;
            }
        }
        for (&hash, &at) in &used {
            if let Some(mut session) = sessions::get(txn, hash)?
                && session.last_seen_ms < at
            {
                session.last_seen_ms = at;
                sessions::put(txn, hash, &session)?;
            }
        }
        Ok(Written(Marks { seen, used }))
    }

    /// Forgets what a committed transaction wrote, except marks that moved on since.
    pub(super) fn forget(&self, written: Written) {
        let mut marks = self.marks();
        for (key, at) in written.0.seen {
            if marks.seen.get(&key) == Some(&at) {
                marks.seen.remove(&key);
            }
        }
        for (key, at) in written.0.used {
            if marks.used.get(&key) == Some(&at) {
                marks.used.remove(&key);
            }
        }
    }
}

/// What one transaction wrote of the pending marks.
pub(super) struct Written(Marks);

/// When `user` last opened `artifact` (0: never), as `r` has it or newer from memory.
pub(super) fn seen_ms(
    pending: &Pending,
    r: &impl ReadTables,
    user: UserId,
    artifact: ArtifactId,
) -> Result<u64, StoreError> {
    Ok(r.seen_ms(user, artifact)?.max(pending.seen_at(user, artifact)))
}
