//! Resumable uploads (the tus 1.0 protocol): the words of the protocol that need no I/O.
//! An upload's id, the `Upload-Metadata` header (`key base64value` pairs, comma-separated),
//! the digest a client may announce to have the finished file checked, and the numbers tus
//! headers carry.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::Invalid;

/// An upload in progress. Unlike entity ids it is not time-ordered: it is 128 random bits,
/// because whoever knows it may write into the upload (the owner check comes on top).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UploadId(pub [u8; 16]);

impl UploadId {
    pub fn random() -> Self {
        UploadId(rand::random())
    }

    pub fn bytes(&self) -> [u8; 16] {
        self.0
    }

    /// Accepts the id itself or the `Location` it was given as (a path or a full URL ending
    /// in `/api/v1/uploads/{id}`), so a client may pass back whatever it kept.
    pub fn from_reference(reference: &str) -> Option<UploadId> {
        let reference = reference.trim();
        let tail = match reference.rsplit_once("/api/v1/uploads/") {
            Some((_, tail)) => tail,
            None if !reference.contains('/') => reference,
            None => return None,
        };
        tail.trim_end_matches('/').parse().ok()
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UploadId({self})")
    }
}

impl FromStr for UploadId {
    type Err = Invalid;
    /// Exactly 32 lowercase hex digits: the form [`Display`](fmt::Display) gives.
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("That is not an upload id.");
        let s = s.as_bytes();
        if s.len() != 32 {
            return Err(bad());
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 16];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            out[i] = (digit(pair[0]).ok_or_else(bad)? << 4) | digit(pair[1]).ok_or_else(bad)?;
        }
        Ok(UploadId(out))
    }
}

impl Serialize for UploadId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UploadId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A whole-file digest the client announced in `Upload-Metadata` (`sha256` or `blake3`, as
/// hex). The finished upload must match it, or it is thrown away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "algorithm", content = "hex", rename_all = "lowercase")]
pub enum Checksum {
    #[serde(with = "hex32")]
    Sha256([u8; 32]),
    #[serde(with = "hex32")]
    Blake3([u8; 32]),
}

impl Checksum {
    pub fn name(&self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "sha256",
            Checksum::Blake3(_) => "blake3",
        }
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        super::parse_hex32(&s).ok_or_else(|| serde::de::Error::custom("a digest is 64 hex digits"))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits (either case) as 32 bytes.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// What `Upload-Metadata` said, with the keys folio understands picked out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `filename`, as the client sent it (sanitise before showing).
    pub filename: Option<String>,
    /// `filetype`: the client's word for the type, kept but never trusted.
    pub filetype: Option<String>,
    pub checksum: Option<Checksum>,
}

/// The longest `Upload-Metadata` header accepted: a name, a type and a digest fit easily.
pub const MAX_METADATA_LEN: usize = 4096;

/// Parses the tus `Upload-Metadata` header: comma-separated pairs of a key (ASCII, no
/// spaces or commas, unique) and an optional base64 value. Unknown keys are allowed and
/// ignored. Values of the keys folio uses must be UTF-8; a digest must be 64 hex digits.
pub fn parse_metadata(header: &str) -> Result<Metadata, Invalid> {
    if header.len() > MAX_METADATA_LEN {
        return Err(Invalid::new(format!("Upload-Metadata is too long: at most {MAX_METADATA_LEN} characters.")));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut found = Metadata::default();
    let mut checksum_keys = 0;
    for pair in header.split(',') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or("");
        let value = parts.next();
        if parts.next().is_some() {
            return Err(Invalid::new(format!("Upload-Metadata: \"{key}\" has more than one value.")));
        }
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Invalid::new("Upload-Metadata: a key is empty or not plain ASCII."));
        }
        if seen.contains(&key) {
            return Err(Invalid::new(format!("Upload-Metadata: the key \"{key}\" appears twice.")));
        }
        seen.push(key);
        let decoded = match value {
            None => Vec::new(),
            Some(v) => base64::engine::general_purpose::STANDARD
                .decode(v)
                .map_err(|_| Invalid::new(format!("Upload-Metadata: the value of \"{key}\" is not base64.")))?,
        };
        let text = || {
            String::from_utf8(decoded.clone())
                .map_err(|_| Invalid::new(format!("Upload-Metadata: the value of \"{key}\" is not UTF-8 text.")))
        };
        match key {
            "filename" => found.filename = Some(text()?),
            "filetype" => found.filetype = Some(text()?),
            "sha256" | "blake3" => {
                checksum_keys += 1;
                let digest = parse_hex32(text()?.trim()).ok_or_else(|| {
                    Invalid::new(format!("Upload-Metadata: \"{key}\" must be the file's digest as 64 hex digits."))
                })?;
                found.checksum =
                    Some(if key == "sha256" { Checksum::Sha256(digest) } else { Checksum::Blake3(digest) });
            }
            _ => {}
        }
    }
    if checksum_keys > 1 {
        return Err(Invalid::new("Upload-Metadata: give either sha256 or blake3, not both."));
    }
    Ok(found)
}

