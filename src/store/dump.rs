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

use redb::{Key, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle, Value};

use super::tables::*;
use super::{Store, StoreError};

/// Table name -> rows ("key => value", values decoded from their JSON where they are records).
pub type Dump = BTreeMap<String, Vec<String>>;

impl Store {
    pub fn canonical_dump(&self) -> Result<Dump, StoreError> {
        let txn = self.db.begin_read()?;
        let mut dump = Dump::new();
        macro_rules! rows {
            ($($table:ident),* $(,)?) => {$(
                dump.insert($table.name().to_string(), rows(&txn, $table)?);
            )*};
        }
        rows!(
            OPLOG,
            SCHOOL_PARTITION_ORIGIN_SEQ,
            SCHOOL_ID_TO_SCHOOL,
            USER_ID_TO_USER,
            SCHOOL_USERNAME_TO_USER_ID,
            SCHOOL_EXTERNAL_ID_TO_ID,
            CLASS_ID_TO_CLASS,
            JOIN_CODE_TO_CLASS_ID,
            CLASS_USER_TO_MEMBERSHIP,
            USER_CLASS_TO_ROLE,
            QR_TOKEN_HASH_TO_USER_ID,
            ARTIFACT_ID_TO_ARTIFACT,
            OWNER_ARTIFACT,
            CLASS_ARTIFACT,
            ACTIVITY_ARTIFACT,
            ARTIFACT_COMMENT_TO_COMMENT,
            ACTIVITY_ID_TO_ACTIVITY,
            CLASS_ACTIVITY,
            BLOB_HASH_FILE,
            FAMILY_STUDENT_TO_LINK,
            STUDENT_FAMILY,
            ERASED_USER_TO_HLC,
            ARTIFACT_HLC_TO_REFLECTION_EDIT,
            ERASED_ARTIFACT,
        );
        Ok(dump)
    }
}

fn rows<K: Key + 'static, V: Value + 'static>(
    txn: &ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<Vec<String>, StoreError>
where
    for<'a> K::SelfType<'a>: std::fmt::Debug,
    for<'a> V::SelfType<'a>: std::fmt::Debug,
{
    let table = txn.open_table(def)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        let value = format!("{:?}", v.value());
        out.push(format!("{:?} => {}", k.value(), readable(&value)));
    }
    Ok(out)
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
