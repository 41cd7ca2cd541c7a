//! Skills with levels: a CASE 1.1 package and a CSV imported (and imported again, which
//! updates), skills managed one at a time, the scale of levels, and who may do each.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::*;
use crate::work::op_count;

/// A CASE 1.1 package in the shape CASE frameworks publish (`CFPackage`: the document, its
/// items with `identifier`, `humanCodingScheme`, `fullStatement`, `CFItemType`, and
/// `isChildOf` associations from each item to its parent), cut down to two domains.
pub fn case_package(statement_1: &str) -> Value {
    let doc = "c6496676-d7cb-11e8-824f-0242ac160002";
    let uri = |kind: &str, id: &str| format!("https://case.example.org/ims/case/v1p0/{kind}/{id}");
    let doc_ref = json!({"title": "Grade 3 Mathematics", "identifier": doc, "uri": uri("CFDocuments", doc)});
    let item = |id: &str, code: &str, statement: &str, kind: &str| {
        json!({
            "identifier": id,
            "uri": uri("CFItems", id),
            "CFDocumentURI": doc_ref,
            "humanCodingScheme": code,
            "fullStatement": statement,
            "CFItemType": kind,
            "lastChangeDateTime": "2018-03-01T21:01:43+00:00",
            "language": "en",
            "educationLevel": ["03"]
        })
    };
    let child = |id: &str, child: &str, parent: &str, parent_is_doc: bool| {
        json!({
            "identifier": id,
            "uri": uri("CFAssociations", id),
            "associationType": "isChildOf",
            "CFDocumentURI": doc_ref,
            "originNodeURI": {"title": child, "identifier": child, "uri": uri("CFItems", child)},
            "destinationNodeURI": {
                "title": parent,
                "identifier": parent,
                "uri": uri(if parent_is_doc { "CFDocuments" } else { "CFItems" }, parent)
            },
            "lastChangeDateTime": "2018-03-01T21:01:43+00:00"
        })
    };
    let (nf, oa) = ("5b0c8d6a-d7cb-11e8-824f-0242ac160002", "5b0c9fa6-d7cb-11e8-824f-0242ac160002");
    let (nf1, nf2, oa1) = (
        "5b0ca2c4-d7cb-11e8-824f-0242ac160002",
        "5b0ca4ea-d7cb-11e8-824f-0242ac160002",
        "5b0ca6e8-d7cb-11e8-824f-0242ac160002",
    );
    json!({
        "CFDocument": {
            "identifier": doc,
            "uri": uri("CFDocuments", doc),
            "creator": "A state department of education",
            "title": "Grade 3 Mathematics",
            "lastChangeDateTime": "2018-03-01T21:01:43+00:00",
            "adoptionStatus": "Adopted",
            "CFPackageURI": {"title": "Grade 3 Mathematics", "identifier": doc, "uri": uri("CFPackages", doc)}
        },
        "CFItems": [
            item(nf, "3.NF", "Number and Operations—Fractions", "Domain"),
            item(nf1, "3.NF.A.1", statement_1, "Standard"),
            item(nf2, "3.NF.A.2", "Understand a fraction as a number on the number line.", "Standard"),
            item(oa, "3.OA", "Operations and Algebraic Thinking", "Domain"),
            item(oa1, "3.OA.A.1", "Interpret products of whole numbers.", "Standard"),
        ],
        "CFAssociations": [
            child("a1000000-d7cb-11e8-824f-0242ac160002", nf, doc, true),
            child("a2000000-d7cb-11e8-824f-0242ac160002", oa, doc, true),
            child("a3000000-d7cb-11e8-824f-0242ac160002", nf1, nf, false),
            child("a4000000-d7cb-11e8-824f-0242ac160002", nf2, nf, false),
            child("a5000000-d7cb-11e8-824f-0242ac160002", oa1, oa, false),
        ],
        "CFDefinitions": {"CFItemTypes": [], "CFSubjects": []}
    })
}

pub async fn import_case(server: &TestServer, client: &Client, package: &Value) -> reqwest::Response {
    server.post(client, "/api/v1/skills/import", package.clone()).await
}

async fn import_csv(server: &TestServer, client: &Client, csv: &str) -> reqwest::Response {
    client
        .post(server.url("/api/v1/skills/import"))
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
}

fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().unwrap().clone()
}

fn by_code(list: &Value, code: &str) -> Value {
    items(list).into_iter().find(|s| s["code"] == code).unwrap_or_else(|| panic!("no {code} in {list}"))
}

