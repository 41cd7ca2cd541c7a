//! Languages: every message id used anywhere exists in every language, no template holds
//! words outside a translation call, and a request's language is chosen in folio's order
//! (the person's setting, the device's cookie, Accept-Language, the school's default,
//! English), seen through the API.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, found);
        } else if path.extension().is_some_and(|e| e == ext) {
            found.push(path);
        }
    }
}

/// The ids a language's folder defines (`id = ...` at the start of a line).
fn defined(code: &str) -> BTreeSet<String> {
    let mut ftl = Vec::new();
    files(&root().join("web/locales").join(code), "ftl", &mut ftl);
    ftl.iter()
        .flat_map(|f| std::fs::read_to_string(f).unwrap().lines().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|l| {
            let (id, _) = l.split_once(" =")?;
            (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then(|| id.to_string())
        })
        .collect()
}

/// Every `"quoted-id"` in `text` that `pattern` (the text just before the quote) announces,
/// or that a filter call just after it does.
fn quoted_ids(text: &str, before: &[&str], after: &[&str]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(start) = text[i..].find('"').map(|p| p + i) {
        let Some(len) = text[start + 1..].find('"') else { break };
        let id = &text[start + 1..start + 1 + len];
        let end = start + 2 + len;
        let is_id = !id.is_empty()
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && id.contains('-')
            || matches!(id, "back" | "yes" | "no" | "save" | "import" | "kind" | "role" | "visibility" | "picture");
        let announced =
            before.iter().any(|b| text[..start].ends_with(b)) || after.iter().any(|a| text[end..].starts_with(a));
        if is_id && announced {
            ids.insert(id.to_string());
        }
        i = end.min(bytes.len());
    }
    ids
}

/// Message ids the templates, the Rust code and the scripts use.
fn used() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut templates = Vec::new();
    files(&root().join("web/templates"), "html", &mut templates);
    for t in &templates {
        ids.extend(quoted_ids(&std::fs::read_to_string(t).unwrap(), &[], &["|t", "|t1(", "|t2("]));
    }
    let mut rust = Vec::new();
    files(&root().join("src"), "rs", &mut rust);
    for r in &rust {
        let text = std::fs::read_to_string(r).unwrap();
        ids.extend(quoted_ids(
            &text,
            &[
                "Msg::id(",
                "Msg::with(",
                ".tr(",
                ".tr_with(",
                "Chrome::anonymous(",
                "Chrome::for_user(",
                "facet(",
                "empty: ",
                " => ",
            ],
            &[],
        ));
    }
    ids.extend(script_ids());
    ids
}

/// Every `'js-…'` literal of the scripts in `web/static`: the ids they ask `t()` for.
fn script_ids() -> BTreeSet<String> {
    let mut scripts = vec![root().join("web/sw.js")];
    files(&root().join("web/static"), "js", &mut scripts);
    let mut ids = BTreeSet::new();
    for s in &scripts {
        let text = std::fs::read_to_string(s).unwrap();
        for (at, _) in text.match_indices("'js-") {
            let id = &text[at + 1..];
            let end = id.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')).unwrap_or(0);
            if id[end..].starts_with('\'') {
                ids.insert(id[..end].to_string());
            }
        }
    }
    ids
}

/// What the scripts ask for is what the page hands them (English's `js.ftl`), and they
/// write no sentence of their own: a string literal of two or more words that starts with
/// a capital letter is English someone forgot to move into `js.ftl`.
#[test]
fn the_scripts_words_come_from_the_page() {
    let handed: BTreeSet<String> = folio::i18n::JS_MESSAGES.iter().map(|(id, _)| id.to_string()).collect();
    let asked = script_ids();
    assert!(asked.len() >= 30, "the scan finds the scripts' ids: {asked:?}");
    let missing: Vec<_> = asked.difference(&handed).collect();
    assert!(missing.is_empty(), "scripts ask for ids not in web/locales/en/js.ftl: {missing:?}");
    let unused: Vec<_> = handed.difference(&asked).collect();
    assert!(unused.is_empty(), "js.ftl has ids no script asks for: {unused:?}");

    let mut scripts = vec![root().join("web/sw.js")];
    files(&root().join("web/static"), "js", &mut scripts);
    let mut sentences = Vec::new();
    for s in &scripts {
        for line in std::fs::read_to_string(s).unwrap().lines() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
                continue;
            }
            sentences.extend(english_literals(code).into_iter().map(|l| format!("{}: {l}", s.display())));
        }
    }
    assert!(sentences.is_empty(), "words written in a script: {sentences:#?}");
}

