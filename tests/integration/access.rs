//! The access matrix: for every artifact, file and comment route, people outside the work's
//! circle get 404 (as if it did not exist), and a caller without a session gets 401. The work
//! is shared as widely as it can be (family visibility, approved), so only true outsiders
//! are refused.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::support::*;
use crate::work::{form, upload_ok};

#[tokio::test]
async fn outsiders_get_404_and_strangers_401_on_every_work_route() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    // Another class with its own teacher and student, and that student's family.
    let (_, tom) = server.person(&room.admin, "tom", "teacher").await;
    let owls = server.create_class(&tom, "Owls").await;
    let (carl_id, carl) = server.person(&room.admin, "carl", "student").await;
    server.add_student(&tom, owls["id"].as_str().unwrap(), &carl_id).await;
    let (fam_id, family) = server.person(&room.admin, "carlsmum", "family").await;
    let link =
        server.post(&room.admin, &format!("/api/v1/users/{fam_id}/family"), json!({"student_id": carl_id})).await;
    assert_eq!(link.status(), StatusCode::NO_CONTENT);

    let artifact = upload_ok(&server, &room.ana, "Shared widely", vec![("pic.png", png())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();
    let file = artifact["files"][0]["id"].as_str().unwrap().to_string();
    room.ana
        .patch(server.url(&format!("/api/v1/artifacts/{id}")))
        .json(&json!({"visibility": "family"}))
        .send()
        .await
        .unwrap();
    server.post(&room.teacher, &format!("/api/v1/artifacts/{id}/review"), json!({"approved": true})).await;
    let comment =
        json_of(server.post(&room.ben, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "nice"})).await)
            .await;
    let comment = comment["id"].as_str().unwrap().to_string();

    let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/api/v1/artifacts/{id}"), None),
        (Method::PATCH, format!("/api/v1/artifacts/{id}"), Some(json!({"title": "hacked"}))),
        (Method::GET, format!("/api/v1/artifacts/{id}/files/{file}"), None),
        (Method::GET, format!("/api/v1/artifacts/{id}/files/{file}/thumbnail"), None),
        (Method::GET, format!("/api/v1/artifacts/{id}/comments"), None),
        (Method::POST, format!("/api/v1/artifacts/{id}/comments"), Some(json!({"body": "hello"}))),
        (Method::POST, format!("/api/v1/artifacts/{id}/comments/{comment}/approve"), None),
        (Method::POST, format!("/api/v1/artifacts/{id}/review"), Some(json!({"approved": false}))),
        (Method::POST, format!("/api/v1/artifacts/{id}/versions"), None),
        (Method::GET, format!("/api/v1/users/{}/artifacts", room.ana_id), None),
        (Method::DELETE, format!("/api/v1/artifacts/{id}"), None),
    ];
    let outsiders: [(&str, &Client); 3] =
        [("another student", &carl), ("a teacher of another class", &tom), ("another child's family", &family)];
    let stranger = server.client();
    for (method, path, body) in &routes {
        let send = |client: &Client| {
            let mut req = client.request(method.clone(), server.url(path));
            if path.ends_with("/versions") {
                req = req.multipart(form(&[("note", "x")], vec![("x.txt", b"x".to_vec())]));
            } else if let Some(b) = body {
                req = req.json(b);
            }
            req.send()
        };
        for (who, client) in outsiders {
            let res = send(client).await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}: {method} {path}");
        }
        assert_eq!(send(&stranger).await.unwrap().status(), StatusCode::UNAUTHORIZED, "no session: {method} {path}");
    }
    // The school's leader reads the shared work (every read route answers) and changes
    // nothing (every write is refused).
    let (_, leader) = server.person(&room.admin, "lena", "leader").await;
    for (method, path, body) in &routes {
        let mut req = leader.request(method.clone(), server.url(path));
        if path.ends_with("/versions") {
            req = req.multipart(form(&[("note", "x")], vec![("x.txt", b"x".to_vec())]));
        } else if let Some(b) = body {
            req = req.json(b);
        }
        let status = req.send().await.unwrap().status();
        if *method == Method::GET {
            assert!(status.is_success(), "a leader: {method} {path}: {status}");
        } else {
            assert!(status.is_client_error(), "a leader: {method} {path}: {status}");
        }
    }
    // Nothing the outsiders tried changed the work, and its owner still has it.
    let got = json_of(server.get(&room.ana, &format!("/api/v1/artifacts/{id}")).await).await;
    assert_eq!(got["title"], "Shared widely");
    assert_eq!(got["versions"].as_array().unwrap().len(), 1);
    // The circle itself can see it: a classmate, the teacher (and the owner's own family would).
    assert_eq!(server.get(&room.ben, &format!("/api/v1/artifacts/{id}")).await.status(), StatusCode::OK);
    assert_eq!(
        server.get(&room.teacher, &format!("/api/v1/artifacts/{id}/files/{file}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_family_sees_their_child_s_shared_work_only_once_approved() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (fam_id, family) = server.person(&room.admin, "anasdad", "family").await;
    server.post(&room.admin, &format!("/api/v1/users/{fam_id}/family"), json!({"student_id": room.ana_id})).await;
    let artifact = upload_ok(&server, &room.ana, "For home", vec![("note.txt", b"hi".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap();
    let path = format!("/api/v1/artifacts/{id}");
    assert_eq!(server.get(&family, &path).await.status(), StatusCode::NOT_FOUND, "private by default");
    room.ana.patch(server.url(&path)).json(&json!({"visibility": "family"})).send().await.unwrap();
    assert_eq!(server.get(&family, &path).await.status(), StatusCode::NOT_FOUND, "waits for the teacher");
    server.post(&room.teacher, &format!("{path}/review"), json!({"approved": true})).await;
    assert_eq!(server.get(&family, &path).await.status(), StatusCode::OK);
    let portfolio = json_of(server.get(&family, &format!("/api/v1/users/{}/artifacts", room.ana_id)).await).await;
    assert_eq!(portfolio.as_array().unwrap().len(), 1);
    let home = family.get(server.url("/home")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("ANA"), "the family's home links the child: {home}");
}

pub fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The administrators' forms check the form's token first and then the role, like every
/// other page form (`PageForm`): a stale token is "out of date" (403) for anyone, and a
/// teacher's good token still finds nothing there (404).
#[tokio::test]
async fn admin_forms_check_the_token_before_the_role() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let csrf = server.csrf_of(&room.teacher, "/home").await;
    let forms: [(&str, &[(&str, &str)]); 5] = [
        ("/admin/peers/invite", &[]),
        ("/admin/peers/join", &[("token", "not-a-token")]),
        ("/admin/peers/address", &[("peer_id", "x"), ("address", "192.0.2.1:7000")]),
        ("/backup", &[("place", "/nowhere")]),
        ("/skills/levels", &[("levels", "Low\nHigh")]),
    ];
    for (path, fields) in forms {
        for (token, want) in [("stale", StatusCode::FORBIDDEN), (csrf.as_str(), StatusCode::NOT_FOUND)] {
            let mut form = vec![("csrf", token)];
            form.extend_from_slice(fields);
            let res = room.teacher.post(server.url(path)).form(&form).send().await.unwrap();
            assert_eq!(res.status(), want, "a teacher's form to {path} with the token {token:?}");
        }
        let res = room.admin.post(server.url(path)).form(&[("csrf", "stale")]).send().await.unwrap();
        assert_ne!(res.status(), StatusCode::NOT_FOUND, "the form at {path} is there for an admin");
    }
}