#[tokio::test]
async fn a_case_package_imports_its_standards_grouped_and_a_reimport_updates_them() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let first = "Understand a fraction 1/b as the quantity formed by 1 part.";
    let res = import_case(&server, &room.teacher, &case_package(first)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await, json!({"created": 3, "updated": 0, "unchanged": 0}));

    let list = server.get_json(&room.ana, "/api/v1/skills").await;
    assert_eq!(items(&list).len(), 3, "the domains are groups, not skills: {list}");
    let nf1 = by_code(&list, "3.NF.A.1");
    assert_eq!(nf1["name"], first);
    assert_eq!(nf1["group"], "3.NF Number and Operations—Fractions");
    assert_eq!(nf1["case_id"], "5b0ca2c4-d7cb-11e8-824f-0242ac160002");
    assert_eq!(by_code(&list, "3.OA.A.1")["group"], "3.OA Operations and Algebraic Thinking");
    assert_eq!(list["skills"], json!(["3.NF.A.1", "3.NF.A.2", "3.OA.A.1"]));

    // The same package again, one statement reworded: matched by identifier, not added twice.
    let reworded = "Understand a fraction 1/b as one part of a whole cut into b equal parts.";
    let res = import_case(&server, &room.teacher, &case_package(reworded)).await;
    assert_eq!(json_of(res).await, json!({"created": 0, "updated": 1, "unchanged": 2}));
    let again = server.get_json(&room.ana, "/api/v1/skills").await;
    assert_eq!(items(&again).len(), 3);
    assert_eq!(by_code(&again, "3.NF.A.1")["name"], reworded);
    assert_eq!(by_code(&again, "3.NF.A.1")["id"], nf1["id"], "the same skill, so its ratings stay");

    // Work is tagged by code.
    let ok = crate::work::upload(
        &server,
        &room.ana,
        &[("title", "Fractions"), ("skills", "3.NF.A.1")],
        vec![("a.txt", b"halves".to_vec())],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_package_that_is_not_case_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let ops = op_count(&server);
    for bad in [json!({"hello": "world"}), json!({"CFDocument": {"identifier": "x", "title": "Empty"}, "CFItems": []})]
    {
        let res = import_case(&server, &room.teacher, &bad).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = room
        .teacher
        .post(server.url("/api/v1/skills/import"))
        .header("content-type", "application/xml")
        .body("<CFPackage/>")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(op_count(&server), ops);
}

#[tokio::test]
async fn a_csv_imports_and_a_reimport_updates_by_code() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let csv = "code,name,group\nCOLLAB,Working together,Habits\nFR.1,Compare fractions,Fractions\nSPEAK,Speaking,\n";
    let res = import_csv(&server, &room.admin, csv).await;
    assert_eq!(json_of(res).await, json!({"created": 3, "updated": 0, "unchanged": 0}));
    let list = server.get_json(&room.teacher, "/api/v1/skills").await;
    assert_eq!(by_code(&list, "COLLAB")["group"], "Habits");
    assert_eq!(by_code(&list, "SPEAK")["group"], Value::Null);

    let res = import_csv(&server, &room.teacher, "collab,Collaboration,Habits\nNEW.1,Something new,\n").await;
    assert_eq!(json_of(res).await, json!({"created": 1, "updated": 1, "unchanged": 0}));
    let list = server.get_json(&room.teacher, "/api/v1/skills").await;
    assert_eq!(items(&list).len(), 4);
    assert_eq!(by_code(&list, "collab")["name"], "Collaboration", "matched by code whatever its case");

    // A bad line: every problem said, nothing imported.
    let ops = op_count(&server);
    let res = import_csv(&server, &room.teacher, "OK.1,Fine\n,no code\nX,a,b,c\n").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("line 2") && message.contains("line 3"), "{message}");
    assert_eq!(op_count(&server), ops);
}

