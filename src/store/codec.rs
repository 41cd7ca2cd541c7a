//! How values are written: one version byte, then JSON. JSON keeps records readable in a
//! debugger and tolerant of added fields (`#[serde(default)]`); the version byte is where a
//! future incompatible encoding will be recognised and migrated forward.

use serde::{Serialize, de::DeserializeOwned};

use super::StoreError;

const ENCODING_V1: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![ENCODING_V1];
    // Serialising our own plain structs to JSON cannot fail.
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&ENCODING_V1, rest)) => {
            serde_json::from_slice(rest).map_err(|e| StoreError::Corrupt(format!("a record cannot be decoded: {e}")))
        }
        Some((v, _)) => Err(StoreError::Corrupt(format!("a record has unknown encoding {v}"))),
        None => Err(StoreError::Corrupt("a record is empty".into())),
    }
}
