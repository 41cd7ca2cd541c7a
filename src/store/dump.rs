//! A canonical dump of everything boxes share: every table that sync must make identical on
//! boxes granted the same data, row by row, in key order, as text. Tests compare the dumps of
//! replicas to show they converged.
//!
//! Left out, because they describe one box and not the school's data: settings (`meta`:
//! replica id, clock, setup state), sessions, "last seen" times, the search and thumbnail
//! to-do lists, operations waiting for their record, where files belong and which are still
//! on their way (`store::file_index`), and positions (which say how a box came
//! by its operations, not what they are).

use std::collections::BTreeMap;

use redb::ReadableDatabase;

use super::tables::ALL;
use super::{Store, StoreError};

/// Table name -> rows ("key => value", values decoded from their JSON where they are records).
pub type Dump = BTreeMap<String, Vec<String>>;

impl Store {
    pub fn canonical_dump(&self) -> Result<Dump, StoreError> {
        let txn = self.db.begin_read()?;
        let mut dump = Dump::new();
        for table in ALL.iter().filter(|t| t.kind().converges()) {
            let rows = table.debug_rows(&txn)?.into_iter().map(|(k, v)| format!("{k} => {}", readable(&v)));
            dump.insert(table.name().to_string(), rows.collect());
        }
        Ok(dump)
    }
}

/// Encoded records print as byte lists; show their JSON instead, so a failing comparison can
/// be read.
fn readable(debug: &str) -> String {
    let Some(inner) = debug.strip_prefix('[').and_then(|d| d.strip_suffix(']')) else { return debug.to_string() };
    let bytes: Option<Vec<u8>> = inner.split(", ").map(|b| b.parse::<u8>().ok()).collect();
    match bytes {
        Some(bytes) if bytes.first() == Some(&1) && bytes.get(1).is_some_and(|b| *b == b'{' || *b == b'"') => {
            String::from_utf8_lossy(&bytes[1..]).into_owned()
        }
        _ => debug.to_string(),
    }
}
