//! The blobs in use by work not yet recorded (an upload whose operation is not committed)
//! or by a backup copying files: the collection of unused blobs leaves them alone.

/// Blobs stored by uploads whose operation is not committed yet. The collector never removes
/// them: a new upload may have been deduplicated onto a blob that a delete, a moment ago,
/// left without rows. A backup holds *every* blob ([`InFlight::hold_all`]) while it copies
/// the files its snapshot names.
#[derive(Clone, Default)]
pub struct InFlight(std::sync::Arc<Shared>);

#[derive(Default)]
struct Shared {
    held: std::sync::Mutex<Held>,
    /// Wakes holds waiting for a removal of their blob to finish.
    removed: std::sync::Condvar,
}

#[derive(Default)]
struct Held {
    hashes: std::collections::HashMap<String, usize>,
    /// How many holds on every blob (backups) are active.
    all: usize,
    /// Blobs being removed now. The removal runs outside the lock (on a bucket it is a
    /// request that may take seconds, and holds are taken on async threads); a hold on one of
    /// them waits until it is gone, so the upload that takes it stores its content anew.
    removing: std::collections::HashSet<String>,
}

impl InFlight {
    /// Marks a blob as in use until the returned guard is dropped. Waits while that blob is
    /// being removed.
    pub fn hold(&self, hash: &str) -> InFlightGuard {
        let mut held = self.0.held.lock().unwrap();
        while held.removing.contains(hash) {
            held = self.0.removed.wait(held).unwrap();
        }
        *held.hashes.entry(hash.to_string()).or_default() += 1;
        InFlightGuard { set: self.clone(), hash: Some(hash.to_string()) }
    }

    /// Keeps the collector from removing any blob until the guard is dropped. Removals
    /// already decided finish first, so once this returns, every file a row names stays.
    pub fn hold_all(&self) -> InFlightGuard {
        let mut held = self.0.held.lock().unwrap();
        held.all += 1;
        while !held.removing.is_empty() {
            held = self.0.removed.wait(held).unwrap();
        }
        InFlightGuard { set: self.clone(), hash: None }
    }

    /// Removes the blob with `remove` if nobody holds it and `unused` still says so. The
    /// decision is made under the lock; a hold asked for meanwhile waits for the removal.
    /// Returns whether it ran.
    pub(crate) fn remove_unless_held<E>(
        &self,
        hash: &str,
        unused: impl FnOnce() -> Result<bool, E>,
        remove: impl FnOnce() -> Result<(), E>,
    ) -> Result<bool, E> {
        {
            let mut held = self.0.held.lock().unwrap();
            if held.all > 0 || held.hashes.contains_key(hash) || held.removing.contains(hash) || !unused()? {
                return Ok(false);
            }
            held.removing.insert(hash.to_string());
        }
        let removed = remove();
        self.0.held.lock().unwrap().removing.remove(hash);
        self.0.removed.notify_all();
        removed.map(|()| true)
    }
}

pub struct InFlightGuard {
    set: InFlight,
    /// `None` for a hold on every blob.
    hash: Option<String>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut held = self.set.0.held.lock().unwrap();
        match &self.hash {
            None => held.all -= 1,
            Some(hash) => {
                if let Some(n) = held.hashes.get_mut(hash) {
                    *n -= 1;
                    if *n == 0 {
                        held.hashes.remove(hash);
                    }
                }
            }
        }
    }
}