#[tokio::test]
async fn teachers_and_admins_manage_skills_and_only_admins_the_scale() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    // Students read the list but change nothing.
    assert_eq!(import_csv(&server, &room.ana, "A,a,\n").await.status(), StatusCode::FORBIDDEN);
    let res = server.post(&room.ana, "/api/v1/skills/items", json!({"code": "A"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res =
        server.post(&room.teacher, "/api/v1/skills/items", json!({"code": "COLLAB", "name": "Collaboration"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let skill = json_of(res).await;
    let dup = server.post(&room.admin, "/api/v1/skills/items", json!({"code": "collab"})).await;
    assert_eq!(dup.status(), StatusCode::UNPROCESSABLE_ENTITY, "one skill per code");
    let path = format!("/api/v1/skills/items/{}", skill["id"].as_str().unwrap());
    let res = room
        .teacher
        .put(server.url(&path))
        .json(&json!({"code": "COLLAB", "name": "Collaboration", "group": "Habits", "retired": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = server.get_json(&room.ana, "/api/v1/skills").await;
    assert_eq!(list["skills"], json!([]), "a retired skill is not offered");
    assert_eq!(by_code(&list, "COLLAB")["retired"], true);

    // The scale: four levels by default; admins rename them or change their count.
    let levels: Vec<Value> = list["levels"].as_array().unwrap().clone();
    assert_eq!(
        levels.iter().map(|l| l["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Beginning", "Developing", "Secure", "Extending"]
    );
    assert_eq!(list["custom_levels"], false);
    let three = json!({"levels": ["Not yet", "Nearly", "Got it"]});
    let res = room.teacher.put(server.url("/api/v1/skills/levels")).json(&three).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = room.admin.put(server.url("/api/v1/skills/levels")).json(&three).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = server.get_json(&room.ana, "/api/v1/skills").await;
    assert_eq!(
        list["levels"],
        json!([
            {"level": 1, "name": "Not yet"},
            {"level": 2, "name": "Nearly"},
            {"level": 3, "name": "Got it"}
        ])
    );
    let one = json!({"levels": ["Only"]});
    let res = room.admin.put(server.url("/api/v1/skills/levels")).json(&one).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_skills_page_imports_a_case_package_adds_retires_and_sets_levels_without_scripts() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    assert_eq!(server.get(&room.ana, "/skills").await.status(), StatusCode::NOT_FOUND, "not for students");
    let page = server.get(&room.teacher, "/skills").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"no-skills\"") && html.contains("Developing"), "{html}");
    assert!(!html.contains("/skills/levels\""), "only administrators change the scale");

    let csrf = server.csrf_of(&room.teacher, "/skills").await;
    let package = serde_json::to_vec(&case_package("Understand a fraction 1/b.")).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(package).file_name("grade3.json"));
    let res = room.teacher.post(server.url("/skills/import")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/skills?done=skills-imported");
    let html = server.get(&room.teacher, "/skills?done=skills-imported").await.text().await.unwrap();
    assert!(html.contains("The skills are imported."));
    assert!(html.contains("3.NF Number and Operations—Fractions") && html.contains("3.NF.A.2"), "{html}");

    let res = room
        .teacher
        .post(server.url("/skills"))
        .form(&[("csrf", csrf.as_str()), ("code", "COLLAB"), ("name", "Collaboration"), ("group", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(server.get(&room.teacher, "/skills").await.text().await.unwrap().contains("Collaboration"));
    let again = room
        .teacher
        .post(server.url("/skills"))
        .form(&[("csrf", csrf.as_str()), ("code", "collab"), ("name", "Twice")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.unwrap().contains("value=\"Twice\""), "what was typed stays in the form");

    let list = server.get_json(&room.teacher, "/api/v1/skills").await;
    let id = by_code(&list, "COLLAB")["id"].as_str().unwrap().to_string();
    room.teacher
        .post(server.url(&format!("/skills/{id}/retired")))
        .form(&[("csrf", csrf.as_str()), ("retired", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_code(&server.get_json(&room.teacher, "/api/v1/skills").await, "COLLAB")["retired"], true);

    let admin_csrf = server.csrf_of(&room.admin, "/skills").await;
    let res = room
        .teacher
        .post(server.url("/skills/levels"))
        .form(&[("csrf", csrf.as_str()), ("levels", "Low\nHigh")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = room
        .admin
        .post(server.url("/skills/levels"))
        .form(&[("csrf", admin_csrf.as_str()), ("levels", "Not yet\r\nNearly\r\nGot it\r\n")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = server.get(&room.teacher, "/skills").await.text().await.unwrap();
    assert!(html.contains("<li>Got it</li>"), "{html}");
    let list = server.get_json(&room.teacher, "/api/v1/skills").await;
    assert_eq!(list["levels"].as_array().unwrap().len(), 3);

    // The page in Spanish names the default levels in Spanish.
    room.admin
        .post(server.url("/skills/levels"))
        .form(&[("csrf", admin_csrf.as_str()), ("levels", ""), ("reset", "1")])
        .send()
        .await
        .unwrap();
    let es = room.teacher.get(server.url("/skills")).header("accept-language", "es").send().await.unwrap();
    let html = es.text().await.unwrap();
    assert!(html.contains("En desarrollo"), "{html}");
}
