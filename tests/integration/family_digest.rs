//! The weekly family digest on paper: what it holds (work shared with the family and
//! approved, its reflection, thumbnail and feedback; nothing private, nothing of another
//! week), who may open it (the child's family, teachers and administrators; 404 for another
//! family, a classmate and a teacher of another class), the class's printout in each
//! family's language, and family sharing turned off.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::family_work::{family_of, share_with_family_and_approve};
use crate::support::*;
use crate::work::upload;

/// Ana's work with a picture and a reflection, shared with her family and approved.
async fn shared_work(server: &TestServer, room: &Classroom, title: &str, reflection: &str) -> Value {
    let res = upload(
        server,
        &room.ana,
        &[("title", title), ("reflection", reflection)],
        vec![("kite.png", crate::access::png())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact: Value = res.json().await.unwrap();
    share_with_family_and_approve(server, room, artifact["id"].as_str().unwrap()).await;
    artifact
}

async fn page(server: &TestServer, client: &Client, path: &str) -> (StatusCode, String) {
    let res = client.get(server.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The week folio's clock is in now, as `YYYY-Www`, from the digest page's own "next week"
/// link (the test does not keep a calendar of its own).
fn week_links(html: &str) -> (String, String) {
    let link = |rel: &str| {
        let at = html.find(&format!("rel=\"{rel}\"")).unwrap_or_else(|| panic!("a {rel} link in {html}"));
        let before = &html[..at];
        let href = &before[before.rfind("week=").unwrap() + 5..];
        href[..href.find('"').unwrap()].to_string()
    };
    (link("prev"), link("next"))
}

#[tokio::test]
async fn a_digest_holds_the_week_s_shared_work_for_the_family_and_no_one_else() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let mum = family_of(&server, &room, &room.ana_id, "anasmum").await.0;
    let kite = shared_work(&server, &room, "Kite", "I used red and blue paper").await;
    let kite_id = kite["id"].as_str().unwrap();
    let res = server
        .post(&room.teacher, &format!("/api/v1/artifacts/{kite_id}/comments"), json!({"body": "Great colours, Ana"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = upload(&server, &room.ana, &[("title", "Secret diary")], vec![("d.txt", b"mine".to_vec())]).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let ana = &room.ana_id;
    let (status, html) = page(&server, &mum, &format!("/family/digest?student={ana}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Kite") && html.contains("I used red and blue paper"), "{html}");
    assert!(html.contains("Great colours, Ana") && html.contains("Feedback from TINA"), "{html}");
    let file_id = kite["versions"][0]["files"][0]["id"].as_str().unwrap();
    assert!(html.contains(&format!("/api/v1/artifacts/{kite_id}/files/{file_id}/thumbnail")), "a thumbnail: {html}");
    assert!(!html.contains("Secret diary"), "private work stays private");
    assert!(html.contains("@media print") || html.contains("/static/style.css"), "the print stylesheet");

    // The same week named by its label or one of its days; the week before holds nothing.
    let (previous, next) = week_links(&html);
    let this_week = {
        let (p, n) = (previous.clone(), next);
        assert_ne!(p, n);
        let (_, html) = page(&server, &mum, &format!("/family/digest?student={ana}&week={n}")).await;
        week_links(&html).0
    };
    let (status, html) = page(&server, &mum, &format!("/family/digest?student={ana}&week={this_week}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Kite"), "{this_week}: {html}");
    let (_, html) = page(&server, &mum, &format!("/family/digest?student={ana}&week={previous}")).await;
    assert!(!html.contains("Kite") && html.contains("Nothing was shared with the family this week"), "{html}");
    let (status, _) = page(&server, &mum, &format!("/family/digest?student={ana}&week=someday")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Ana's teacher finds it on her person page, beside her family; the administrator too.
    let (_, person) = page(&server, &room.teacher, &format!("/people/{ana}")).await;
    assert!(person.contains(&format!("/family/digest?student={ana}")), "{person}");
    // Ana's teacher and the administrator open it too.
    for reader in [&room.teacher, &room.admin] {
        let (status, html) = page(&server, reader, &format!("/family/digest?student={ana}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Kite") && !html.contains("Secret diary"), "what the family sees, no more: {html}");
    }

    // Nobody else: another family, a classmate, a teacher of another class.
    let ben_id = server.get_json(&room.ben, "/api/v1/me").await["id"].as_str().unwrap().to_string();
    let bens_dad = family_of(&server, &room, &ben_id, "bensdad").await.0;
    let (_, tom) = server.person(&room.admin, "tom", "teacher").await;
    let toms_class = server.create_class(&tom, "Owls").await["id"].as_str().unwrap().to_string();
    for (who, client) in [("another family", &bens_dad), ("a classmate", &room.ben), ("another teacher", &tom)] {
        let (status, html) = page(&server, client, &format!("/family/digest?student={ana}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!html.contains("Kite"), "{who}");
        let (status, _) = page(&server, client, &format!("/classes/{}/family-digests", room.class_id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}: the class's digests");
    }
    let (status, _) = page(&server, &mum, &format!("/classes/{}/family-digests", room.class_id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a family prints no class's digests");
    let (status, _) = page(&server, &tom, &format!("/classes/{toms_class}/family-digests")).await;
    assert_eq!(status, StatusCode::OK, "Tom prints his own class's");
    let (status, _) = page(&server, &mum, &format!("/family/digest?student={ben_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a sibling");
    let (status, _) = page(&server, &mum, "/family/digest?student=not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let anonymous = server.client();
    let (status, html) = page(&server, &anonymous, &format!("/family/digest?student={ana}")).await;
    assert!(!html.contains("Kite"), "{status}: signed out");
}

#[tokio::test]
async fn a_class_printout_speaks_each_family_s_language_and_sharing_off_empties_it() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let mum = family_of(&server, &room, &room.ana_id, "anasmum").await.0;
    let res = mum.put(server.url("/api/v1/me/language")).json(&json!({"language": "es"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    shared_work(&server, &room, "Cometa", "Usé papel rojo").await;

    let digests = format!("/classes/{}/family-digests", room.class_id);
    let (status, html) = page(&server, &room.teacher, &digests).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("data-testid=\"digest\"").count(), 2, "one digest per student: {html}");
    // Ana's family reads Spanish; Ben's chose nothing, so his speaks the teacher's page's.
    assert!(html.contains("lang=\"es\"") && html.contains("La semana de ANA en folio"), "{html}");
    assert!(html.contains("BEN") && html.contains("week in folio"), "{html}");
    assert!(html.contains("Weekly digests: Robins"), "the frame in the teacher's language: {html}");
    assert!(html.contains("Cometa") && html.contains("Usé papel rojo"));
    // The family reads theirs in their own language.
    let (_, own) = page(&server, &mum, &format!("/family/digest?student={}", room.ana_id)).await;
    assert!(own.contains("La semana de ANA en folio") && own.contains("Cometa"), "{own}");

    // Family sharing off: nothing for families, on paper or on screen.
    room.set_settings(&server, json!({"family_sharing": false})).await;
    let (_, html) = page(&server, &room.teacher, &digests).await;
    assert!(!html.contains("Cometa"), "{html}");
    assert!(html.contains("Family sharing is off for this class"), "{html}");
    let (_, own) = page(&server, &mum, &format!("/family/digest?student={}", room.ana_id)).await;
    assert!(!own.contains("Cometa"), "{own}");
}
