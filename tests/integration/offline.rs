//! The offline app's side of the box. Work sent again with the id its device made arrives
//! once: a retry after a lost answer, copies racing each other, versions and comments; an id
//! used by someone else or for something else is refused, a malformed one too. A database of
//! the previous format gets the id index at start. Only a student's own pages and thumbnails
//! are marked for keeping on a device; the manifest and the service worker are served as
//! browsers need them.

use redb::ReadableDatabase;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::access::png;
use crate::support::*;
use crate::work::{form, upload};

fn device_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn my_id(server: &TestServer, client: &Client) -> String {
    json_of(server.get(client, "/api/v1/me").await).await["id"].as_str().unwrap().to_string()
}

/// The titles in a student's portfolio, as the API lists it.
async fn titles(server: &TestServer, client: &Client, student: &str) -> Vec<String> {
    let list = json_of(server.get(client, &format!("/api/v1/users/{student}/artifacts")).await).await;
    list.as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
}

async fn post_version(server: &TestServer, client: &Client, artifact: &str, id: &str) -> reqwest::Response {
    let form = form(&[("id", id), ("note", "taller")], vec![("tower-2.png", png())]);
    client.post(server.url(&format!("/api/v1/artifacts/{artifact}/versions"))).multipart(form).send().await.unwrap()
}

async fn post_comment(server: &TestServer, client: &Client, artifact: &str, body: Value) -> reqwest::Response {
    server.post(client, &format!("/api/v1/artifacts/{artifact}/comments"), body).await
}

#[tokio::test]
async fn offline_a_retry_after_a_lost_answer_creates_nothing_new() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let id = device_id();
    let fields = [("id", id.as_str()), ("title", "Bus stop drawing"), ("reflection", "Drawn on the bus.")];

    let first = upload(&server, &room.ana, &fields, vec![("bus.png", png())]).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["id"], id.as_str(), "the artifact keeps the id its device made");

    // The answer never reached the device, so it sends the same request again.
    let again = upload(&server, &room.ana, &fields, vec![("bus.png", png())]).await;
    assert_eq!(again.status(), StatusCode::CREATED, "a copy is answered like the first time");
    assert_eq!(again.json::<Value>().await.unwrap(), first, "with the same artifact");
    assert_eq!(titles(&server, &room.ana, &room.ana_id).await, ["Bus stop drawing"]);
}

#[tokio::test]
async fn offline_copies_racing_each_other_make_one_artifact() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let id = device_id();
    let fields = [("id", id.as_str()), ("title", "Kite")];
    let sends = (0..6).map(|_| upload(&server, &room.ana, &fields, vec![("kite.png", png())]));
    let answers = futures_util::future::join_all(sends).await;
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.json::<Value>().await.unwrap()["id"], id.as_str());
    }
    assert_eq!(titles(&server, &room.ana, &room.ana_id).await, ["Kite"], "one artifact, whoever won");
}

#[tokio::test]
async fn offline_an_id_someone_else_used_is_refused() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let id = device_id();
    let res = upload(&server, &room.ana, &[("id", &id), ("title", "Mine")], vec![("a.png", png())]).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let res = upload(&server, &room.ben, &[("id", &id), ("title", "Not yours")], vec![("b.png", png())]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(res).await["error"], "conflict");
    let ben = my_id(&server, &room.ben).await;
    assert!(titles(&server, &room.ben, &ben).await.is_empty(), "nothing made for Ben");
    assert_eq!(titles(&server, &room.ana, &room.ana_id).await, ["Mine"], "Ana's work untouched");
}

