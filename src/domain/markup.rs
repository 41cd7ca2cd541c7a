//! Text made safe to stand inside HTML or XML (SVG charts, search snippets, the device
//! profile), written once so every place that builds markup by hand escapes alike.

/// `text` with the five markup characters replaced by entities, fit for element content and
/// for attribute values in either quote. Control characters (line breaks, tabs, NUL, escape
/// and the rest) become spaces: XML 1.0 forbids most of them outright, and in a one-line
/// snippet or label a line break would only show as an odd gap.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>Tom & Jerry</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;"
        );
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(escape("one\ntwo\r\nthree\tfour"), "one two  three four");
        assert_eq!(escape("nul\u{0}esc\u{1b}del\u{7f}c1\u{85}"), "nul esc del c1 ");
    }

    #[test]
    fn other_text_is_kept_as_it_is() {
        let text = "Ana's ½ — مرحبا \u{2068}isolated\u{2069} 😀";
        assert_eq!(escape(text), text.replace('\'', "&#39;"));
    }
}
