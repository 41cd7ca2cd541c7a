//! The languages folio speaks: Project Fluent messages in `web/locales/<code>/*.ftl`,
//! compiled into the binary (fluent-templates' static loader), looked up with a [`Locale`]
//! that is always passed in (a request's, a template's context), never held globally.
//!
//! Adding a language is one folder of `.ftl` files (copied from `web/locales/en` and
//! translated) and one line in [`LANGUAGES`]. Its name in itself, its number symbols and its
//! month and weekday names are messages in the folder too; its writing direction comes from
//! CLDR (through `unic-langid`). Plurals follow CLDR's rules in Fluent's selectors.
//!
//! Choosing the language of a request (`negotiate`): the person's own setting, then the
//! device's cookie, then the browser's `Accept-Language`, then the school's default, then
//! English.

pub mod filters;
mod format;
mod script;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

pub use format::{day_start_ms, format_bytes, format_date, format_day, format_number, format_short_date, iso_day};
pub use script::{JS_MESSAGES, script_messages};

fluent_templates::static_loader! {
    static MESSAGES = {
        locales: "./web/locales",
        fallback_language: "en",
        // Fluent's isolation marks (U+2068/U+2069) around every placeable would end up in
        // attributes, titles and the API's messages; the pages set `dir` themselves.
        customise: |bundle| {
            bundle.set_use_isolating(false);
            bundle.set_formatter(Some(number_in_language));
        },
    };
}

/// The language a bundle's cache belongs to (the cache is made per language).
struct LanguageOf(Option<Locale>);

impl intl_memoizer::Memoizable for LanguageOf {
    type Args = ();
    type Error = ();
    fn construct(lang: LanguageIdentifier, _: ()) -> Result<Self, ()> {
        Ok(LanguageOf(Locale::from_code(lang.language.as_str())))
    }
}

/// Numbers placed in a message (`{ $count }`) in the message's language's digits: "٣"
/// in Arabic. Whole numbers only, ungrouped (a port or a year reads wrong as "7,443");
/// everything else Fluent writes itself.
fn number_in_language(value: &FluentValue, memoizer: &intl_memoizer::concurrent::IntlLangMemoizer) -> Option<String> {
    let FluentValue::Number(n) = value else { return None };
    if n.value.fract() != 0.0 || !n.value.is_finite() {
        return None;
    }
    // The cache's lock is let go before formatting, which looks messages up again.
    let locale = memoizer.with_try_get::<LanguageOf, _, _>((), |l| l.0).ok()??;
    Some(whole_number(locale, n.value as i64))
}

/// A whole number in the language's digits, ungrouped: 42 → "٤٢" (ar).
fn whole_number(locale: Locale, n: i64) -> String {
    let digits: Vec<char> = locale.tr("number-digits").chars().collect();
    n.to_string().chars().map(|c| c.to_digit(10).and_then(|d| digits.get(d as usize).copied()).unwrap_or(c)).collect()
}

/// Every language folio speaks, by its folder under `web/locales`. The first is the last
/// resort when nothing else chose one.
pub const LANGUAGES: &[&str] = &[
    "en", // English
    "es", // Español
    "ar", // العربية
];

/// Every language for the language menu: (code, name in itself).
pub fn menu() -> Vec<(&'static str, String)> {
    Locale::all().map(|l| (l.code(), l.name())).collect()
}

/// The name of the cookie a signed-out device keeps its chosen language in.
pub const COOKIE: &str = "folio_lang";

static IDS: LazyLock<Vec<LanguageIdentifier>> =
    LazyLock::new(|| LANGUAGES.iter().map(|code| code.parse().expect("a language code in LANGUAGES")).collect());

/// One of [`LANGUAGES`]. Cheap to copy; passed to every lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Locale(usize);

impl Default for Locale {
    fn default() -> Self {
        Locale::ENGLISH
    }
}

/// Arguments of a message: names and values (numbers select plural forms).
pub type Args = Vec<(&'static str, Arg)>;

/// A value handed to a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Text(String),
    Number(f64),
    /// Another message, said in the same language first ("Kind: { $kind }" with the kind's
    /// own message).
    Message(Box<Msg>),
}

impl From<Msg> for Arg {
    fn from(m: Msg) -> Self {
        Arg::Message(Box::new(m))
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Number(n as f64)
            }
        }
    )*};
}
number_arg!(u8, u16, u32, u64, usize, i32, i64, f64);

impl Locale {
    pub const ENGLISH: Locale = Locale(0);

    pub fn all() -> impl Iterator<Item = Locale> {
        (0..LANGUAGES.len()).map(Locale)
    }

    /// The language of a code folio speaks ("es", "ES", "es-MX" → Spanish), if any.
    pub fn from_code(code: &str) -> Option<Locale> {
        let code = code.trim();
        let primary = code.split(['-', '_']).next().unwrap_or(code);
        LANGUAGES
            .iter()
            .position(|l| l.eq_ignore_ascii_case(code))
            .or_else(|| LANGUAGES.iter().position(|l| l.eq_ignore_ascii_case(primary)))
            .map(Locale)
    }

