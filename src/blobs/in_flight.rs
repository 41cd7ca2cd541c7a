//! The blobs in use by work not yet recorded (an upload whose operation is not committed)
//! or by a backup copying files: the collection of unused blobs leaves them alone.

/// Blobs stored by uploads whose operation is not committed yet. The collector never removes
/// them: a new upload may have been deduplicated onto a blob that a delete, a moment ago,
/// left without rows. A backup holds *every* blob ([`InFlight::hold_all`]) while it copies
/// the files its snapshot names.
#[derive(Clone, Default)]
pub struct InFlight(std::sync::Arc<std::sync::Mutex<Held>>);

#[derive(Default)]
struct Held {
    hashes: std::collections::HashMap<String, usize>,
    /// How many holds on every blob (backups) are active.
    all: usize,
}

impl InFlight {
    /// Marks a blob as in use until the returned guard is dropped.
    pub fn hold(&self, hash: &str) -> InFlightGuard {
        *self.0.lock().unwrap().hashes.entry(hash.to_string()).or_default() += 1;
        InFlightGuard { set: self.clone(), hash: Some(hash.to_string()) }
    }

    /// Keeps the collector from removing any blob until the guard is dropped. A collection
    /// already deciding about a blob finishes first (it holds the same lock), so once this
    /// returns, every file a row names stays on disk.
    pub fn hold_all(&self) -> InFlightGuard {
        self.0.lock().unwrap().all += 1;
        InFlightGuard { set: self.clone(), hash: None }
    }

    /// Removes the blob with `remove` if nobody holds it and `unused` still says so, all
    /// under the lock, so a hold taken meanwhile is never overtaken. Returns whether it ran.
    pub(crate) fn remove_unless_held<E>(
        &self,
        hash: &str,
        unused: impl FnOnce() -> Result<bool, E>,
        remove: impl FnOnce() -> Result<(), E>,
    ) -> Result<bool, E> {
        let held = self.0.lock().unwrap();
        if held.all > 0 || held.hashes.contains_key(hash) || !unused()? {
            return Ok(false);
        }
        remove()?;
        Ok(true)
    }
}

pub struct InFlightGuard {
    set: InFlight,
    /// `None` for a hold on every blob.
    hash: Option<String>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut held = self.set.0.lock().unwrap();
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
