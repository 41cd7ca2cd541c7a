//! The pictures young students tap to sign in. Each has a word as well as an image, so the
//! grid is usable with a screen reader and by a child who is learning to read.

use super::Invalid;

/// (file stem under `web/static/pictures/`, the word shown and read out).
pub const PICTURES: [(&str, &str); 12] = [
    ("sun", "Sun"),
    ("moon", "Moon"),
    ("star", "Star"),
    ("heart", "Heart"),
    ("tree", "Tree"),
    ("fish", "Fish"),
    ("cat", "Cat"),
    ("apple", "Apple"),
    ("car", "Car"),
    ("house", "House"),
    ("flower", "Flower"),
    ("ball", "Ball"),
];

/// How many pictures make a sign-in sequence.
pub const SEQUENCE_LEN: usize = 3;

/// A sequence of picture indexes, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureSequence(Vec<usize>);

impl PictureSequence {
    pub fn new(indexes: Vec<usize>) -> Result<Self, Invalid> {
        if indexes.len() != SEQUENCE_LEN {
            return Err(Invalid::new(format!("Choose exactly {SEQUENCE_LEN} pictures.")));
        }
        if indexes.iter().any(|&i| i >= PICTURES.len()) {
            return Err(Invalid::new("That is not one of the pictures."));
        }
        Ok(PictureSequence(indexes))
    }

    /// Accepts indexes or picture names ("sun", "Moon").
    pub fn parse(items: &[String]) -> Result<Self, Invalid> {
        let indexes = items
            .iter()
            .map(|item| {
                let item = item.trim();
                item.parse::<usize>()
                    .ok()
                    .or_else(|| PICTURES.iter().position(|(stem, _)| stem.eq_ignore_ascii_case(item)))
                    .ok_or_else(|| Invalid::new(format!("\"{item}\" is not one of the pictures.")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(indexes)
    }

    pub fn random() -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        PictureSequence((0..SEQUENCE_LEN).map(|_| rng.random_range(0..PICTURES.len())).collect())
    }

    pub fn indexes(&self) -> &[usize] {
        &self.0
    }

    pub fn stems(&self) -> Vec<&'static str> {
        self.0.iter().map(|&i| PICTURES[i].0).collect()
    }

    /// (file stem, word) of each picture in order, for showing the sequence to a person.
    pub fn pictures(&self) -> Vec<(&'static str, &'static str)> {
        self.0.iter().map(|&i| PICTURES[i]).collect()
    }

    /// The string that is hashed and verified like a password.
    pub fn secret(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        format!("pictures:{}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_parse_names_and_indexes() {
        let s = PictureSequence::parse(&["sun".into(), "7".into(), "Ball".into()]).unwrap();
        assert_eq!(s.indexes(), &[0, 7, 11]);
        assert_eq!(s.secret(), "pictures:0,7,11");
        assert!(PictureSequence::parse(&["sun".into()]).is_err());
        assert!(PictureSequence::parse(&["sun".into(), "12".into(), "cat".into()]).is_err());
        assert!(PictureSequence::parse(&["sun".into(), "dog".into(), "cat".into()]).is_err());
    }
}
