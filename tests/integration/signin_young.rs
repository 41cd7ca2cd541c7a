//! Sign-in for the youngest: class code, tap your name, three pictures; and QR cards.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A class with one student; returns (teacher client, class, student id).
/// The page a request answers, as text.
async fn page_text(request: reqwest::RequestBuilder) -> String {
    request.send().await.unwrap().text().await.unwrap()
}

async fn class_with_student(server: &TestServer) -> (reqwest::Client, Value, String) {
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let class = server.create_class(&tina, "Robins").await;
    let (_, report) = server.import_roster(&tina, class["id"].as_str().unwrap(), "ana,Ana Pérez\n").await;
    let student = report["created"][0]["id"].as_str().unwrap().to_string();
    (tina, class, student)
}

/// [`class_with_student`], the student's pictures set to cat, sun, ball.
async fn class_with_pictured_student(server: &TestServer) -> (reqwest::Client, Value, String) {
    let (tina, class, ana) = class_with_student(server).await;
    let set = set_pictures(server, &tina, &ana, ["cat", "sun", "ball"]).await;
    assert_eq!(set.status(), StatusCode::OK);
    (tina, class, ana)
}

/// The teacher `who` sets `student`'s three sign-in pictures.
async fn set_pictures(
    server: &TestServer,
    who: &reqwest::Client,
    student: &str,
    pictures: [&str; 3],
) -> reqwest::Response {
    who.put(server.url(&format!("/api/v1/users/{student}/pictures")))
        .json(&json!({"pictures": pictures}))
        .send()
        .await
        .unwrap()
}

/// Signs `device` in as `student` with the class's code and three pictures.
async fn pictures_sign_in(
    server: &TestServer,
    device: &reqwest::Client,
    join_code: impl serde::Serialize,
    student: &str,
    pictures: [&str; 3],
) -> reqwest::Response {
    let body = json!({"join_code": join_code, "user_id": student, "pictures": pictures});
    server.post(device, "/api/v1/login/pictures", body).await
}

#[tokio::test]
async fn a_young_student_signs_in_with_class_code_name_and_pictures() {
    let server = TestServer::start().await;
    let (tina, class, ana) = class_with_student(&server).await;
    let set = set_pictures(&server, &tina, &ana, ["cat", "sun", "ball"]).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(json_of(set).await["pictures"], json!(["cat", "sun", "ball"]));

    // The device shows the class's names behind its join code (typed in lower case).
    let code = class["join_code"].as_str().unwrap();
    let join = json_of(server.get(&server.client(), &format!("/api/v1/join/{}", code.to_lowercase())).await).await;
    assert_eq!(join["students"][0]["display_name"], "Ana Pérez");
    assert_eq!(join["students"][0]["user_id"], ana.as_str());

    let student = server.client();
    let wrong = pictures_sign_in(&server, &student, &code, &ana, ["sun", "cat", "ball"]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "order matters");
    let right = pictures_sign_in(&server, &student, &code, &ana, ["cat", "sun", "ball"]).await;
    assert_eq!(right.status(), StatusCode::OK);
    let me = json_of(server.get(&student, "/api/v1/me").await).await;
    assert_eq!((me["username"].as_str(), me["role"].as_str()), (Some("ana"), Some("student")));

    // The pictures only work through a class the student is in.
    let other = server.create_class(&tina, "Owls").await;
    let elsewhere =
        pictures_sign_in(&server, &server.client(), &other["join_code"], &ana, ["cat", "sun", "ball"]).await;
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn picture_sign_in_works_as_plain_form_posts_without_javascript() {
    let server = TestServer::start().await;
    let (tina, class, ana) = class_with_student(&server).await;
    set_pictures(&server, &tina, &ana, ["2", "4", "6"]).await;
    let code = class["join_code"].as_str().unwrap();
    let device = server.client();

    let res = device.post(server.url("/signin/class")).form(&[("join_code", code)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["set-cookie"].to_str().unwrap().contains("folio_device_classes="),
        "the device remembers the class"
    );
    let names = page_text(device.get(server.url(&format!("/signin/class/{code}")))).await;
    assert!(names.contains("Ana Pérez"), "{names}");
    let remembered = page_text(device.get(server.url("/signin/class"))).await;
    assert!(remembered.contains("Robins"), "the class list on this device: {remembered}");

    let pad = format!("/signin/class/{code}/{ana}");
    let first = page_text(device.post(server.url(&pad)).form(&[("picks", ""), ("pick", "2")])).await;
    assert!(first.contains("1 of 3 pictures chosen"), "{first}");
    let second = page_text(device.post(server.url(&pad)).form(&[("picks", "2"), ("pick", "4")])).await;
    assert!(second.contains("2 of 3 pictures chosen"));
    let wrong = device.post(server.url(&pad)).form(&[("picks", "2,4"), ("pick", "7")]).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("Those pictures are not right"));
    let done = device.post(server.url(&pad)).form(&[("picks", "2,4"), ("pick", "6")]).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], "/home");
    let home = page_text(device.get(server.url("/home"))).await;
    assert!(home.contains("Hello, Ana Pérez"), "{home}");
}

