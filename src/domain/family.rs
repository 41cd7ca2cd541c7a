//! Family invitation sheets as values: how long a sheet lasts, how many family members may
//! join with one, and the short code printed on it (typed by people, so it is read
//! forgivingly: any case, dashes or spaces anywhere; the letters people confuse with digits
//! are not used).

use super::{ClassId, SchoolId, UserId};

/// A sheet is good for 60 days after it is printed.
pub const SHEET_LIFETIME_MS: u64 = 60 * 24 * 60 * 60 * 1000;

/// How many family members may join with one sheet (a sibling joined by someone already
/// linked through it does not count twice).
pub const MEMBERS_PER_SHEET: usize = 4;

/// The letters of a code: digits and capitals without 0, 1, I and O, which people mix up.
pub const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters in a code: 12 of 32 letters, 60 bits, guessed only through the sign-in throttle.
pub const CODE_LEN: usize = 12;

/// A code made of `CODE_LEN` random bytes (each taken modulo the alphabet's 32 letters,
/// which 256 divides, so every letter is equally likely).
pub fn code_from_bytes(bytes: &[u8; CODE_LEN]) -> String {
    bytes.iter().map(|b| CODE_ALPHABET[usize::from(b % 32)] as char).collect()
}

/// A code the way a person typed it, as it is stored: capitals, no separators. The alphabet
/// has none of 0, O, 1 and I, so a code read wrongly is refused rather than matched to
/// another. `None` when it cannot be a code at all.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !matches!(c, '-' | ' ' | '\u{a0}' | '.')).map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A code as it is printed: three groups of four, easier to copy by hand.
pub fn display_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A printed sheet, as the box that printed it keeps it (under the hash of its code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sheet {
    pub school: SchoolId,
    pub student: UserId,
    /// The class it was printed for: its family-sharing setting decides what the family sees.
    pub class: ClassId,
    /// The teacher or administrator who printed it: the author of the accounts it makes.
    pub issued_by: UserId,
    pub made_ms: u64,
    pub expires_ms: u64,
    /// The family members who joined with it.
    pub joined: Vec<UserId>,
}

impl Sheet {
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_ms
    }

    /// Whether `member` may still join with this sheet: one already counted may use it again
    /// (joining a sibling twice is harmless), a new one only while places are left.
    pub fn has_room_for(&self, member: Option<UserId>) -> bool {
        member.is_some_and(|m| self.joined.contains(&m)) || self.joined.len() < MEMBERS_PER_SHEET
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_of_the_alphabet_survives_typing() {
        for b in 0..=255u8 {
            let code = code_from_bytes(&[b; CODE_LEN]);
            assert_eq!(normalize_code(&display_code(&code).to_lowercase()), Some(code));
        }
    }

    #[test]
    fn typed_codes_are_read_forgivingly() {
        let code = code_from_bytes(&[0, 1, 2, 3, 31, 32, 63, 255, 100, 7, 8, 9]);
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(normalize_code(&display_code(&code)), Some(code.clone()));
        assert_eq!(normalize_code(&display_code(&code).to_lowercase()), Some(code.clone()));
        assert_eq!(normalize_code(&format!(" {code} ")), Some(code));
        assert_eq!(normalize_code("ABCD-EFGH-JKLO"), None, "no code has an O");
        assert_eq!(normalize_code("ABCD-EFGH-JK"), None);
        assert_eq!(normalize_code("ABCD-EFGH-JKM\u{e9}"), None);
    }

    #[test]
    fn a_sheet_holds_four_members() {
        let mut sheet = Sheet {
            school: SchoolId::new(),
            student: UserId::new(),
            class: ClassId::new(),
            issued_by: UserId::new(),
            made_ms: 0,
            expires_ms: SHEET_LIFETIME_MS,
            joined: Vec::new(),
        };
        for _ in 0..MEMBERS_PER_SHEET {
            assert!(sheet.has_room_for(None));
            sheet.joined.push(UserId::new());
        }
        assert!(!sheet.has_room_for(None));
        assert!(!sheet.has_room_for(Some(UserId::new())));
        assert!(sheet.has_room_for(Some(sheet.joined[0])));
        assert!(!sheet.expired(SHEET_LIFETIME_MS - 1) && sheet.expired(SHEET_LIFETIME_MS));
    }
}