/// String literals of a line of JavaScript that read like English words for people.
fn english_literals(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(['\'', '"', '`']) {
        let quote = rest[start..].chars().next().unwrap();
        let Some(len) = rest[start + 1..].find(quote) else { break };
        let literal = &rest[start + 1..start + 1 + len];
        // Template literals' values are not words.
        let mut words = literal.to_string();
        while let Some(open) = words.find("${") {
            let close = words[open..].find('}').map_or(words.len(), |c| open + c + 1);
            words.replace_range(open..close, " ");
        }
        let alphabetic: Vec<&str> =
            words.split_whitespace().filter(|w| w.chars().all(|c| c.is_alphabetic() || ".,!?…:".contains(c))).collect();
        if alphabetic.len() >= 2 && alphabetic[0].starts_with(|c: char| c.is_uppercase()) {
            found.push(literal.to_string());
        }
        rest = &rest[start + 2 + len..];
    }
    found
}

#[test]
fn every_message_used_exists_in_every_language() {
    let used = used();
    let english = defined("en");
    // Ids from `=>` arms are only candidates (a match may map to other strings): keep those
    // that look like ours and are not obviously something else.
    let missing_en: Vec<_> = used.iter().filter(|id| !english.contains(*id) && looks_like_message(id)).collect();
    assert!(missing_en.is_empty(), "used but not in web/locales/en: {missing_en:?}");
    assert!(used.len() > 150, "the scan finds the ids: {}", used.len());
    for code in folio::i18n::LANGUAGES {
        let theirs = defined(code);
        let missing: Vec<_> = english.difference(&theirs).collect();
        let extra: Vec<_> = theirs.difference(&english).collect();
        assert!(missing.is_empty(), "{code} lacks {missing:?}");
        assert!(extra.is_empty(), "{code} has ids English does not: {extra:?}");
        // Written is not enough: a message Fluent cannot parse is missing at run time.
        let mut ftl = Vec::new();
        files(&root().join("web/locales").join(code), "ftl", &mut ftl);
        for f in &ftl {
            let text = std::fs::read_to_string(f).unwrap();
            if let Err((_, errors)) = fluent_templates::fluent_bundle::FluentResource::try_new(text) {
                panic!("{}: Fluent cannot read it: {errors:?}", f.display());
            }
        }
    }
}

/// Message ids are prefixed by the place they belong to.
fn looks_like_message(id: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "error-",
        "notice-",
        "title-",
        "work-empty",
        "import-",
        "nav-",
        "js-",
        "size-",
        "month-",
        "weekday-",
        "date-",
        "number-",
    ];
    PREFIXES.iter().any(|p| id.starts_with(p))
        || !id.contains(' ') && defined("en").iter().any(|d| d.split('-').next() == id.split('-').next())
}

/// The words of a template a person would see: what is left after taking out template
/// tags, comments, expressions, HTML tags, `<script>`, `<style>`, `<code>` and `<pre>`.
fn visible_words(template: &str) -> Vec<String> {
    let mut text = template.to_string();
    for (open, close) in [
        ("{#", "#}"),
        ("{%", "%}"),
        ("{{", "}}"),
        ("<script", "</script>"),
        ("<style", "</style>"),
        ("<pre", "</pre>"),
        ("<code", "</code>"),
        ("<!--", "-->"),
    ] {
        while let Some(start) = text.find(open) {
            let Some(len) = text[start..].find(close) else { break };
            text.replace_range(start..start + len + close.len(), " ");
        }
    }
    // Attributes people see are checked too: their values must be empty or expressions.
    let mut words = Vec::new();
    let mut rest = text.as_str();
    let mut outside = String::new();
    while let Some(start) = rest.find('<') {
        outside.push_str(&rest[..start]);
        outside.push(' ');
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start..start + end];
        for attr in ["alt=\"", "title=\"", "placeholder=\"", "aria-label=\"", "label=\""] {
            if let Some(p) = tag.find(attr) {
                let value = &tag[p + attr.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                if value.chars().any(char::is_alphabetic) {
                    words.push(format!("{attr}{value}"));
                }
            }
        }
        rest = &rest[start + end + 1..];
    }
    outside.push_str(rest);
    words.extend(
        outside
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphabetic))
            // File names and addresses people type exactly as shown.
            .filter(|w| !w.ends_with(".csv") && !w.contains("://"))
            .map(str::to_owned),
    );
    words
}