#[tokio::test]
async fn offline_malformed_ids_are_refused_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    for bad in ["42", "not-an-id", "00000000-0000-0000-0000-000000000000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"] {
        let res = upload(&server, &room.ana, &[("id", bad), ("title", "Odd")], vec![("a.png", png())]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(json_of(res).await["message"].as_str().unwrap().contains("\"id\" must be a UUID"));
    }
    // A random (version 4) id, as crypto.randomUUID() makes, is fine.
    let v4 = uuid::Uuid::new_v4().to_string();
    let res = upload(&server, &room.ana, &[("id", &v4), ("title", "Random id")], vec![("a.png", png())]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(titles(&server, &room.ana, &room.ana_id).await, ["Random id"]);
}

#[tokio::test]
async fn offline_versions_sent_twice_are_added_once() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let tower = crate::work::upload_ok(&server, &room.ana, "Tower", vec![("tower.png", png())]).await;
    let tower = tower["id"].as_str().unwrap().to_string();
    let bridge = crate::work::upload_ok(&server, &room.ana, "Bridge", vec![("bridge.png", png())]).await;
    let bridge = bridge["id"].as_str().unwrap().to_string();
    let id = device_id();

    let first = post_version(&server, &room.ana, &tower, &id).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["id"], id.as_str());
    let again = post_version(&server, &room.ana, &tower, &id).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let artifact = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{tower}")).await).await;
    assert_eq!(artifact["versions"].as_array().unwrap().len(), 2, "the first version and one more");

    // The same id for another piece of work is a conflict, not a second version.
    assert_eq!(post_version(&server, &room.ana, &bridge, &id).await.status(), StatusCode::CONFLICT);
    let artifact = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{bridge}")).await).await;
    assert_eq!(artifact["versions"].as_array().unwrap().len(), 1);
    assert_eq!(post_version(&server, &room.ana, &bridge, "v2").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Ana's work, shared with her class and approved, so Ben and the teacher may comment.
async fn shared_work(server: &TestServer, room: &Classroom, title: &str) -> String {
    let res = upload(server, &room.ana, &[("title", title), ("visibility", "class")], vec![("w.png", png())]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = json_of(res).await["id"].as_str().unwrap().to_string();
    let res = server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    id
}

#[tokio::test]
async fn offline_comments_sent_twice_are_added_once() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let work = shared_work(&server, &room, "Volcano").await;
    let other = shared_work(&server, &room, "Glacier").await;
    let id = device_id();
    let body = json!({"id": id, "body": "I made the lava red."});

    let first = post_comment(&server, &room.ana, &work, body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["id"], id.as_str());
    let again = post_comment(&server, &room.ana, &work, body.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let listed = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{work}/comments")).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Someone else with that id, or the same id on other work: refused, nothing added.
    let teacher = json!({"id": id, "body": "Lovely colours."});
    assert_eq!(post_comment(&server, &room.teacher, &work, teacher).await.status(), StatusCode::CONFLICT);
    assert_eq!(post_comment(&server, &room.ben, &work, body.clone()).await.status(), StatusCode::CONFLICT);
    assert_eq!(post_comment(&server, &room.ana, &other, body).await.status(), StatusCode::CONFLICT);
    let listed = json_of(server.get(&room.teacher, &format!("/api/v1/artifacts/{work}/comments")).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let listed = json_of(server.get(&room.teacher, &format!("/api/v1/artifacts/{other}/comments")).await).await;
    assert!(listed.as_array().unwrap().is_empty());

    let res = post_comment(&server, &room.ana, &work, json!({"id": "nope", "body": "x"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn offline_a_database_of_the_previous_format_gets_the_id_index() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let work = shared_work(&server, &room, "Seeds").await;
    let other = shared_work(&server, &room, "Roots").await;
    let (version, comment) = (device_id(), device_id());
    let first_version = json_of(post_version(&server, &room.ana, &work, &version).await).await;
    let body = json!({"id": comment, "body": "Day 3: a shoot."});
    let first_comment = json_of(post_comment(&server, &room.ana, &work, body.clone()).await).await;
    assert_eq!(first_comment["id"], comment.as_str());
    let dir = server.data_dir.clone();
    let temp = server.stop().await;

    // What a folio of format 1 left behind: no index tables.
    {
        let db = redb::Database::open(db_path(&dir)).unwrap();
        let txn = db.begin_write().unwrap();
        txn.delete_table(folio::store::tables::VERSION_ID_TO_ARTIFACT_ID).unwrap();
        txn.delete_table(folio::store::tables::COMMENT_ID_TO_ARTIFACT_ID).unwrap();
        txn.open_table(folio::store::tables::META)
            .unwrap()
            .insert("schema_version", 1u32.to_be_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let server = TestServer::start_with(dir.clone(), |_| {}).await.unwrap();
    let ana = server.client();
    server.login(&ana, "ana", "ana-password").await;
    // Answered as the first time, which only the index can tell...
    assert_eq!(json_of(post_version(&server, &ana, &work, &version).await).await, first_version);
    assert_eq!(json_of(post_comment(&server, &ana, &work, body.clone()).await).await, first_comment);
    // ...and the ids are taken for other work too.
    assert_eq!(post_version(&server, &ana, &other, &version).await.status(), StatusCode::CONFLICT);
    assert_eq!(post_comment(&server, &ana, &other, body).await.status(), StatusCode::CONFLICT);
    let artifact = json_of(server.get(&ana, &format!("/api/v1/artifacts/{work}")).await).await;
    assert_eq!(artifact["versions"].as_array().unwrap().len(), 2, "the old version id was found, not added again");
    let listed = json_of(server.get(&ana, &format!("/api/v1/artifacts/{work}/comments")).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    server.stop().await;

    let db = redb::Database::open(db_path(&dir)).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(folio::store::tables::META).unwrap();
    let found = meta.get("schema_version").unwrap().unwrap().value().to_vec();
    assert_eq!(found, folio::store::tables::SCHEMA_VERSION.to_be_bytes(), "the file now has the new format");
    drop(temp);
}

fn kept_for(res: &reqwest::Response) -> Option<String> {
    let keep = res.headers().get("x-folio-offline")?;
    assert_eq!(keep, "keep");
    Some(res.headers().get("x-folio-offline-owner").expect("a kept answer names its owner").to_str().unwrap().into())
}

async fn kept(server: &TestServer, client: &Client, path: &str) -> Option<String> {
    let res = server.get(client, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    kept_for(&res)
}

#[tokio::test]
async fn offline_only_a_students_own_pages_are_marked_for_keeping() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let ana_work = shared_work(&server, &room, "Ana's map").await;
    let res =
        upload(&server, &room.ben, &[("title", "Ben's map"), ("visibility", "class")], vec![("b.png", png())]).await;
    let ben_work = json_of(res).await;
    let ben_file = ben_work["files"][0]["id"].as_str().unwrap().to_string();
    let ben_work = ben_work["id"].as_str().unwrap().to_string();
    server.post(&room.teacher, &format!("/api/v1/artifacts/{ben_work}/review"), json!({"approved": true})).await;
    let ben = my_id(&server, &room.ben).await;
    let ana_file =
        json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{ana_work}")).await).await["files"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let thumb = |work: &str, file: &str| format!("/api/v1/artifacts/{work}/files/{file}/thumbnail");

    // Ana's own: her home (with the new-work form), portfolio, work page and thumbnails.
    let ana = Some(room.ana_id.clone());
    assert_eq!(kept(&server, &room.ana, "/home").await, ana);
    assert_eq!(kept(&server, &room.ana, &format!("/students/{}", room.ana_id)).await, ana);
    assert_eq!(kept(&server, &room.ana, &format!("/work/{ana_work}")).await, ana);
    assert_eq!(kept(&server, &room.ana, &thumb(&ana_work, &ana_file)).await, ana);

    // Not a classmate's work she may see, nor his portfolio, nor his thumbnails.
    assert_eq!(kept(&server, &room.ana, &format!("/work/{ben_work}")).await, None);
    assert_eq!(kept(&server, &room.ana, &format!("/students/{ben}")).await, None);
    assert_eq!(kept(&server, &room.ana, &thumb(&ben_work, &ben_file)).await, None);
    // Nor the file itself, the search or an activity-free page like the API's JSON.
    assert_eq!(kept(&server, &room.ana, &format!("/api/v1/artifacts/{ana_work}/files/{ana_file}")).await, None);
    assert_eq!(kept(&server, &room.ana, &format!("/api/v1/artifacts/{ana_work}")).await, None);
    assert_eq!(kept(&server, &room.ana, "/search?q=map").await, None);

    // A teacher's pages are never kept, not even the student's work they open.
    for path in [
        "/home".to_string(),
        format!("/work/{ana_work}"),
        format!("/students/{}", room.ana_id),
        thumb(&ana_work, &ana_file),
        format!("/classes/{}", room.class_id),
    ] {
        assert_eq!(kept(&server, &room.teacher, &path).await, None, "{path}");
    }
    // Nor an administrator's.
    assert_eq!(kept(&server, &room.admin, "/home").await, None);
}

#[tokio::test]
async fn offline_the_app_manifest_worker_and_offline_page_are_served_as_browsers_need() {
    let server = TestServer::start().await;
    let anyone = server.client();

    let res = server.get(&anyone, "/manifest.webmanifest").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/manifest+json");
    let manifest: Value = res.json().await.unwrap();
    assert_eq!((manifest["name"].as_str(), manifest["start_url"].as_str()), (Some("folio"), Some("/")));
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().unwrap() {
        let res = server.get(&anyone, icon["src"].as_str().unwrap()).await;
        assert_eq!(res.status(), StatusCode::OK, "{icon}");
        let bytes = res.bytes().await.unwrap();
        if icon["type"] == "image/png" {
            let img = image::load_from_memory(&bytes).unwrap();
            let size = format!("{}x{}", img.width(), img.height());
            assert_eq!(icon["sizes"], size.as_str(), "{icon}");
        }
    }
    assert!(manifest["icons"].as_array().unwrap().iter().any(|i| i["purpose"] == "maskable"));

    let res = server.get(&anyone, "/sw.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("worker-src 'self'"), "{csp}");
    let script = res.text().await.unwrap();
    assert!(!script.contains("__FOLIO_BUILD__") && script.contains("const BUILD = \""), "the build id is filled in");

    let res = server.get(&anyone, "/offline").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("x-folio-offline").is_none(), "the same for everyone: part of the shell");
    assert!(res.text().await.unwrap().contains("You are offline"));
}

#[tokio::test]
async fn offline_signing_out_clears_the_browser_cache_but_not_site_storage() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let page = room.ana.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let res = room.ana.post(server.url("/signout")).form(&[("csrf", csrf)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // "storage" would delete the outbox's unsent work too.
    assert_eq!(res.headers()["clear-site-data"], "\"cache\"");
}
