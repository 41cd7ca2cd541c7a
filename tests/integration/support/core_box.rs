//! [`TestCore`]: a box's core without a server, for tests that drive the library directly
//! (bundles, peer file transfers), opened the one way folio opens a box.

use std::ops::Deref;
use std::path::{Path, PathBuf};

/// The configuration every test box starts from: its data directory, and no mDNS (tests
/// must not announce themselves on the host's network).
pub fn test_config(data_dir: PathBuf) -> folio::Config {
    folio::Config { data_dir, mdns: false, ..folio::Config::default() }
}

/// An open [`folio::Folio`] on a temporary data directory, with no workers and no listeners;
/// the directory is removed when it is dropped.
pub struct TestCore {
    folio: folio::Folio,
    dir: tempfile::TempDir,
}

impl TestCore {
    pub fn open() -> TestCore {
        Self::open_with(|_| {})
    }

    /// [`open`](Self::open), with `tweak` changing the configuration first. Blocking (a box
    /// whose files are on a bucket checks the bucket): call it off the async threads.
    pub fn open_with(tweak: impl FnOnce(&mut folio::Config)) -> TestCore {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path().to_path_buf());
        tweak(&mut config);
        let folio = folio::Folio::open(config, None).unwrap();
        TestCore { folio, dir }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn folio(&self) -> &folio::Folio {
        &self.folio
    }
}

impl Deref for TestCore {
    type Target = folio::Folio;

    fn deref(&self) -> &folio::Folio {
        &self.folio
    }
}
