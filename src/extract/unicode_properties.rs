//! The text readers under arbitrary Unicode (issue 20: every text path of search). Nothing
//! may panic; HTML without markup keeps exactly its words; text is never longer than asked.

use proptest::prelude::*;

use super::*;

use super::html::html_to_text;

const ODD: &[&str] = &[
    "\u{a0}",
    "\u{3000}",
    "\u{2003}",
    "\u{85}",
    "\u{200b}",
    "\u{feff}",
    "\r\n",
    "e\u{301}",
    "👩‍🔬",
    "火山",
    "ß",
    "&amp;",
    "&nbsp;",
    "&#x3000;",
    "&#12354;",
    "&#0;",
    "&#xD800;",
    "&#99999999;",
    "&",
    ";",
    "<",
    ">",
    "<p>",
    "</p>",
    "<br/>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<a href=\"x\">",
    "<style",
    "\u{10ffff}",
];

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "[a-zA-Zà-ÿ0-9 ]{1,10}",
        3 => prop::sample::select(ODD).prop_map(str::to_string),
        2 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|p| p.concat())
}

fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn html_never_panics_and_plain_text_keeps_its_words(html in text()) {
        let out = html_to_text(&html);
        prop_assert!(!out.starts_with(char::is_whitespace) && !out.ends_with(char::is_whitespace), "{out:?}");
        if !html.contains(['<', '&']) {
            prop_assert_eq!(words(&out), words(&html));
        }
    }

    #[test]
    fn extracted_text_is_at_most_what_was_asked(content in text(), bytes in prop::collection::vec(any::<u8>(), 0..64),
                                                max_chars in 0usize..64) {
        let dir = tempfile::tempdir().unwrap();
        for (name, data) in [("a.html", content.as_bytes()), ("a.txt", content.as_bytes()), ("b.txt", &bytes[..]),
                             ("b.html", &bytes[..])] {
            let path = dir.path().join(name);
            std::fs::write(&path, data).unwrap();
            if let Some(text) = extract_text(&path, name, max_chars) {
                prop_assert!(text.chars().count() <= max_chars, "{name}: {text:?}");
            }
        }
    }
}
