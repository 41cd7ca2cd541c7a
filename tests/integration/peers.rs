//! Boxes pairing and syncing over their peer ports (mutual TLS on loopback): two or three
//! real servers in this process, each with its own data directory and identity.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::*;
use crate::work::upload_ok;

/// This box's id, from its admin.
async fn box_id(server: &TestServer, admin: &Client) -> String {
    let me = json_of(server.get(admin, "/api/v1/peers/self").await).await;
    me["box_id"].as_str().unwrap().to_string()
}

async fn invite(server: &TestServer, admin: &Client, scope: Option<Value>) -> String {
    let body = match scope {
        Some(scope) => json!({"scope": scope}),
        None => json!({}),
    };
    let res = server.post(admin, "/api/v1/peers/invite", body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let invitation = json_of(res).await;
    let token = invitation["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("folio1:"), "{token}");
    assert!(invitation["qr_svg"].as_str().unwrap().contains("<svg"));
    token
}

async fn join(server: &TestServer, admin: &Client, token: &str) -> reqwest::Response {
    server.post(admin, "/api/v1/peers/join", json!({"token": token})).await
}

/// `a` invites, `b` joins. Returns (a's id, b's id).
async fn pair(
    a: &TestServer,
    a_admin: &Client,
    b: &TestServer,
    b_admin: &Client,
    scope: Option<Value>,
) -> (String, String) {
    let token = invite(a, a_admin, scope).await;
    let res = join(b, b_admin, &token).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let a_id = box_id(a, a_admin).await;
    assert_eq!(json_of(res).await["peer_id"], a_id.as_str());
    (a_id, box_id(b, b_admin).await)
}

async fn sync(server: &TestServer, admin: &Client, peer: &str) -> reqwest::Response {
    server.post(admin, &format!("/api/v1/peers/{peer}/sync"), json!({})).await
}

async fn sync_ok(server: &TestServer, admin: &Client, peer: &str) -> Value {
    let res = sync(server, admin, peer).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    json_of(res).await
}

async fn peers_of(server: &TestServer, admin: &Client) -> Vec<Value> {
    let res = server.get(admin, "/api/v1/peers").await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await.as_array().unwrap().clone()
}

/// A client signed in on `server` as someone whose account came from another box.
async fn signed_in(server: &TestServer, username: &str) -> Client {
    let client = server.client();
    server.login(&client, username, &format!("{username}-password")).await;
    client
}

async fn can_sign_in(server: &TestServer, username: &str) -> bool {
    let client = server.client();
    let res = server
        .post(&client, "/api/v1/login", json!({"username": username, "password": format!("{username}-password")}))
        .await;
    res.status() == StatusCode::OK
}

async fn title_of(server: &TestServer, client: &Client, artifact: &str) -> Option<String> {
    let res = server.get(client, &format!("/api/v1/artifacts/{artifact}")).await;
    if res.status() != StatusCode::OK {
        return None;
    }
    json_of(res).await["title"].as_str().map(str::to_string)
}

#[tokio::test]
async fn paired_boxes_know_each_other_and_sync_work_both_ways() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let Classroom { admin: a_admin, ana, teacher, .. } = classroom(&a).await;
    let b_admin = b.setup_admin().await;

    // Only an administrator pairs boxes.
    let res = a.post(&teacher, "/api/v1/peers/invite", json!({})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(a.post(&a.client(), "/api/v1/peers/invite", json!({})).await.status(), StatusCode::UNAUTHORIZED);

    let (a_id, b_id) = pair(&a, &a_admin, &b, &b_admin, None).await;
    assert_ne!(a_id, b_id);
    let on_a = peers_of(&a, &a_admin).await;
    let on_b = peers_of(&b, &b_admin).await;
    assert_eq!(on_a.len(), 1);
    assert_eq!(on_a[0]["peer_id"], b_id.as_str());
    assert_eq!(on_a[0]["address"], b.peer_addr.to_string().as_str());
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0]["peer_id"], a_id.as_str());
    assert_eq!(on_b[0]["address"], a.peer_addr.to_string().as_str());

    // Ana's work (with a file) on A reaches B's database.
    let artifact = upload_ok(&a, &ana, "Volcano", vec![("volcano.txt", b"lava".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();
    let counts = sync_ok(&b, &b_admin, &a_id).await;
    // (A's own scheduler may have pushed it a moment earlier: then this round finds it there.)
    assert!(counts["ops_received"].is_u64() && counts["ops_sent"].is_u64(), "{counts}");
    let ana_on_b = signed_in(&b, "ana").await;
    assert_eq!(title_of(&b, &ana_on_b, &id).await.as_deref(), Some("Volcano"));
    let listed = json_of(b.get(&ana_on_b, &format!("/api/v1/artifacts/{id}")).await).await;
    assert_eq!(listed["files"].as_array().map(Vec::len), Some(1), "{listed}");
    // Its file came in the same round (or A's own push), over the peer port: whole, and
    // downloadable on B.
    assert_eq!(listed["files"][0]["available"], true, "{listed}");
    let url = listed["files"][0]["url"].as_str().unwrap().to_string();
    let res = b.get(&ana_on_b, &url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"lava");

    // Edits both ways: Ana renames it on B, her teacher gives feedback on A.
    let res = ana_on_b
        .patch(b.url(&format!("/api/v1/artifacts/{id}")))
        .json(&json!({"title": "Volcano, revised"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let res = a.post(&teacher, &format!("/api/v1/artifacts/{id}/comments"), json!({"body": "Hot stuff"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    sync_ok(&a, &a_admin, &b_id).await;
    assert_eq!(title_of(&a, &ana, &id).await.as_deref(), Some("Volcano, revised"));
    let comments = json_of(b.get(&ana_on_b, &format!("/api/v1/artifacts/{id}/comments")).await).await;
    assert_eq!(comments[0]["body"], "Hot stuff", "{comments}");

    // Nothing new: nothing travels.
    sync_ok(&a, &a_admin, &b_id).await;
    let again = sync_ok(&a, &a_admin, &b_id).await;
    assert_eq!(again["ops_sent"], 0, "{again}");
    assert_eq!(again["ops_received"], 0, "{again}");
    let status = &peers_of(&b, &b_admin).await[0];
    assert!(status["bytes_received"].as_u64().unwrap() > 0, "{status}");
    assert!(status["ops_received"].as_u64().unwrap() > 0, "{status}");
    assert_eq!(status["status"], "ok", "{status}");

    // The admin page lists the other box with its address.
    let page = b.get(&b_admin, "/admin/peers").await.text().await.unwrap();
    assert!(page.contains(&a_id[..12]) && page.contains(&a.peer_addr.to_string()), "{page}");
    assert!(page.contains("Sync now") && page.contains("Unpair"));
}

#[tokio::test]
async fn an_invitation_works_once_only_while_fresh_and_only_with_its_secret() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let c = TestServer::start().await;
    let a_admin = a.setup_admin().await;
    let b_admin = b.setup_admin().await;
    let c_admin = c.setup_admin().await;

    let token = invite(&a, &a_admin, None).await;
    // A wrong secret in an otherwise good token.
    let mut forged: Value = decode_token(&token);
    forged["secret"] = json!("A".repeat(43));
    let res = join(&b, &b_admin, &encode_token(&forged)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("not one this box made"), "{message}");

    let res = join(&b, &b_admin, &token).await;
    assert_eq!(res.status(), StatusCode::CREATED, "the failed try did not burn it");
    // Twice: refused, and the second box is not paired.
    let res = join(&c, &c_admin, &token).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("used already"), "{message}");
    assert!(peers_of(&c, &c_admin).await.is_empty());
    assert_eq!(peers_of(&a, &a_admin).await.len(), 1);

    // Not an invitation at all.
    let res = join(&c, &c_admin, "hello").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("not a folio invitation"));
    // Its own invitation.
    let own = invite(&c, &c_admin, None).await;
    assert_eq!(join(&c, &c_admin, &own).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Expired: a box whose invitations last a millisecond.
    let dir = tempfile::tempdir().unwrap();
    let d =
        TestServer::start_with(dir.path().to_path_buf(), |c| c.invite_lifetime = std::time::Duration::from_millis(1))
            .await
            .unwrap();
    let d_admin = d.setup_admin().await;
    let stale = invite(&d, &d_admin, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let res = join(&c, &c_admin, &stale).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("expired"), "{message}");
    assert!(peers_of(&d, &d_admin).await.is_empty());
}

fn decode_token(token: &str) -> Value {
    use base64::Engine as _;
    let body = token.strip_prefix("folio1:").unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
}

fn encode_token(value: &Value) -> String {
    use base64::Engine as _;
    format!("folio1:{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap()))
}

#[tokio::test]
async fn an_unpaired_box_is_refused_at_once_and_receives_nothing() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let Classroom { admin: a_admin, ana, .. } = classroom(&a).await;
    let b_admin = b.setup_admin().await;
    let (a_id, b_id) = pair(&a, &a_admin, &b, &b_admin, None).await;
    sync_ok(&a, &a_admin, &b_id).await;

    let res = b.client().delete(b.url(&format!("/api/v1/peers/{a_id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "admins only");
    let res = b_admin.delete(b.url(&format!("/api/v1/peers/{a_id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(peers_of(&b, &b_admin).await.is_empty());
    let res = b_admin.delete(b.url(&format!("/api/v1/peers/{a_id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let artifact = upload_ok(&a, &ana, "Secret plans", vec![("plans.txt", b"x".to_vec())]).await;
    let id = artifact["id"].as_str().unwrap().to_string();
    let res = sync(&a, &a_admin, &b_id).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("refused") && message.contains("not paired"), "{message}");
    let status = &peers_of(&a, &a_admin).await[0];
    assert!(status["last_error"].as_str().unwrap().contains("not paired"), "{status}");
    assert_eq!(status["status"], "error");

    let ana_on_b = signed_in(&b, "ana").await;
    assert_eq!(title_of(&b, &ana_on_b, &id).await, None, "B received nothing after unpairing");
    // And B no longer calls A.
    assert_eq!(sync(&b, &b_admin, &a_id).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_box_with_another_key_at_a_pinned_address_is_refused_and_gets_nothing() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let Classroom { admin: a_admin, .. } = classroom(&a).await;
    let b_admin = b.setup_admin().await;
    let (_, b_id) = pair(&a, &a_admin, &b, &b_admin, None).await;

    // B goes away; another box (its own key) now answers at B's address.
    let address = b.peer_addr;
    let _b_data = b.stop().await;
    let rogue = TestServer::start_with_peer_addr(address).await.unwrap();
    let res = sync(&a, &a_admin, &b_id).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let message = json_of(res).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("presented a different key: was it reflashed? Pair again."), "{message}");
    let status = &peers_of(&a, &a_admin).await[0];
    assert!(status["last_error"].as_str().unwrap().contains("different key"), "{status}");

    let rogue_admin = rogue.setup_admin().await;
    assert!(peers_of(&rogue, &rogue_admin).await.is_empty());
    assert!(!can_sign_in(&rogue, "ana").await, "the rogue box received nothing of A's school");
}

#[tokio::test]
async fn a_class_scoped_pairing_delivers_that_class_and_nothing_of_another() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let room = classroom(&a).await;
    let b_admin = b.setup_admin().await;
    // A second class, Owls, with its own student and work.
    let owls = a.create_class(&room.teacher, "Owls").await;
    let owls_id = owls["id"].as_str().unwrap();
    let (olga_id, olga) = a.person(&room.admin, "olga", "student").await;
    a.add_student(&room.teacher, owls_id, &olga_id).await;
    let res = crate::work::upload(
        &a,
        &olga,
        &[("title", "Owl drawing"), ("class_id", owls_id)],
        vec![("owl.txt", b"hoot".to_vec())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = crate::work::upload(
        &a,
        &room.ana,
        &[("title", "Robin song"), ("class_id", &room.class_id)],
        vec![("robin.txt", b"tweet".to_vec())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let robin = json_of(res).await["id"].as_str().unwrap().to_string();

    let school =
        json_of(a.get(&room.admin, &format!("/api/v1/users/{}", room.ana_id)).await).await["school_id"].clone();
    let scope = json!({"kind": "classes", "classes": [[school, room.class_id]]});
    let (a_id, _) = pair(&a, &room.admin, &b, &b_admin, Some(scope.clone())).await;
    assert_eq!(peers_of(&b, &b_admin).await[0]["scope"], scope);
    sync_ok(&b, &b_admin, &a_id).await;

    let ana_on_b = signed_in(&b, "ana").await;
    assert_eq!(title_of(&b, &ana_on_b, &robin).await.as_deref(), Some("Robin song"));
    assert!(!can_sign_in(&b, "olga").await, "nobody of class Owls reached B");
    // Tina teaches both classes: on A she sees Owls, on B only Robins arrived.
    assert_eq!(a.get(&room.teacher, &format!("/api/v1/classes/{owls_id}")).await.status(), StatusCode::OK);
    let tina_on_b = signed_in(&b, "tina").await;
    let robins = b.get(&tina_on_b, &format!("/api/v1/classes/{}", room.class_id)).await;
    assert_eq!(robins.status(), StatusCode::OK);
    let owls_on_b = b.get(&tina_on_b, &format!("/api/v1/classes/{owls_id}")).await;
    assert_eq!(owls_on_b.status(), StatusCode::NOT_FOUND, "class Owls did not reach B");
}

#[tokio::test]
async fn the_peer_port_refuses_callers_without_a_certificate_or_a_pairing() {
    let a = TestServer::start().await;
    let a_admin = a.setup_admin().await;
    let a_id: folio::peers::BoxId = box_id(&a, &a_admin).await.parse().unwrap();

    // No client certificate: the handshake fails.
    let anonymous = Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let res = anonymous.get(format!("https://{}/peer/v1/hello", a.peer_addr)).send().await;
    assert!(res.is_err(), "a caller without a certificate got an answer: {:?}", res.map(|r| r.status()));

    // A box with a certificate but no pairing: refused in words.
    let dir = tempfile::tempdir().unwrap();
    let stranger = folio::peers::Identity::load_or_create(dir.path()).unwrap();
    let client = folio::peers::client::PeerClient::new(&stranger, a_id, &a.peer_addr.to_string()).unwrap();
    let err = client.hello().await.unwrap_err().to_string();
    assert!(err.contains("refused") && err.contains("not paired"), "{err}");

    // Pinning the wrong id: the client stops at the handshake and sends nothing.
    let wrong = folio::peers::BoxId([9; 32]);
    let client = folio::peers::client::PeerClient::new(&stranger, wrong, &a.peer_addr.to_string()).unwrap();
    let err = client.hello().await.unwrap_err().to_string();
    assert!(err.contains("presented a different key"), "{err}");
    assert_eq!(client.bytes_sent(), 0);
}

#[tokio::test]
async fn only_the_box_holding_the_school_offers_classes_and_it_never_joins_a_class_box() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let room = classroom(&a).await;
    let b_admin = b.setup_admin().await;
    let school =
        json_of(a.get(&room.admin, &format!("/api/v1/users/{}", room.ana_id)).await).await["school_id"].clone();
    let scope = json!({"kind": "classes", "classes": [[school, room.class_id]]});
    // A holds the school and offers the class; B joins and becomes its class box.
    let (a_id, _) = pair(&a, &room.admin, &b, &b_admin, Some(scope.clone())).await;
    sync_ok(&b, &b_admin, &a_id).await;

    // The class box cannot offer the class on (it holds it: the class check passes, the
    // direction does not): it does not hold the school.
    let res = b.post(&b_admin, "/api/v1/peers/invite", json!({"scope": scope})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("Make the invitation on the box that holds the school and join it from the class box"),
        "{text}"
    );

    // Nor does the school's box join a class box's invitation choosing the school's class (B
    // may invite for whole schools, its own; B would then take A's pages as its to judge).
    let token = invite(&b, &b_admin, None).await;
    let res = a.post(&room.admin, "/api/v1/peers/join", json!({"token": token, "scope": scope})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let text = res.text().await.unwrap();
    assert!(text.contains("This box holds the whole school"), "{text}");
    assert!(text.contains("join it from the class box"), "{text}");
    assert_eq!(peers_of(&a, &room.admin).await.len(), 1, "nothing new was paired on A");
}
