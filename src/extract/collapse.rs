//! Whitespace collapsing, shared by the HTML and PDF readers.

/// Builds text in which every run of whitespace becomes one space, or one line break when a
/// block boundary fell inside the run. Leading and trailing whitespace is dropped.
pub(super) struct Collapser {
    out: String,
    pending: Gap,
}

/// The whitespace owed before the next visible character; a larger gap absorbs a smaller one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Gap {
    None,
    Space,
    Line,
}

impl Collapser {
    pub(super) fn new() -> Self {
        Collapser { out: String::new(), pending: Gap::None }
    }

    pub(super) fn push_str(&mut self, text: &str) {
        for c in text.chars() {
            self.push(c);
        }
    }

    pub(super) fn push(&mut self, c: char) {
        // Line breaks in the source are layout, not structure, so they count as spaces, and
        // so do control characters, which badly encoded PDFs produce and nobody searches for.
        if c.is_whitespace() || c.is_control() {
            self.gap(Gap::Space);
            return;
        }
        if !self.out.is_empty() {
            match self.pending {
                Gap::None => {}
                Gap::Space => self.out.push(' '),
                Gap::Line => self.out.push('\n'),
            }
        }
        self.pending = Gap::None;
        self.out.push(c);
    }

    pub(super) fn gap(&mut self, gap: Gap) {
        self.pending = self.pending.max(gap);
    }

    pub(super) fn len(&self) -> usize {
        self.out.len()
    }

    pub(super) fn finish(self) -> String {
        self.out
    }
}
