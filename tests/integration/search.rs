//! Search: each person finds exactly what they may open, by any query, and the index follows
//! every change (new work, approval, class places, deletion, erasure) and can be rebuilt.
//!
//! Indexing is asynchronous, so every "not found" is checked only after the same artifact is
//! found by someone entitled to it: the index then holds all of its documents, and a miss
//! means the filter worked, not that the indexer was slow.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{Api, Classroom, TestServer, classroom, eventually, json_of};
use crate::work::{upload, upload_ok};

async fn search(server: &TestServer, client: &Client, params: &[(&str, &str)]) -> Value {
    let res = client.get(server.url("/api/v1/search")).query(params).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn find(server: &TestServer, client: &Client, q: &str) -> Value {
    search(server, client, &[("q", q)]).await
}

fn ids(results: &Value) -> Vec<String> {
    results["hits"].as_array().unwrap().iter().map(|h| h["artifact_id"].as_str().unwrap().to_string()).collect()
}

/// Searches until `done` holds of the results (the indexer commits within about a second),
/// failing after 10 s with the last results.
async fn search_until(
    server: &TestServer,
    client: &Client,
    params: &[(&str, &str)],
    done: impl Fn(&Value) -> bool,
) -> Value {
    eventually(Duration::from_secs(10), "search never reached the expected state", || async {
        let results = search(server, client, params).await;
        if done(&results) { Ok(results) } else { Err(results) }
    })
    .await
}

async fn found_by(server: &TestServer, client: &Client, q: &str, id: &str) -> Value {
    search_until(server, client, &[("q", q)], |r| ids(r).contains(&id.to_string())).await
}

async fn gone_for(server: &TestServer, client: &Client, q: &str, id: &str) -> Value {
    search_until(server, client, &[("q", q)], |r| !ids(r).contains(&id.to_string())).await
}

async fn post_work(server: &TestServer, client: &Client, fields: &[(&str, &str)]) -> String {
    let files = vec![("notes.txt", b"plain notes".to_vec())];
    let res = upload(server, client, fields, files).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn approve(server: &TestServer, teacher: &Client, id: &str) {
    let res = server.post(teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The permission matrix, through search: for every person and every artifact, the artifact's
/// unique word finds it exactly when the artifact's own page opens for that person. Totals
/// and facet counts are checked against the same set.
#[tokio::test]
async fn everyone_finds_exactly_what_they_may_open() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let class = room.class_id.as_str();
    // A second class with its own teacher and student, and a family account for Ana.
    let (_, other_teacher) = server.person(&room.admin, "otto", "teacher").await;
    let other_class = server.create_class(&other_teacher, "Owls").await["id"].as_str().unwrap().to_string();
    let (carl_id, carl) = server.person(&room.admin, "carl", "student").await;
    server.add_student(&other_teacher, &other_class, &carl_id).await;
    let (fam_id, family) = server.person(&room.admin, "anasmum", "family").await;
    let res =
        server.post(&room.admin, &format!("/api/v1/users/{fam_id}/family"), json!({"student_id": room.ana_id})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, leader) = server.person(&room.admin, "lena", "leader").await;

    // Each artifact has its own word in its title, and all share "volcano".
    type Fields<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(&str, Fields, bool)] = &[
        ("alphaword", &[("visibility", "private"), ("class_id", class)], false),
        ("bravoword", &[("visibility", "class"), ("class_id", class)], false),
        ("charlieword", &[("visibility", "class"), ("class_id", class)], true),
        ("deltaword", &[("visibility", "family"), ("class_id", class)], true),
        ("echoword", &[("visibility", "family"), ("class_id", class)], false),
        ("foxtrotword", &[("visibility", "private")], false),
    ];
    let mut artifacts = Vec::new();
    for (word, fields, approved) in cases {
        let title = format!("Volcano {word}");
        let mut all = fields.to_vec();
        all.push(("title", &title));
        all.push(("tags", "science"));
        let id = post_work(&server, &room.ana, &all).await;
        if *approved {
            approve(&server, &room.teacher, &id).await;
        }
        artifacts.push((word.to_string(), id));
    }
    // Carl's private work, in the other class.
    let carl_work = post_work(&server, &carl, &[("title", "Volcano golfword"), ("class_id", &other_class)]).await;
    artifacts.push(("golfword".into(), carl_work.clone()));
    // Wait until the index holds everything: the owners find all their work.
    search_until(&server, &room.ana, &[("q", "volcano")], |r| r["total"] == 6).await;
    found_by(&server, &carl, "golfword", &carl_work).await;

    let people: Vec<(&str, &Client)> = vec![
        ("ana (owner)", &room.ana),
        ("ben (classmate)", &room.ben),
        ("tina (teacher)", &room.teacher),
        ("otto (other teacher)", &other_teacher),
        ("carl (other student)", &carl),
        ("ana's family", &family),
        ("admin", &room.admin),
        ("lena (the school's leader)", &leader),
    ];
    for (who, client) in &people {
        let mut may_open = Vec::new();
        for (word, id) in &artifacts {
            let opens = server.get(client, &format!("/api/v1/artifacts/{id}")).await.status() == StatusCode::OK;
            let results = find(&server, client, word).await;
            let found = ids(&results).contains(id);
            assert_eq!(found, opens, "{who} searching \"{word}\": found {found}, may open {opens}");
            // Not even counted when it cannot be opened.
            assert_eq!(results["total"].as_u64().unwrap(), u64::from(opens), "{who} / {word}: {results}");
            if opens {
                may_open.push(id.clone());
            }
        }
        let all = find(&server, client, "volcano").await;
        let mut found = ids(&all);
        found.sort();
        may_open.sort();
        assert_eq!(found, may_open, "{who}: the shared word finds exactly what they may open");
        assert_eq!(all["total"].as_u64().unwrap() as usize, may_open.len(), "{who}");
        let tagged = all["facets"]["tag"]["science"].as_u64().unwrap_or(0) as usize;
        let kinds: u64 = all["facets"]["kind"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(tagged, may_open.iter().filter(|id| **id != carl_work).count(), "{who}: tag facet");
        assert_eq!(kinds as usize, may_open.len(), "{who}: kind facet counts only what they may open");
    }
    // A sanity check that the matrix is not trivial: the classmate sees the two approved
    // shared pieces, the other teacher sees nothing of Ana's, the family sees one.
    assert_eq!(find(&server, &room.ben, "volcano").await["total"], 2);
    assert_eq!(find(&server, &other_teacher, "volcano").await["total"], 1);
    assert_eq!(find(&server, &family, "volcano").await["total"], 1);
    assert_eq!(find(&server, &leader, "volcano").await["total"], 2, "what the class sees, in every class");

    // An unauthenticated caller gets 401, not an empty list.
    let anonymous = server.client().get(server.url("/api/v1/search?q=volcano")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn feedback_and_held_comments_are_found_only_by_those_who_may_read_them() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let id = post_work(&server, &room.ana, &[("title", "Kite"), ("visibility", "class"), ("class_id", &room.class_id)])
        .await;
    approve(&server, &room.teacher, &id).await;
    let res = server
        .post(&room.teacher, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "Try a longer tailfeedback"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res =
        server.post(&room.ben, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "Heldcomment here"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // The teacher finds both; the owner finds the feedback; the classmate finds neither
    // (feedback is between student and teacher; the comment waits for approval).
    found_by(&server, &room.teacher, "heldcomment", &id).await;
    found_by(&server, &room.teacher, "tailfeedback", &id).await;
    found_by(&server, &room.ana, "tailfeedback", &id).await;
    assert!(ids(&find(&server, &room.ana, "heldcomment").await).is_empty());
    assert!(ids(&find(&server, &room.ben, "tailfeedback").await).is_empty());
    assert!(ids(&find(&server, &room.ben, "heldcomment").await).is_empty());
    found_by(&server, &room.ben, "kite", &id).await;
}

/// Text pasted from a word processor carries no-break spaces (U+00A0), and Japanese text
/// ideographic spaces (U+3000): both are several bytes long in UTF-8, and a space of either
/// kind just before a match once made the snippet code cut inside the character and panic,
/// so every search that found the work answered 500. A held comment counts too: only the
/// teacher's search includes it.
#[tokio::test]
async fn wide_spaces_before_a_match_do_not_break_search() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let lead = "Measurements".repeat(4);
    let reflection = format!("{lead}\u{a0}volcano erupted, then{lead}\u{3000}volcano again");
    let id = post_work(
        &server,
        &room.ana,
        &[("title", "Field trip"), ("reflection", &reflection), ("visibility", "class"), ("class_id", &room.class_id)],
    )
    .await;
    approve(&server, &room.teacher, &id).await;
    let comment = format!("{lead}\u{3000}lavaflow seen; {lead}\u{a0}lavaflow");
    let res = server.post(&room.ben, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": comment})).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    for (who, q) in
        [(&room.ana, "volcano"), (&room.teacher, "volcano"), (&room.teacher, "lavaflow"), (&room.ben, "volca")]
    {
        let results = found_by(&server, who, q, &id).await;
        let snippet = results["hits"][0]["snippet"].as_str().unwrap();
        assert!(snippet.contains("<mark>"), "{q}: {snippet}");
    }
}

/// Whatever is typed, search answers: a quoted single letter once made a one-word phrase,
/// which tantivy refuses with a panic (found by the property test in `search::query`).
#[tokio::test]
async fn any_query_is_answered() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let id =
        post_work(&server, &room.ana, &[("title", "Alphabet blocks"), ("reflection", "a\u{a0}b\u{3000}c ç")]).await;
    found_by(&server, &room.ana, "alphabet", &id).await;
    for q in ["\"a\"", "\"ç\" b", "\"", "\"\"", "\u{a0}", "\u{3000}a", "a\u{3000}", "\"a b\" \"c", "👩‍🔬", "\u{301}"]
    {
        let results = find(&server, &room.ana, q).await;
        assert!(results["hits"].is_array(), "{q:?}: {results}");
    }
}

#[tokio::test]
async fn class_places_deletion_and_erasure_change_results_at_once() {
    let server = TestServer::start().await;
    let Classroom { admin, teacher, class_id, ana, ana_id, ben } = classroom(&server).await;
    let shared =
        post_work(&server, &ana, &[("title", "Shared rainbow"), ("visibility", "class"), ("class_id", &class_id)])
            .await;
    approve(&server, &teacher, &shared).await;
    let private = post_work(&server, &ana, &[("title", "Private rainbow"), ("class_id", &class_id)]).await;
    found_by(&server, &ben, "rainbow", &shared).await;
    found_by(&server, &teacher, "rainbow", &private).await;

    // Ben leaves the class: the shared work is gone for him with the very next search.
    let me = json_of(server.get(&ben, "/api/v1/me").await).await;
    let ben_id = me["id"].as_str().unwrap().to_string();
    let removed =
        teacher.delete(server.url(&format!("/api/v1/classes/{class_id}/members/{ben_id}"))).send().await.unwrap();
    assert!(removed.status().is_success(), "{}", removed.status());
    assert!(ids(&find(&server, &ben, "rainbow").await).is_empty(), "no waiting: principals are read per query");

    // Ana also sits in Otto's class, so Otto reads all her work; she leaves it, and her
    // documents are re-indexed without him.
    let (_, otto) = server.person(&admin, "otto", "teacher").await;
    let owls = server.create_class(&otto, "Owls").await["id"].as_str().unwrap().to_string();
    server.add_student(&admin, &owls, &ana_id).await;
    found_by(&server, &otto, "rainbow", &private).await;
    let removed = otto.delete(server.url(&format!("/api/v1/classes/{owls}/members/{ana_id}"))).send().await.unwrap();
    assert!(removed.status().is_success());
    gone_for(&server, &otto, "rainbow", &private).await;
    assert_eq!(server.get(&otto, &format!("/api/v1/artifacts/{private}")).await.status(), StatusCode::NOT_FOUND);

    // Deleted work disappears for its owner too.
    let res = ana.delete(server.url(&format!("/api/v1/artifacts/{private}"))).send().await.unwrap();
    assert!(res.status().is_success());
    gone_for(&server, &ana, "rainbow", &private).await;
    found_by(&server, &ana, "rainbow", &shared).await;

    // Erasure removes everything of hers; the admin's own search still works.
    let res = admin.post(server.url(&format!("/api/v1/users/{ana_id}/erase"))).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(find(&server, &admin, "rainbow").await["total"], 0);
    // Nobody could find her shared work any more, so look in the index itself: it must come
    // to hold no document at all.
    eventually(Duration::from_secs(10), "erased work left documents in the index", || async {
        count_documents(&server.data_dir) == 0
    })
    .await;
    // Nor does the text extracted from her files stay behind.
    let cache = server.data_dir.join("search").join("text");
    let cached: Vec<_> = std::fs::read_dir(&cache).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(cached.is_empty(), "extracted text outlived the erasure: {cached:?}");
}

/// Documents in the index on disk, read beside the running server.
fn count_documents(data_dir: &std::path::Path) -> u64 {
    let (index, fresh) = folio::search::SearchIndex::open(data_dir).unwrap();
    assert!(!fresh);
    index.documents()
}

#[tokio::test]
async fn words_accents_prefixes_typos_phrases_and_stems() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let cancion = upload_ok(&server, &room.ana, "Mi canción del puente", vec![("a.txt", b"la".to_vec())]).await;
    let cancion = cancion["id"].as_str().unwrap().to_string();
    let res = upload(
        &server,
        &room.ana,
        &[("title", "Building bridges"), ("reflection", "We measured twelve kilograms on the old bridge.")],
        vec![("b.txt", b"x".to_vec())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bridges = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    found_by(&server, &room.ana, "bridges", &bridges).await;

    for (q, expect, why) in [
        ("cancion", &cancion, "accents folded"),
        ("CANCIÓN", &cancion, "case and accents"),
        ("bridge ", &bridges, "English stem: bridge finds bridges"),
        ("brid", &bridges, "prefix while typing"),
        ("kilogrmas", &bridges, "a typo in a long word"),
        ("\"old bridge\"", &bridges, "a phrase"),
        ("twelve kilo", &bridges, "words and a prefix"),
    ] {
        let results = find(&server, &room.ana, q).await;
        assert!(ids(&results).contains(expect), "{why}: {q:?} gave {results}");
    }
    assert!(!ids(&find(&server, &room.ana, "\"bridge old\"").await).contains(&bridges), "phrase order matters");
    assert!(!ids(&find(&server, &room.ana, "bridge ").await).contains(&cancion), "not everything matches");
    assert!(
        find(&server, &room.ana, "twelve ").await["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>twelve</mark>")
    );
    assert!(ids(&find(&server, &room.ana, "brig ").await).is_empty(), "a short word needs to be exact");

    // Spanish stemming is a school setting: "construyendo" finds "construir" once it is on
    // (too far apart for typo tolerance to find).
    let construir = upload_ok(&server, &room.ana, "Construir una torre", vec![("c.txt", b"c".to_vec())]).await;
    let construir = construir["id"].as_str().unwrap().to_string();
    found_by(&server, &room.ana, "torre", &construir).await;
    assert!(
        !ids(&find(&server, &room.ana, "construyendo ").await).contains(&construir),
        "English does not stem Spanish"
    );
    let res =
        room.admin.put(server.url("/api/v1/search/language")).json(&json!({"language": "es"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res =
        room.teacher.put(server.url("/api/v1/search/language")).json(&json!({"language": "en"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    found_by(&server, &room.ana, "construyendo ", &construir).await;
    found_by(&server, &room.ana, "canciones ", &cancion).await;
}

#[tokio::test]
async fn filters_sorting_facets_and_the_page() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let class = room.class_id.as_str();
    let a = post_work(&server, &room.ana, &[("title", "Leaf print one"), ("tags", "art, autumn"), ("class_id", class)])
        .await;
    let b = post_work(&server, &room.ana, &[("title", "Leaf print two"), ("tags", "art"), ("class_id", class)]).await;
    // Work without a class goes to the student's only class, so the third piece gets another.
    let finches = server.create_class(&room.teacher, "Finches").await["id"].as_str().unwrap().to_string();
    server.add_student(&room.teacher, &finches, &room.ana_id).await;
    let c = post_work(&server, &room.ana, &[("title", "Leaf count"), ("tags", "maths"), ("class_id", &finches)]).await;
    search_until(&server, &room.ana, &[("q", "leaf")], |r| r["total"] == 3).await;

    let r = search(&server, &room.ana, &[("q", "leaf"), ("tag", "art")]).await;
    assert_eq!(r["total"], 2);
    let r = search(&server, &room.ana, &[("q", "leaf"), ("class_id", class)]).await;
    let mut got = ids(&r);
    got.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(got, want);
    let r = search(&server, &room.ana, &[("q", "leaf"), ("student_id", &room.ana_id), ("kind", "text")]).await;
    assert_eq!(r["total"], 3, "{r}");
    assert_eq!(search(&server, &room.ana, &[("q", "leaf"), ("kind", "video")]).await["total"], 0);
    let r = search(&server, &room.ana, &[("q", "leaf")]).await;
    assert_eq!(r["facets"]["tag"]["art"], 2);
    assert_eq!(r["facets"]["tag"]["maths"], 1);
    assert_eq!(r["facets"]["class"][class], 2);
    assert_eq!(r["facets"]["class"][finches.as_str()], 1);
    // Dates: everything was made today (UTC).
    let today = chrono_free_today();
    assert_eq!(search(&server, &room.ana, &[("q", "leaf"), ("from", &today), ("to", &today)]).await["total"], 3);
    assert_eq!(search(&server, &room.ana, &[("q", "leaf"), ("to", "2001-01-01")]).await["total"], 0);
    let r = search(&server, &room.ana, &[("q", "leaf"), ("sort", "date"), ("limit", "1"), ("offset", "0")]).await;
    assert_eq!(ids(&r), vec![c.clone()], "newest first");
    assert_eq!(r["total"], 3, "the total counts every page");
    // Bad filters are refused with a message, not ignored.
    let res = room.ana.get(server.url("/api/v1/search?q=leaf&from=yesterday")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("YYYY-MM-DD"));
    let res = room.ana.get(server.url("/api/v1/search?q=leaf&class_id=../../x")).send().await.unwrap();
    assert!(res.status().is_client_error());

    // The page: results with highlighted snippets, a removable chip, facet links.
    let html = room.ana.get(server.url("/search?q=leaf+print&tag=art")).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("<mark>Leaf</mark>") || html.contains("<mark>leaf</mark>") || html.contains("Leaf print"),
        "{html}"
    );
    assert!(html.contains("Tag: art"), "a chip for the filter");
    assert!(html.contains("href=\"/search?q=leaf+print\""), "the chip removes the filter: {html}");
    assert!(html.contains("role=\"search\""), "a search box");
}

/// Today's date in UTC, as YYYY-MM-DD, without a date crate.
fn chrono_free_today() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    folio::domain::calendar::day_of(ms)
}

#[tokio::test]
async fn text_inside_files_is_found() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("report.pdf", folio::samples::pdf(&["Photosynthesis needs sunlight"])),
        ("essay.docx", docx("Chlorophyll makes leaves green")),
        ("sketch.py", b"def pollinate(flower):\n    return 'bumblebee'\n".to_vec()),
        ("page.html", b"<html><script>var hiddenscriptword=1</script><p>Stomata&amp;roots</p></html>".to_vec()),
    ];
    let mut found_ids = Vec::new();
    for (name, bytes) in files {
        let r = upload_ok(&server, &room.ana, &format!("File {name}"), vec![(name, bytes)]).await;
        found_ids.push(r["id"].as_str().unwrap().to_string());
    }
    for (q, i) in [("photosynthesis", 0), ("chlorophyll", 1), ("bumblebee", 2), ("pollinate", 2), ("stomata", 3)] {
        found_by(&server, &room.ana, q, &found_ids[i]).await;
    }
    assert!(ids(&find(&server, &room.ana, "hiddenscriptword").await).is_empty(), "script is not text");
}

#[tokio::test]
async fn a_rebuilt_index_gives_the_same_results() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    for (i, title) in ["Clay pot", "Clay bird", "Paper bird", "Bird song"].iter().enumerate() {
        let visibility = if i % 2 == 0 { "class" } else { "private" };
        let id = post_work(
            &server,
            &room.ana,
            &[("title", title), ("visibility", visibility), ("class_id", &room.class_id)],
        )
        .await;
        approve(&server, &room.teacher, &id).await;
    }
    search_until(&server, &room.ana, &[("q", "bird")], |r| r["total"] == 3).await;
    let queries = ["bird", "clay", "pot", "brd", "song"];
    let mut before = Vec::new();
    for q in queries {
        before.push((find(&server, &room.ana, q).await, find(&server, &room.ben, q).await));
    }
    let data = server.stop().await.unwrap();
    let path = data.path().to_path_buf();

    // `folio reindex`, the command an installer runs.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["reindex", "--data"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 pieces of work"), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("4/4"), "a progress bar");

    // And deleting the index directory: folio rebuilds it at start while serving.
    std::fs::remove_dir_all(path.join("search")).unwrap();
    let server = TestServer::start_with(path, |_| {}).await.unwrap();
    server.login(&room.ana, "ana", "ana-password").await;
    server.login(&room.ben, "ben", "ben-password").await;
    search_until(&server, &room.ana, &[("q", "bird")], |r| r["total"] == 3).await;
    search_until(&server, &room.ana, &[("q", "clay")], |r| r["total"] == 2).await;
    for (q, (ana_before, ben_before)) in queries.iter().zip(before) {
        let ana_after = find(&server, &room.ana, q).await;
        let ben_after = find(&server, &room.ben, q).await;
        assert_eq!(strip_scores(&ana_after), strip_scores(&ana_before), "ana / {q}");
        assert_eq!(strip_scores(&ben_after), strip_scores(&ben_before), "ben / {q}");
    }
    drop(data);
}

/// Results without scores (BM25 statistics shift with segment layout) and in id order.
fn strip_scores(results: &Value) -> Value {
    let mut hits: Vec<Value> = results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let mut h = h.clone();
            h.as_object_mut().unwrap().remove("score");
            h
        })
        .collect();
    hits.sort_by_key(|h| h["artifact_id"].as_str().unwrap().to_string());
    json!({"total": results["total"], "facets": results["facets"], "hits": hits})
}

#[tokio::test]
async fn changes_are_searchable_quickly() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let id = post_work(&server, &room.ana, &[("title", "First title")]).await;
    found_by(&server, &room.ana, "first", &id).await;
    let mut worst = Duration::ZERO;
    let words = [
        "apricot",
        "blueberry",
        "cherimoya",
        "damson",
        "elderberry",
        "feijoa",
        "guava",
        "huckleberry",
        "jujube",
        "kumquat",
    ];
    for (i, word) in words.iter().enumerate() {
        let word = word.to_string();
        let res = room
            .ana
            .patch(server.url(&format!("/api/v1/artifacts/{id}")))
            .json(&json!({"title": format!("Renamed {word}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let started = Instant::now();
        found_by(&server, &room.ana, &word, &id).await;
        worst = worst.max(started.elapsed());
        if i > 0 {
            let old = words[i - 1];
            assert!(ids(&find(&server, &room.ana, old).await).is_empty(), "the old title is gone with the new one");
        }
    }
    // Timing is measured by `cargo bench --bench search`; here it is only reported.
    eprintln!("slowest of 10 edits to become searchable: {worst:?}");
}

fn docx(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    let body = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#
    );
    zip.write_all(body.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}