#[tokio::test]
async fn picture_guessing_is_throttled_per_student() {
    let server = TestServer::start().await;
    let (_, class, ana) = class_with_pictured_student(&server).await;
    let mut statuses = Vec::new();
    for guess in ["moon", "star", "tree", "fish", "car", "house", "apple"] {
        let res = pictures_sign_in(&server, &server.client(), &class["join_code"], &ana, [guess, guess, guess]).await;
        statuses.push(res.status());
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

#[tokio::test]
async fn qr_cards_sign_in_and_printing_new_ones_revokes_the_old() {
    let server = TestServer::start().await;
    let (tina, class, ana) = class_with_student(&server).await;
    let class_id = class["id"].as_str().unwrap();
    let cards = tina.post(server.url(&format!("/api/v1/classes/{class_id}/cards"))).send().await.unwrap();
    assert_eq!(cards.status(), StatusCode::CREATED);
    let cards: Value = cards.json().await.unwrap();
    assert_eq!(cards.as_array().unwrap().len(), 1);
    let url = cards[0]["url"].as_str().unwrap();
    let token = cards[0]["token"].as_str().unwrap().to_string();
    assert!(url.ends_with(&format!("/q/{token}")) && url.contains(server.url.trim_start_matches("http://")), "{url}");
    assert!(token.len() * 6 >= 128);

    // Scanning the card opens a page that asks "Are you Ana?"; one tap signs in.
    let device = server.client();
    let confirm = page_text(device.get(server.url(&format!("/q/{token}")))).await;
    assert!(confirm.contains("Are you Ana Pérez?"), "{confirm}");
    let res = device.post(server.url(&format!("/q/{token}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(json_of(server.get(&device, "/api/v1/me").await).await["id"], ana.as_str());

    // A new card for Ana revokes the old one.
    let new_card = json_of(tina.post(server.url(&format!("/api/v1/users/{ana}/card"))).send().await.unwrap()).await;
    let old = server.post(&server.client(), "/api/v1/login/card", json!({"token": token})).await;
    assert_eq!(old.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(old).await["message"].as_str().unwrap().contains("no longer works"));
    let fresh = server.post(&server.client(), "/api/v1/login/card", json!({"token": new_card["token"]})).await;
    assert_eq!(fresh.status(), StatusCode::OK);

    // The printable page holds one QR code per student.
    let page = page_text(tina.get(server.url(&format!("/classes/{class_id}")))).await;
    let csrf = csrf_of(&page);
    let printable =
        tina.post(server.url(&format!("/classes/{class_id}/cards"))).form(&[("csrf", csrf)]).send().await.unwrap();
    assert_eq!(printable.status(), StatusCode::OK);
    let html = printable.text().await.unwrap();
    assert_eq!(html.matches("<svg").count(), 1, "one QR code");
    assert!(html.contains("Ana Pérez"));
    let revoked = server.post(&server.client(), "/api/v1/login/card", json!({"token": new_card["token"]})).await;
    assert_eq!(revoked.status(), StatusCode::UNPROCESSABLE_ENTITY, "printing again revoked the previous cards");
}

#[tokio::test]
async fn guesses_sent_in_parallel_are_still_counted() {
    let server = TestServer::start().await;
    let (_, class, ana) = class_with_pictured_student(&server).await;
    // Forty guesses at once, as a script would send them.
    let guesses = (0..40).map(|i| {
        let client = server.client();
        let body = json!({"join_code": class["join_code"], "user_id": ana, "pictures": [(i % 12).to_string(), ((i / 12) % 12).to_string(), "5"]});
        let url = server.url("/api/v1/login/pictures");
        async move { client.post(url).json(&body).send().await.unwrap().status() }
    });
    let statuses = futures_join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert!(checked <= 5, "only the allowance is ever checked, however the guesses arrive: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));
}

/// Awaits all the futures concurrently (no extra crate needed).
async fn futures_join_all<F: std::future::Future<Output = StatusCode> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<StatusCode> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_remembered_classes_cookie_cannot_be_used_to_guess_codes() {
    let server = TestServer::start().await;
    let (_, class, _) = class_with_student(&server).await;
    let plain = reqwest::Client::new();
    let code = class["join_code"].as_str().unwrap();
    let guessed = page_text(
        plain.get(server.url("/signin/class")).header("cookie", format!("folio_device_classes=AAAAAA.{code}")),
    )
    .await;
    assert!(!guessed.contains("Robins"), "a join code in the cookie reveals nothing");
    let by_id = page_text(
        plain
            .get(server.url("/signin/class"))
            .header("cookie", format!("folio_device_classes={}", class["id"].as_str().unwrap())),
    )
    .await;
    assert!(by_id.contains("Robins"), "the class this device used is offered");
}

#[tokio::test]
async fn new_pictures_or_a_new_card_sign_the_student_out_everywhere() {
    let server = TestServer::start().await;
    let (tina, class, ana) = class_with_pictured_student(&server).await;
    let sign_in = || async {
        let device = server.client();
        let res = pictures_sign_in(&server, &device, &class["join_code"], &ana, ["cat", "sun", "ball"]).await;
        assert_eq!(res.status(), StatusCode::OK);
        device
    };
    let tablet = sign_in().await;
    let card = tina.post(server.url(&format!("/api/v1/users/{ana}/card"))).send().await.unwrap();
    assert_eq!(card.status(), StatusCode::CREATED);
    assert_eq!(server.get(&tablet, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED, "a lost card is revoked");

    let tablet = sign_in().await;
    tina.put(server.url(&format!("/api/v1/users/{ana}/pictures"))).json(&json!({})).send().await.unwrap();
    assert_eq!(server.get(&tablet, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

/// A young student with pictures and no password proves it is them with the current pictures;
/// one who signs in with a card only cannot change anything and is sent to the teacher.
#[tokio::test]
async fn young_students_change_their_own_sign_in_only_with_their_current_pictures() {
    let server = TestServer::start().await;
    let (tina, class, ana) = class_with_student(&server).await;

    // Ana has only a card: nothing to prove herself with.
    let card = json_of(tina.post(server.url(&format!("/api/v1/users/{ana}/card"))).send().await.unwrap()).await;
    let tablet = server.client();
    let signed = server.post(&tablet, "/api/v1/login/card", json!({"token": card["token"]})).await;
    assert_eq!(signed.status(), StatusCode::OK);
    let own = tablet.post(server.url(&format!("/api/v1/users/{ana}/card"))).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    assert!(json_of(own).await["message"].as_str().unwrap().contains("teacher"));
    let own = set_pictures(&server, &tablet, &ana, ["moon", "moon", "moon"]).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);

    // With pictures (set by her teacher) she gives them to change them.
    set_pictures(&server, &tina, &ana, ["cat", "sun", "ball"]).await;
    let tablet = server.client();
    let signed = pictures_sign_in(&server, &tablet, &class["join_code"], &ana, ["cat", "sun", "ball"]).await;
    assert_eq!(signed.status(), StatusCode::OK);
    let pictures = format!("/api/v1/users/{ana}/pictures");
    let bare =
        tablet.put(server.url(&pictures)).json(&json!({"pictures": ["moon", "moon", "moon"]})).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN, "no current pictures");
    assert!(json_of(bare).await["message"].as_str().unwrap().contains("pictures"));
    let wrong = tablet
        .put(server.url(&pictures))
        .json(&json!({"pictures": ["moon", "moon", "moon"], "current_pictures": ["sun", "cat", "ball"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "wrong current pictures");
    let card = tablet.post(server.url(&format!("/api/v1/users/{ana}/card"))).send().await.unwrap();
    assert_eq!(card.status(), StatusCode::FORBIDDEN, "no card without the current pictures");
    let right = tablet
        .put(server.url(&pictures))
        .json(&json!({"pictures": ["moon", "moon", "moon"], "current_pictures": ["cat", "sun", "ball"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    let again = pictures_sign_in(&server, &server.client(), &class["join_code"], &ana, ["moon", "moon", "moon"]).await;
    assert_eq!(again.status(), StatusCode::OK);
}

/// Taps three pictures on the sign-in pad of one tablet, as a child does (one post a tap).
/// Returns the answer's status and its Retry-After, if any.
async fn tap_pictures(
    server: &TestServer,
    tablet: &reqwest::Client,
    code: &str,
    student: &str,
    picks: [usize; 3],
) -> (StatusCode, Option<u64>) {
    let pad = format!("/signin/class/{code}/{student}");
    let mut chosen: Vec<String> = Vec::new();
    for pick in picks {
        let res = tablet
            .post(server.url(&pad))
            .form(&[("picks", chosen.join(",")), ("pick", pick.to_string())])
            .send()
            .await
            .unwrap();
        let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
        if res.status() != StatusCode::OK {
            return (res.status(), retry);
        }
        chosen.push(pick.to_string());
    }
    panic!("three taps always end in an answer")
}

/// Signs a child in on `tablet` (class code, then pictures), waiting whenever the box says to.
/// Returns how long the child was told to wait in all, and the time it took.
async fn sign_in_waiting(
    server: &TestServer,
    tablet: &reqwest::Client,
    code: &str,
    student: &str,
    picks: [usize; 3],
) -> (Duration, Duration) {
    let started = Instant::now();
    let mut told = Duration::ZERO;
    loop {
        let class = tablet.post(server.url("/signin/class")).form(&[("join_code", code)]).send().await.unwrap();
        let (status, retry) = if class.status() == StatusCode::SEE_OTHER {
            tap_pictures(server, tablet, code, student, picks).await
        } else {
            (class.status(), class.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap()))
        };
        match status {
            StatusCode::SEE_OTHER => return (told, started.elapsed()),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = Duration::from_secs(retry.expect("a refusal says how long to wait"));
                eprintln!("told to wait {wait:?}");
                assert!(wait <= Duration::from_secs(60), "a child is told to wait {wait:?}");
                told += wait;
                tokio::time::sleep(wait).await;
            }
            other => panic!("unexpected answer {other}"),
        }
    }
}

/// A class on one shared tablet: twelve children each tap wrong pictures three times, then
/// the thirteenth, with the right pictures, signs in at once, and those who erred wait
/// seconds. Run with --nocapture for the figures.
#[tokio::test]
async fn one_childs_mistakes_never_lock_a_class_out_of_a_shared_tablet() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let class = server.create_class(&tina, "Robins").await;
    let roster: String = (1..=13).map(|i| format!("kid{i},Kid {i}\n")).collect();
    let (_, report) = server.import_roster(&tina, class["id"].as_str().unwrap(), &roster).await;
    let kids: Vec<String> =
        report["created"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(kids.len(), 13);
    // Everyone's pictures are sun, moon, star (indexes 0, 1, 2); a wrong try is 3, 3, 3.
    for kid in &kids {
        let set = set_pictures(&server, &tina, kid, ["0", "1", "2"]).await;
        assert_eq!(set.status(), StatusCode::OK);
    }
    let code = class["join_code"].as_str().unwrap();
    let tablet = server.client();
    let mut answers = Vec::new();
    for kid in &kids[..12] {
        let class_code = tablet.post(server.url("/signin/class")).form(&[("join_code", code)]).send().await.unwrap();
        answers.push(class_code.status());
        for _ in 0..3 {
            answers.push(tap_pictures(&server, &tablet, code, kid, [3, 3, 3]).await.0);
        }
    }
    let refused = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    eprintln!(
        "12 children x (class code + 3 wrong tries): {refused} of {} answers were 'too many tries'",
        answers.len()
    );
    assert_eq!(refused, 0, "every wrong try is checked and refused, none throttled: {answers:?}");

    // The twelfth child, who just erred three times, tries again with the right pictures.
    let (told, took) = sign_in_waiting(&server, &server.client(), code, &kids[11], [0, 1, 2]).await;
    eprintln!(
        "12th child, right pictures right after their 3rd wrong try: told to wait {told:?}, signed in after {took:?}"
    );
    assert!(took < Duration::from_secs(10), "a child who erred waits seconds: {took:?}");

    // The thirteenth child, with the right pictures, on the same tablet.
    let (told, took) = sign_in_waiting(&server, &tablet, code, &kids[12], [0, 1, 2]).await;
    eprintln!(
        "13th child, right pictures after 36 wrong tries on the tablet: told to wait {told:?}, signed in after {took:?}"
    );
    assert_eq!(told, Duration::ZERO, "the 13th child waits for nobody");
    let me = tablet.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(json_of(me).await["id"], kids[12].as_str());
}
