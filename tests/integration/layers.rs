//! The layers run one way, read off the sources (ARCHITECTURE.md, "Invariants"):
//!
//! - nothing below `http` imports `http` (only the entry points do: `lib.rs`, `cli.rs`,
//!   `main.rs`, and `fuzzing.rs`, which drives the real upload reader);
//! - `store` imports only `domain`;
//! - `domain` imports nothing else of folio and does no I/O;
//! - `sync` is transport-free: no HTTP client or server in it.
//!
//! Test code (`tests.rs` files, `tests/` folders and `#[cfg(test)]` modules) and comments are
//! left out: a test
//! may reach anywhere, and a doc link is not a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Whether `file` is test code by its place: a `tests.rs` file or anything in a `tests/` folder.
fn is_test_file(file: &Path) -> bool {
    file.file_name().is_some_and(|n| n == "tests.rs") || file.components().any(|c| c.as_os_str() == "tests")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The file's code without comments and without `#[cfg(test)]` items (a module or a
/// function, up to its closing brace).
fn product_code(source: &str) -> String {
    let mut code = String::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            // Skip the item that follows: to the end of its braces, or to its `;`.
            let mut depth = 0i32;
            let mut opened = false;
            for next in lines.by_ref() {
                let next = strip_comment(next);
                depth += next.matches('{').count() as i32 - next.matches('}').count() as i32;
                opened |= next.contains('{');
                if (opened && depth <= 0) || (!opened && next.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        code.push_str(strip_comment(line));
        code.push('\n');
    }
    code
}

/// The line up to a `//` comment (a `//` inside a string, as in a URL, cuts the line short,
/// which at worst hides an import from this test, never invents one).
fn strip_comment(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The top-level module a file belongs to (`src/store/apply.rs` → `store`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules of folio each file's code names (`crate::x`, `use crate::{x, ..}`).
fn imports(src: &Path) -> BTreeMap<PathBuf, BTreeSet<String>> {
    let mut all = BTreeMap::new();
    for file in rust_files(src) {
        if is_test_file(file.strip_prefix(src).unwrap_or(&file)) {
            continue;
        }
        let code = product_code(&std::fs::read_to_string(&file).unwrap());
        let mut named = BTreeSet::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a, b::c, d}`: every first segment in the group.
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        named.insert(name);
                    }
                }
            } else {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                named.insert(name);
            }
        }
        all.insert(file, named);
    }
    all
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The files of `module` that name any of `forbidden`, with what they name.
fn offenders(module: &str, allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let src = src();
    let mut found = Vec::new();
    for (file, named) in imports(&src) {
        if module_of(&src, &file) != module {
            continue;
        }
        let bad: Vec<&String> = named.iter().filter(|n| **n != module && !allowed(n)).collect();
        if !bad.is_empty() {
            found.push(format!("{} imports {bad:?}", file.strip_prefix(&src).unwrap().display()));
        }
    }
    found
}

#[test]
fn nothing_below_http_imports_http() {
    let src = src();
    let entry_points = ["lib", "main", "cli", "fuzzing", "http"];
    let importers: Vec<String> = imports(&src)
        .into_iter()
        .filter(|(file, named)| named.contains("http") && !entry_points.contains(&module_of(&src, file).as_str()))
        .map(|(file, _)| file.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(importers.is_empty(), "these files import http, which sits above them: {importers:#?}");
}

#[test]
fn the_store_imports_only_the_domain() {
    let found = offenders("store", |name| name == "domain");
    assert!(found.is_empty(), "store may import only domain: {found:#?}");
}

#[test]
fn the_domain_imports_nothing_else_and_does_no_io() {
    let found = offenders("domain", |_| false);
    assert!(found.is_empty(), "domain may import nothing else of folio: {found:#?}");
    let io =
        ["std::fs", "std::net", "std::io", "std::process", "std::env", "tokio", "redb", "tantivy", "axum", "hyper"];
    let src = src();
    let mut found = Vec::new();
    for file in rust_files(&src.join("domain")) {
        let code = product_code(&std::fs::read_to_string(&file).unwrap());
        for word in io {
            if code.contains(word) {
                found.push(format!("{} uses {word}", file.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(found.is_empty(), "domain does no I/O: {found:#?}");
}

#[test]
fn sync_is_transport_free() {
    let src = src();
    let mut found = Vec::new();
    for file in rust_files(&src.join("sync")) {
        if is_test_file(file.strip_prefix(&src).unwrap_or(&file)) {
            continue;
        }
        let code = product_code(&std::fs::read_to_string(&file).unwrap());
        for word in ["axum", "hyper", "reqwest", "tokio::net", "crate::peers", "crate::http"] {
            if code.contains(word) {
                found.push(format!("{} uses {word}", file.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(found.is_empty(), "sync carries no transport: {found:#?}");
}

/// The reader itself: a `#[cfg(test)]` module and comments are not imports, a group is.
#[test]
fn the_reader_sees_groups_and_skips_tests_and_comments() {
    let code = product_code(
        "use crate::{a, b::c};\n// crate::commented\n#[cfg(test)]\nmod tests {\n    use crate::hidden;\n}\nfn f() { crate::d::e(); }\n",
    );
    assert!(!code.contains("hidden") && !code.contains("commented"), "{code}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::write(dir.path().join("m/x.rs"), code).unwrap();
    let found = imports(dir.path());
    let names: Vec<&str> = found.values().next().unwrap().iter().map(String::as_str).collect();
    assert_eq!(names, ["a", "b", "d"]);
}
