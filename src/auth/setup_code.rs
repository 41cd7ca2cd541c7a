//! The one-time setup code. Until a school exists, folio prints a code at start and writes it
//! to `<data>/setup-code`; whoever can read the console or the data directory (the installer)
//! can finish setup, and nobody else can. There is never a default password.

use std::path::{Path, PathBuf};

use crate::domain::school::JOIN_CODE_ALPHABET;

pub const FILE_NAME: &str = "setup-code";
pub const META_KEY: &str = "setup_code";

pub fn generate() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut pick = || JOIN_CODE_ALPHABET[rng.random_range(0..JOIN_CODE_ALPHABET.len())] as char;
    let a: String = (0..4).map(|_| pick()).collect();
    let b: String = (0..4).map(|_| pick()).collect();
    format!("{a}-{b}")
}

/// Codes are compared without dashes, spaces or case, the way people type them.
pub fn matches(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    let norm = |s: &str| crate::domain::school::normalize_join_code(s);
    let (a, b) = (norm(expected), norm(given));
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Writes the code where the installer can read it, readable by the owner only.
pub fn write_file(data_dir: &Path, code: &str) -> std::io::Result<()> {
    let path = path(data_dir);
    std::fs::write(&path, format!("{code}\n"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

pub fn remove_file(data_dir: &Path) {
    let _ = std::fs::remove_file(path(data_dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_as_people_type_them() {
        let code = generate();
        assert_eq!(code.len(), 9);
        assert!(matches(&code, &code.to_lowercase().replace('-', " ")));
        assert!(!matches(&code, "AAAA-AAAA"));
        assert!(!matches(&code, ""));
    }
}
