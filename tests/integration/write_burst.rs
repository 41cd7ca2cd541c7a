//! Acknowledged means durable, also when writes share their commits (`store::group`): folio
//! is killed with SIGKILL in the middle of a burst of comments from many clients at once,
//! restarted, and every comment that was answered 201 is there, with its text.

use std::collections::HashMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::crash::start;

const ADMIN_PASSWORD: &str = "correct horse battery";
const PASSWORD: &str = "ana-password";
/// Clients signed in on their own, and requests each keeps going at once.
const CLIENTS: usize = 6;
const PER_CLIENT: usize = 4;

async fn signed_in(url: &str, username: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "signed in as {username}");
    client
}

#[tokio::test]
async fn comments_answered_201_survive_sigkill_in_the_middle_of_a_burst() {
    let data = tempfile::tempdir().unwrap();
    let seed: u64 = std::env::var("FOLIO_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("write burst seed {seed} (set FOLIO_CRASH_SEED to repeat)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    // A school, a student and one piece of hers to comment on.
    let folio = start(data.path());
    let code = std::fs::read_to_string(data.path().join("setup-code")).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/setup", folio.url))
        .json(&json!({"setup_code": code.trim(), "school_name": "S", "username": "admin", "display_name": "A", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin = signed_in(&folio.url, "admin", ADMIN_PASSWORD).await;
    let res = admin
        .post(format!("{}/api/v1/users", folio.url))
        .json(&json!({"username": "ana", "display_name": "Ana", "role": "student", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let ana = signed_in(&folio.url, "ana", PASSWORD).await;
    let form =
        Form::new().text("title", "a poem").part("file", Part::bytes(b"roses are red".to_vec()).file_name("poem.txt"));
    let res = ana.post(format!("{}/api/v1/artifacts", folio.url)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let mut folio = Some(folio);

    // Comment id → its text, for every comment answered 201.
    let mut acknowledged: HashMap<String, String> = HashMap::new();
    for round in 0..4 {
        let server = folio.take().unwrap_or_else(|| start(data.path()));
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            clients.push(signed_in(&server.url, "ana", PASSWORD).await);
        }
        let target = format!("{}/api/v1/artifacts/{artifact}/comments", server.url);
        let mut writers = Vec::new();
        for (c, client) in clients.iter().enumerate() {
            for w in 0..PER_CLIENT {
                let (client, target) = (client.clone(), target.clone());
                writers.push(tokio::spawn(async move {
                    let mut answered = Vec::new();
                    for n in 0.. {
                        let body = format!("round {round}, client {c}, writer {w}, comment {n}");
                        let Ok(res) = client.post(&target).json(&json!({ "body": body })).send().await else {
                            return answered; // folio was killed before it answered
                        };
                        assert_eq!(res.status(), StatusCode::CREATED, "{body}");
                        // Acknowledged only when the whole answer arrived.
                        let Ok(comment) = res.json::<Value>().await else { return answered };
                        assert_eq!(comment["body"], body.as_str());
                        answered.push((comment["id"].as_str().unwrap().to_string(), body));
                    }
                    unreachable!()
                }));
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        let mut child = server.child;
        child.kill().unwrap(); // SIGKILL, with requests in flight
        child.wait().unwrap();
        for writer in writers {
            acknowledged.extend(writer.await.unwrap());
        }
    }
    assert!(!acknowledged.is_empty(), "some comments were answered before the kills");

    let server = start(data.path());
    let ana = signed_in(&server.url, "ana", PASSWORD).await;
    let res = ana.get(format!("{}/api/v1/artifacts/{artifact}/comments", server.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stored: HashMap<String, String> = res
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["body"].as_str().unwrap().to_string()))
        .collect();
    let lost: Vec<&String> =
        acknowledged.iter().filter(|(id, body)| stored.get(*id) != Some(body)).map(|(_, b)| b).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged comments were lost, e.g. {:?}",
        lost.len(),
        acknowledged.len(),
        lost.first()
    );
    eprintln!(
        "{} comments acknowledged over 4 bursts, all there after the kills ({} stored in all)",
        acknowledged.len(),
        stored.len()
    );
    let mut child = server.child;
    child.kill().unwrap();
    child.wait().unwrap();
}
