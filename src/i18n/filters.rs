//! The askama filters that put messages on pages. A template's module brings them in with
//! `use crate::i18n::filters;`, and the page is rendered with its [`Context`] (the request's
//! locale) as askama's runtime values, so a filter never guesses the language:
//!
//! ```text
//! {{ "home-title"|t }}                        a message
//! {{ "review-new-feedback"|t1("count", n) }}  with an argument (numbers choose plurals)
//! {{ "x"|t2("name", a, "count", n) }}         two (t3: three)
//! {{ chrome.title|msg }}                      a `Msg` made in Rust
//! {{ size|bytes }}  {{ ms|date }}  {{ n|number }}
//! <html lang="{{ "code"|locale }}" dir="{{ "dir"|locale }}">
//! ```
//!
//! `tests/integration/i18n.rs` reads the templates: every id a filter names must exist in
//! every language, and text outside a filter fails the test.

use std::any::Any;
use std::fmt::Display;

use super::{Arg, Locale, Msg};

/// What a template is rendered with: the request's language.
pub struct Context(pub Locale);

impl askama::Values for Context {
    fn get_value<'a>(&'a self, key: &str) -> Option<&'a dyn Any> {
        (key == "locale").then_some(&self.0 as &dyn Any)
    }
}

/// The locale of the template's context (English if a template is rendered without one, as
/// a unit test might).
fn current(values: &dyn askama::Values) -> Locale {
    askama::get_value::<Locale>(values, "locale").copied().unwrap_or_default()
}

/// A number stays a number (it chooses the plural form); anything else is text.
fn arg(value: impl Display) -> Arg {
    let text = value.to_string();
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Arg::Number(n),
        _ => Arg::Text(text),
    }
}

#[askama::filter_fn]
pub fn t(id: impl Display, values: &dyn askama::Values) -> askama::Result<String> {
    Ok(current(values).tr(&id.to_string()))
}

#[askama::filter_fn]
pub fn t1<N: Display, V: Display>(
    id: impl Display,
    values: &dyn askama::Values,
    name: N,
    value: V,
) -> askama::Result<String> {
    let name = name.to_string();
    Ok(current(values).tr_with(&id.to_string(), &[(name.as_str(), arg(value))]))
}

#[askama::filter_fn]
pub fn t2<N1: Display, V1: Display, N2: Display, V2: Display>(
    id: impl Display,
    values: &dyn askama::Values,
    name1: N1,
    value1: V1,
    name2: N2,
    value2: V2,
) -> askama::Result<String> {
    let (name1, name2) = (name1.to_string(), name2.to_string());
    Ok(current(values).tr_with(&id.to_string(), &[(name1.as_str(), arg(value1)), (name2.as_str(), arg(value2))]))
}

#[askama::filter_fn]
#[allow(clippy::too_many_arguments)]
pub fn t3<N1: Display, V1: Display, N2: Display, V2: Display, N3: Display, V3: Display>(
    id: impl Display,
    values: &dyn askama::Values,
    name1: N1,
    value1: V1,
    name2: N2,
    value2: V2,
    name3: N3,
    value3: V3,
) -> askama::Result<String> {
    let names = [name1.to_string(), name2.to_string(), name3.to_string()];
    let args = [(names[0].as_str(), arg(value1)), (names[1].as_str(), arg(value2)), (names[2].as_str(), arg(value3))];
    Ok(current(values).tr_with(&id.to_string(), &args))
}

#[askama::filter_fn]
pub fn msg(message: &Msg, values: &dyn askama::Values) -> askama::Result<String> {
    Ok(message.in_locale(current(values)))
}

#[askama::filter_fn]
pub fn bytes(n: &u64, values: &dyn askama::Values) -> askama::Result<String> {
    Ok(super::format_bytes(current(values), *n))
}

#[askama::filter_fn]
pub fn date(ms: &u64, values: &dyn askama::Values) -> askama::Result<String> {
    Ok(super::format_date(current(values), *ms))
}

/// A `YYYY-MM-DD` day, spoken in the language.
#[askama::filter_fn]
pub fn day(iso: impl Display, values: &dyn askama::Values) -> askama::Result<String> {
    Ok(super::format_day(current(values), &iso.to_string()))
}

#[askama::filter_fn]
pub fn number(n: impl Display, values: &dyn askama::Values) -> askama::Result<String> {
    let n: f64 = n.to_string().parse().unwrap_or(0.0);
    Ok(super::format_number(current(values), n, 0))
}

/// `"code"` → the language's code (`lang`), `"dir"` → its direction, `"name"` → its name.
#[askama::filter_fn]
pub fn locale(what: impl Display, values: &dyn askama::Values) -> askama::Result<String> {
    let l = current(values);
    Ok(match what.to_string().as_str() {
        "dir" => l.dir().to_string(),
        "name" => l.name(),
        _ => l.code().to_string(),
    })
}

/// The messages the page's scripts use (ids starting `js-`), as JSON for a
/// `<script type="application/json">` block: the scripts read their words from the page.
#[askama::filter_fn]
pub fn js_messages(_unused: impl Display, values: &dyn askama::Values) -> askama::Result<String> {
    // Inside a script element only "</" could end it early; JSON lets us escape "/".
    Ok(super::script_messages(current(values)).to_string().replace("</", "<\\/"))
}

/// Whether `code` is the language the page is in (the language menu marks it).
#[askama::filter_fn]
pub fn is_current(code: impl Display, values: &dyn askama::Values) -> askama::Result<bool> {
    Ok(current(values).code() == code.to_string())
}