/// A tus number header (`Upload-Length`, `Upload-Offset`): decimal digits only, no sign, no
/// spaces, fits in 63 bits.
pub fn parse_size(name: &str, value: &str) -> Result<u64, Invalid> {
    let ok = !value.is_empty() && value.len() <= 19 && value.bytes().all(|b| b.is_ascii_digit());
    value
        .parse::<u64>()
        .ok()
        .filter(|n| ok && *n <= i64::MAX as u64)
        .ok_or_else(|| Invalid::new(format!("{name} must be a whole number of bytes, like 1048576.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn ids_print_and_parse_as_32_hex_digits_and_from_locations() {
        let id = UploadId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<UploadId>().unwrap(), id);
        assert_ne!(UploadId::random(), id);
        for reference in [
            text.clone(),
            format!("/api/v1/uploads/{text}"),
            format!("http://folio.local:8080/api/v1/uploads/{text}"),
            format!(" https://10.0.0.2/api/v1/uploads/{text}/ "),
        ] {
            assert_eq!(UploadId::from_reference(&reference), Some(id), "{reference}");
        }
        for bad in [
            "",
            &text[..31],
            &text.to_uppercase(),
            &format!("{text}0"),
            &format!("/api/v1/artifacts/{text}"),
            "../../etc/passwd",
            &format!("/x/{text}"),
        ] {
            assert_eq!(UploadId::from_reference(bad), None, "{bad}");
        }
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<UploadId>(&format!("\"{text}\"")).unwrap(), id);
    }

    #[test]
    fn metadata_is_parsed_as_tus_says() {
        let digest = "ab".repeat(32);
        let header = format!(
            "filename {},filetype {}, sha256 {},is_confidential, other {}",
            b64("Río trip.mp4"),
            b64("video/mp4"),
            b64(&digest),
            b64("x")
        );
        let m = parse_metadata(&header).unwrap();
        assert_eq!(m.filename.as_deref(), Some("Río trip.mp4"));
        assert_eq!(m.filetype.as_deref(), Some("video/mp4"));
        assert_eq!(m.checksum, Some(Checksum::Sha256([0xab; 32])));
        let m = parse_metadata(&format!("blake3 {}", b64(&digest.to_uppercase()))).unwrap();
        assert_eq!(m.checksum, Some(Checksum::Blake3([0xab; 32])));
        assert_eq!(parse_metadata("").unwrap(), Metadata::default());

        for bad in [
            "filename not*base64".to_string(),
            format!("filename {} {}", b64("a"), b64("b")),
            format!("filename {},filename {}", b64("a"), b64("b")),
            format!("sha256 {}", b64("abc")),
            format!("sha256 {},blake3 {}", b64(&digest), b64(&digest)),
            format!("filename {}", base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe])),
            format!("fïle {}", b64("a")),
            "x ".repeat(3000),
        ] {
            assert!(parse_metadata(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_are_plain_decimal_numbers() {
        assert_eq!(parse_size("Upload-Length", "0").unwrap(), 0);
        assert_eq!(parse_size("Upload-Length", "1073741824").unwrap(), 1 << 30);
        for bad in ["", "-1", "+5", " 5", "5 ", "1e9", "0x10", "99999999999999999999", "9223372036854775808"] {
            let err = parse_size("Upload-Offset", bad).unwrap_err();
            assert!(err.0.contains("Upload-Offset"), "{bad}");
        }
    }

    #[test]
    fn checksums_round_trip_through_json() {
        let c = Checksum::Blake3([7; 32]);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, format!("{{\"algorithm\":\"blake3\",\"hex\":\"{}\"}}", "07".repeat(32)));
        assert_eq!(serde_json::from_str::<Checksum>(&json).unwrap(), c);
    }
}
