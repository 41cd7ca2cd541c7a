//! How values are written: one version byte, then the value. Version 1 is JSON, which keeps
//! records readable in a debugger and tolerant of added fields (`#[serde(default)]`).
//! Version 2 is MessagePack with field names (`encode_compact`): as tolerant of added fields,
//! but ids are 16 raw bytes instead of 36 hex digits to parse, so hot records that pages read
//! many of at once (work summaries) decode several times faster. Every reader accepts both, so
//! a record can move from one to the other without a migration.

use serde::{Serialize, de::DeserializeOwned};

use super::StoreError;

const ENCODING_V1: u8 = 1;
const ENCODING_V2: u8 = 2;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![ENCODING_V1];
    // Serialising our own plain structs to JSON cannot fail.
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

/// The compact encoding (version 2), for records read in bulk.
pub fn encode_compact<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![ENCODING_V2];
    // Writing our own plain structs into a Vec cannot fail.
    rmp_serde::encode::write_named(&mut out, value).expect("records serialise to MessagePack");
    out
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("a record cannot be decoded: {e}"));
    match bytes.split_first() {
        Some((&ENCODING_V1, rest)) => serde_json::from_slice(rest).map_err(|e| corrupt(&e)),
        Some((&ENCODING_V2, rest)) => rmp_serde::from_slice(rest).map_err(|e| corrupt(&e)),
        Some((v, _)) => Err(StoreError::Corrupt(format!("a record has unknown encoding {v}"))),
        None => Err(StoreError::Corrupt("a record is empty".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Old {
        id: uuid::Uuid,
        name: String,
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct New {
        id: uuid::Uuid,
        name: String,
        #[serde(default)]
        added: u32,
    }

    #[test]
    fn both_encodings_read_back_and_tolerate_added_fields() {
        let old = Old { id: uuid::Uuid::new_v4(), name: "Ana".into() };
        for bytes in [encode(&old), encode_compact(&old)] {
            assert_eq!(decode::<Old>(&bytes).unwrap(), old);
            let new: New = decode(&bytes).unwrap();
            assert_eq!((new.id, new.name.as_str(), new.added), (old.id, "Ana", 0));
        }
        assert!(encode_compact(&old).len() < encode(&old).len(), "ids as bytes, not hex");
        assert!(decode::<Old>(&[2, 0xc1]).is_err(), "a bad record is an error, not a panic");
    }
}
