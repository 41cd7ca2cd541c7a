//! The API description as a contract: the schema of each route's answers, checked against
//! the JSON the tests receive (`support::TestServer::checked`).
//!
//! The description is made stricter here than it is served: an object may carry no property
//! its schema does not name (`unevaluatedProperties: false`), so a field added to an answer
//! without its schema fails too. Schemas that are parts of an `allOf` (serde's `flatten`)
//! are left open, and the `allOf` that joins them is closed instead.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct Contract {
    doc: Value,
    /// Validators by the JSON pointer of the schema they check.
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

impl Contract {
    pub fn new(mut doc: Value) -> Self {
        close_objects(&mut doc);
        Contract { doc, validators: Mutex::new(HashMap::new()) }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The documented path (`/api/v1/users/{id}`) that `path` (`/api/v1/users/0190…?x=1`) is.
    pub fn route_of(&self, path: &str) -> Option<String> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        // A literal segment beats a parameter (`/peers/self` before `/peers/{id}`).
        let mut best: Option<(usize, &String)> = None;
        for template in paths.keys() {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let fits = parts.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            if fits && best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Panics unless `body`, answered with `status` to `method path`, is what the description
    /// says that operation answers with that status.
    pub fn check(&self, method: &Method, path: &str, status: StatusCode, body: &Value) {
        if let Err(problem) = self.verdict(method, path, status, body) {
            panic!("{problem}");
        }
    }

    /// What is wrong with an answer, if anything (routes not in the description pass: the
    /// "no such endpoint" answer, pages).
    pub fn verdict(&self, method: &Method, path: &str, status: StatusCode, body: &Value) -> Result<(), String> {
        let Some(route) = self.route_of(path) else { return Ok(()) };
        let op = &self.doc["paths"][&route][method.as_str().to_lowercase()];
        if !op.is_object() {
            return Err(format!("{method} {route} is not in the API description"));
        }
        let code = status.as_u16().to_string();
        let Some(response) = op["responses"].get(&code) else {
            return Err(format!("{method} {route} answered {status}, which its description does not list: {body}"));
        };
        if response.pointer("/content/application~1json/schema").is_none() {
            return Err(format!(
                "{method} {route} answered {status} with JSON, which its description does not say: {body}"
            ));
        }
        let pointer = format!(
            "/paths/{}/{}/responses/{code}/content/application~1json/schema",
            route.replace('~', "~0").replace('/', "~1"),
            method.as_str().to_lowercase()
        );
        let validator = self.validator(&pointer);
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path())).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{method} {route} {status} does not match its schema:\n{}\nbody: {body:#}", errors.join("\n")))
        }
    }

    fn validator(&self, pointer: &str) -> std::sync::Arc<jsonschema::Validator> {
        let mut validators = self.validators.lock().unwrap();
        validators
            .entry(pointer.to_string())
            .or_insert_with(|| {
                // The schema with the document's components, so `#/components/...` resolves.
                let schema = self.doc.pointer(pointer).unwrap().clone();
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": self.doc["components"],
                    "allOf": [schema],
                });
                let validator = jsonschema::draft202012::new(&root)
                    .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"));
                std::sync::Arc::new(validator)
            })
            .clone()
    }
}

/// Adds `unevaluatedProperties: false` to every object schema with named properties, but not
/// to one that is a part of an `allOf` (its siblings' properties would count as unknown to
/// it); the `allOf` itself is closed.
fn close_objects(doc: &mut Value) {
    let mut parts = BTreeSet::new();
    collect_all_of_parts(doc, &mut parts);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            close(schema, parts.contains(&format!("#/components/schemas/{name}")));
        }
    }
    if let Some(paths) = doc.get_mut("paths") {
        close(paths, false);
    }
}

fn collect_all_of_parts(value: &Value, parts: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(items)) = map.get("allOf") {
                for item in items {
                    if let Some(r) = item.get("$ref").and_then(Value::as_str) {
                        parts.insert(r.to_string());
                    }
                }
            }
            map.values().for_each(|v| collect_all_of_parts(v, parts));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_all_of_parts(v, parts)),
        _ => {}
    }
}

/// Closes `value` (unless `open`: a part of an `allOf`) and every schema inside it.
fn close(value: &mut Value, open: bool) {
    match value {
        Value::Object(map) => {
            if !open && (map.contains_key("properties") || map.contains_key("allOf")) {
                map.entry("unevaluatedProperties").or_insert(Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child) {
                    ("allOf", Value::Array(items)) => items.iter_mut().for_each(|item| close(item, true)),
                    (_, child) => close(child, false),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| close(v, false)),
        _ => {}
    }
}