#[test]
fn templates_hold_no_words_outside_translation_calls() {
    let mut templates = Vec::new();
    files(&root().join("web/templates"), "html", &mut templates);
    let mut offenders = Vec::new();
    for t in &templates {
        let name = t.file_name().unwrap().to_string_lossy().to_string();
        let words = visible_words(&std::fs::read_to_string(t).unwrap());
        if !words.is_empty() {
            offenders.push((name, words));
        }
    }
    assert!(offenders.is_empty(), "words outside a translation call: {offenders:#?}");
}

#[test]
fn the_scan_sees_words_and_ids() {
    assert_eq!(visible_words("<p>{{ \"a-b\"|t }} <code>x.csv</code></p>"), Vec::<String>::new());
    assert_eq!(visible_words("<p>Hello {{ name }}</p>"), vec!["Hello"]);
    assert_eq!(visible_words("<img alt=\"A cat\" src=x>"), vec!["alt=\"A cat"]);
    let ids = quoted_ids("{{ \"home-hello\"|t1(\"name\", n) }} \"not-this\"", &[], &["|t", "|t1("]);
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), vec!["home-hello"]);
}

async fn language_of(server: &TestServer, client: &Client, accept: Option<&str>) -> String {
    let mut req = client.get(server.url("/api/v1/language"));
    if let Some(a) = accept {
        req = req.header("accept-language", a);
    }
    let res = server.checked(Method::GET, "/api/v1/language", req.send().await.unwrap()).await;
    json_of(res).await["language"].as_str().unwrap().to_string()
}

async fn put(server: &TestServer, client: &Client, path: &str, body: Value) -> reqwest::Response {
    let res = client.put(server.url(path)).json(&body).send().await.unwrap();
    server.checked(Method::PUT, path, res).await
}

#[tokio::test]
async fn the_language_is_chosen_in_order() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let anonymous = server.client();

    // Nothing chosen anywhere: English.
    assert_eq!(language_of(&server, &anonymous, None).await, "en");
    // The school's default, for a device that asks for nothing folio speaks.
    let set = put(&server, &admin, "/api/v1/school/language", json!({"language": "ar"})).await;
    assert_eq!(set.status(), 200);
    assert_eq!(language_of(&server, &anonymous, Some("fr-FR")).await, "ar");
    // The browser's Accept-Language beats the school's.
    assert_eq!(language_of(&server, &anonymous, Some("fr, es;q=0.8")).await, "es");
    // A device's cookie beats the browser.
    let form = anonymous.post(server.url("/language")).form(&[("language", "en")]).send().await.unwrap();
    assert_eq!(form.status(), 303);
    assert_eq!(language_of(&server, &anonymous, Some("es")).await, "en");
    // The person's own setting beats everything, on any device.
    let (_, teacher) = server.person(&admin, "tina", "teacher").await;
    assert_eq!(language_of(&server, &teacher, Some("en")).await, "en");
    let mine = put(&server, &teacher, "/api/v1/me/language", json!({"language": "es"})).await;
    assert_eq!(json_of(mine).await["language"], "es");
    assert_eq!(language_of(&server, &teacher, Some("en")).await, "es");

    // Refusals keep their code and speak the language.
    let missing =
        teacher.get(server.url("/api/v1/artifacts/00000000-0000-7000-8000-000000000000")).send().await.unwrap();
    let missing = json_of(server.checked(Method::GET, "/api/v1/artifacts/{id}", missing).await).await;
    assert_eq!(missing["error"], "not_found");
    assert!(missing["message"].as_str().unwrap().contains("no existe"), "{missing}");
    // Pages too: <html lang dir>, in Arabic right to left.
    let arabic = put(&server, &teacher, "/api/v1/me/language", json!({"language": "ar"})).await;
    assert_eq!(arabic.status(), 200);
    let home = teacher.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("<html lang=\"ar\" dir=\"rtl\">"), "{home}");
    assert!(home.contains("مرحبًا"), "{home}");

    // Only admins set the school's language; nonsense is refused.
    let refused = put(&server, &teacher, "/api/v1/school/language", json!({"language": "es"})).await;
    assert_eq!(refused.status(), 403);
    let unknown = put(&server, &teacher, "/api/v1/me/language", json!({"language": "xx"})).await;
    assert_eq!(unknown.status(), 422);
    // A refusal made with the request's details is said in the language too.
    let unknown = json_of(unknown).await;
    assert_eq!(unknown["error"], "invalid");
    assert!(unknown["message"].as_str().unwrap().contains("\"xx\" ليست لغة"), "{unknown}");
}