    pub fn code(self) -> &'static str {
        LANGUAGES[self.0]
    }

    /// "rtl" or "ltr", for `<html dir>`.
    pub fn dir(self) -> &'static str {
        if IDS[self.0].character_direction() == unic_langid::CharacterDirection::RTL { "rtl" } else { "ltr" }
    }

    /// The language's name written in itself ("Español"), for the language menu.
    pub fn name(self) -> String {
        self.tr("language-name")
    }

    /// The message `id` in this language (English where this language lacks it; the id
    /// itself where no language has it, which the completeness test keeps from happening).
    pub fn tr(self, id: &str) -> String {
        self.tr_with(id, &[])
    }

    pub fn tr_with(self, id: &str, args: &[(&str, Arg)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'static>> = args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Text(s) => FluentValue::from(s.clone()),
                    Arg::Number(n) => FluentValue::from(*n),
                    Arg::Message(m) => FluentValue::from(m.in_locale(self)),
                };
                (Cow::Owned(name.to_string()), value)
            })
            .collect();
        let found = if args.is_empty() {
            MESSAGES.try_lookup(&IDS[self.0], id)
        } else {
            MESSAGES.try_lookup_with_args(&IDS[self.0], id, &args)
        };
        found.unwrap_or_else(|| id.to_string())
    }

    /// Whether this language has its own text for `id` (not English's in its place).
    pub fn has(self, id: &str) -> bool {
        MESSAGES.lookup_single_language::<&str>(&IDS[self.0], id, None).is_ok()
    }

    /// The language of a request, in folio's order (see the module doc). `school` is asked
    /// only when nothing before it decided.
    pub fn negotiate(
        own: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
        school: impl FnOnce() -> Option<String>,
    ) -> Locale {
        Locale::chosen(own, cookie, accept_language)
            .or_else(|| school().as_deref().and_then(Locale::from_code))
            .unwrap_or(Locale::ENGLISH)
    }

    /// The language the person or their device chose, if either did: the first three steps
    /// of [`Locale::negotiate`], which need no store.
    pub fn chosen(own: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Option<Locale> {
        own.and_then(Locale::from_code)
            .or_else(|| cookie.and_then(Locale::from_code))
            .or_else(|| accept_language.and_then(from_accept_language))
    }
}

/// The best language of an `Accept-Language` header that folio speaks: highest `q` first,
/// in the header's order among equals; `q=0` means "not this one".
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut wanted: Vec<(f32, usize, Locale)> = header
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q =
                pieces.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some(())?;
            Some((q, i, Locale::from_code(tag)?))
        })
        .collect();
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    wanted.first().map(|w| w.2)
}

/// A text to show a person: a message of the catalogue (with its arguments), or text that
/// is not ours to translate (a name, a message not yet in the catalogue).
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Id(&'static str, Args),
    Plain(String),
}

impl Msg {
    pub fn id(id: &'static str) -> Msg {
        Msg::Id(id, Vec::new())
    }
    pub fn with(id: &'static str, args: Args) -> Msg {
        Msg::Id(id, args)
    }
    pub fn in_locale(&self, locale: Locale) -> String {
        match self {
            Msg::Id(id, args) => locale.tr_with(id, args),
            Msg::Plain(text) => text.clone(),
        }
    }
}

/// Text made elsewhere (a name, a title someone typed) is shown as it is.
impl From<String> for Msg {
    fn from(text: String) -> Self {
        Msg::Plain(text)
    }
}
impl From<&String> for Msg {
    fn from(text: &String) -> Self {
        Msg::Plain(text.clone())
    }
}
/// A literal is a message id: `Chrome::for_user("title-home", ..)`.
impl From<&'static str> for Msg {
    fn from(id: &'static str) -> Self {
        Msg::id(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es() -> Locale {
        Locale::from_code("es").unwrap()
    }
    fn ar() -> Locale {
        Locale::from_code("ar").unwrap()
    }

    #[test]
    fn codes_directions_and_names() {
        assert_eq!(Locale::from_code("es-MX"), Some(es()));
        assert_eq!(Locale::from_code("AR"), Some(ar()));
        assert_eq!(Locale::from_code("fr"), None);
        assert_eq!(ar().dir(), "rtl");
        assert_eq!(es().dir(), "ltr");
        assert_eq!(es().name(), "Español");
        assert_eq!(ar().name(), "العربية");
    }

    #[test]
    fn accept_language_takes_the_best_we_speak() {
        assert_eq!(from_accept_language("fr-FR, es;q=0.8, en;q=0.5"), Some(es()));
        assert_eq!(from_accept_language("en;q=0.2, ar-EG;q=0.9"), Some(ar()));
        assert_eq!(from_accept_language("es;q=0, fr"), None);
        assert_eq!(from_accept_language("garbage;;q=x"), None);
    }

    #[test]
    fn the_order_of_choosing() {
        let school = || Some("ar".to_string());
        assert_eq!(Locale::negotiate(Some("es"), Some("ar"), Some("en"), school), es());
        assert_eq!(Locale::negotiate(None, Some("ar"), Some("es"), school), ar());
        assert_eq!(Locale::negotiate(None, None, Some("es"), school), es());
        assert_eq!(Locale::negotiate(None, None, Some("fr"), school), ar());
        assert_eq!(Locale::negotiate(None, None, None, || None), Locale::ENGLISH);
    }

    #[test]
    fn plurals_follow_cldr() {
        let n = |l: Locale, count: u64| l.tr_with("review-new-feedback", &[("count", count.into())]);
        assert_eq!(n(Locale::ENGLISH, 1), "1 new feedback");
        assert_eq!(n(Locale::ENGLISH, 3), "3 new feedback");
        assert_eq!(n(es(), 1), "1 comentario nuevo");
        assert_eq!(n(es(), 3), "3 comentarios nuevos");
        // Arabic has six plural forms; two and eleven take different ones.
        assert_ne!(n(ar(), 2), n(ar(), 11).replace("١١", "٢"));
        // Numbers in messages are written in the language's digits.
        assert!(n(ar(), 11).contains("١١"), "{}", n(ar(), 11));
        assert!(!n(ar(), 11).contains("11"), "{}", n(ar(), 11));
    }
}
