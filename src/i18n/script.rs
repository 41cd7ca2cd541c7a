//! The words of the scripts in `web/static` (ids starting `js-`, in each language's
//! `js.ftl`), handed to every page as JSON in its `<script id="folio-messages">`. Scripts
//! run no Fluent of their own, so each message is said here, in the page's language, with
//! `{name}` left where a value goes; a message that counts (`$count`) is said once per CLDR
//! plural category of the language, and the script picks the form with `Intl.PluralRules`:
//!
//! ```text
//! "js-cancel": "Cancel",
//! "js-files": {"one": "{count} file", "other": "{count} files"}
//! ```

use std::sync::LazyLock;

use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
use serde_json::{Map, Value};

use super::{Arg, IDS, Locale, whole_number};

/// The scripts' messages, from English's `js.ftl`: each id with the names of its values.
pub static JS_MESSAGES: LazyLock<Vec<(&'static str, Vec<&'static str>)>> =
    LazyLock::new(|| parse(include_str!("../../web/locales/en/js.ftl")));

fn parse(ftl: &'static str) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut messages: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for line in ftl.lines() {
        if let Some((id, _)) = line.split_once(" =")
            && id.starts_with("js-")
            && !id.contains(' ')
        {
            messages.push((id, Vec::new()));
        }
        let Some((_, names)) = messages.last_mut() else { continue };
        for (i, _) in line.match_indices('$') {
            let name = &line[i + 1..];
            let end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
            if end > 0 && !names.contains(&&name[..end]) {
                names.push(&name[..end]);
            }
        }
    }
    messages
}

fn category_name(c: &PluralCategory) -> &'static str {
    match c {
        PluralCategory::ZERO => "zero",
        PluralCategory::ONE => "one",
        PluralCategory::TWO => "two",
        PluralCategory::FEW => "few",
        PluralCategory::MANY => "many",
        PluralCategory::OTHER => "other",
    }
}

/// Every script message in `locale`, as the JSON object the page carries.
pub fn script_messages(locale: Locale) -> Value {
    let rules = PluralRules::create(IDS[locale.0].clone(), PluralRuleType::CARDINAL).ok();
    // The smallest whole number of each plural category (categories reached only by
    // numbers past 1,000, as Spanish's "many" for millions, fall back to "other").
    let mut samples: Vec<(&'static str, u32)> = Vec::new();
    for n in 0..=1000u32 {
        let name = rules.as_ref().and_then(|r| r.select(n).ok()).map_or("other", |c| category_name(&c));
        if !samples.iter().any(|(c, _)| *c == name) {
            samples.push((name, n));
        }
    }
    let mut out = Map::new();
    for (id, names) in JS_MESSAGES.iter() {
        let placeholders: Vec<(&str, Arg)> =
            names.iter().filter(|n| **n != "count").map(|n| (*n, Arg::Text(format!("{{{n}}}")))).collect();
        let value = if names.contains(&"count") {
            let forms: Map<String, Value> = samples
                .iter()
                .map(|(category, n)| {
                    let mut args = placeholders.clone();
                    args.push(("count", Arg::Number(f64::from(*n))));
                    let text = locale.tr_with(id, &args).replace(&whole_number(locale, i64::from(*n)), "{count}");
                    (category.to_string(), Value::String(text))
                })
                .collect();
            Value::Object(forms)
        } else {
            Value::String(locale.tr_with(id, &placeholders))
        };
        out.insert(id.to_string(), value);
    }
    // The language's own digits and decimal sign, for the numbers the scripts write (the
    // browser's idea of a language's digits can differ from the box's).
    for id in ["number-digits", "number-decimal"] {
        out.insert(id.to_string(), Value::String(locale.tr(id)));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_message_with_its_values() {
        let found =
            parse("js-a = A\njs-b = { $count ->\n    [one] { $count } { $title }\n   *[other] x\n}\nkind = k\n");
        assert_eq!(found, vec![("js-a", vec![]), ("js-b", vec!["count", "title"])]);
    }

    #[test]
    fn counted_messages_come_in_each_plural_form_with_a_place_for_the_number() {
        let en = script_messages(Locale::ENGLISH);
        assert_eq!(en["js-files"]["one"], "{count} file");
        assert_eq!(en["js-files"]["other"], "{count} files");
        assert_eq!(en["js-outbox-sent"], "Sent to the box: {titles}.");
        let ar = script_messages(Locale::from_code("ar").unwrap());
        // Arabic has six forms; its "one" and "two" say the number in words.
        assert_eq!(ar["js-files"].as_object().unwrap().len(), 6, "{}", ar["js-files"]);
        assert_eq!(ar["js-files"]["few"], "{count} ملفات");
        assert_eq!(ar["js-files"]["two"], "ملفان");
        let es = script_messages(Locale::from_code("es").unwrap());
        assert_eq!(es["js-sending-file"], "Enviando {name}");
        assert_eq!(ar["number-digits"], "٠١٢٣٤٥٦٧٨٩");
    }
}
