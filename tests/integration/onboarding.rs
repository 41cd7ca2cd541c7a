//! Onboarding the youngest at once: skills ticked and classmates chosen on the new-work form
//! (through the page without scripts and through the API as the form's script sends it), the
//! skills an activity targets ticked for its answers, and picture sign-in for a whole class
//! with its printed cards. Refusals leave nothing behind.

use reqwest::multipart::Form;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::family_work::anas_family;
use crate::skills::{case_package, import_case};
use crate::support::*;
use crate::work::op_count;

async fn html_of(server: &TestServer, client: &Client, path: &str) -> String {
    let res = server.get(client, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

async fn id_of(server: &TestServer, client: &Client) -> String {
    server.get_json(client, "/api/v1/me").await["id"].as_str().unwrap().to_string()
}

/// The school's skills by code: code → id.
async fn skill_ids(server: &TestServer, client: &Client) -> std::collections::HashMap<String, String> {
    let list = server.get_json(client, "/api/v1/skills").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["code"].as_str().unwrap().to_string(), s["id"].as_str().unwrap().to_string()))
        .collect()
}

/// The new-work form as a browser sends it: the token first, then one part per ticked box.
/// Ana sends the new-work form (with `fields` and a small poster) to `path`: the page's
/// `/work` or the API's `/api/v1/artifacts`.
async fn post_work(server: &TestServer, room: &Classroom, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Response {
    room.ana.post(server.url(path)).multipart(work_form(csrf, fields)).send().await.unwrap()
}

fn work_form(csrf: &str, fields: &[(&str, &str)]) -> Form {
    let mut form = Form::new().text("csrf", csrf.to_string());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form.part("file", reqwest::multipart::Part::bytes(b"our poster".to_vec()).file_name("poster.txt"))
}

#[tokio::test]
async fn the_new_work_form_offers_the_schools_skills_by_group_and_the_classmates_only_to_students() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let ben_id = id_of(&server, &room.ben).await;

    let home = html_of(&server, &room.ana, "/home").await;
    assert!(!home.contains("name=\"skills\""), "no skills listed, no skills shown");
    assert!(home.contains(&format!("name=\"co_owners\" value=\"{ben_id}\"")), "Ben is Ana's classmate");
    assert!(!home.contains(&format!("value=\"{}\"", room.ana_id)), "not herself");

    assert_eq!(import_case(&server, &room.teacher, &case_package("Fractions 1/b.")).await.status(), StatusCode::OK);
    let home = html_of(&server, &room.ana, "/home").await;
    for code in ["3.NF.A.1", "3.NF.A.2", "3.OA.A.1"] {
        assert!(home.contains(&format!("name=\"skills\" value=\"{code}\">")), "{code} offered, not ticked");
    }
    let fractions = home.find("Number and Operations—Fractions").expect("the group's heading");
    let algebra = home.find("Operations and Algebraic Thinking").expect("the other group's heading");
    let nf1 = home.find("value=\"3.NF.A.1\"").unwrap();
    let oa1 = home.find("value=\"3.OA.A.1\"").unwrap();
    assert!(fractions < nf1 && nf1 < algebra && algebra < oa1, "each skill under its group");

    // Families add to one child's portfolio: no skills to tag, nobody to share it with.
    let (family, _) = anas_family(&server, &room, "gran").await;
    let add = html_of(&server, &family, &format!("/family/add/{}", room.ana_id)).await;
    assert!(add.contains("name=\"for_student\""));
    assert!(!add.contains("name=\"skills\"") && !add.contains("name=\"co_owners\""), "{add}");
    assert!(!add.contains("name=\"tags\""), "what a family adds keeps no tags, so none are asked for");
    // Sent anyway, they are refused rather than dropped without a word.
    let before = op_count(&server);
    for (field, value) in [("skills", "3.NF.A.1"), ("co_owners", ben_id.as_str()), ("tags", "kites")] {
        let form = Form::new()
            .text("for_student", room.ana_id.clone())
            .text("title", "From home")
            .text(field, value.to_string())
            .part("file", reqwest::multipart::Part::bytes(b"a kite".to_vec()).file_name("kite.txt"));
        let res = family.post(server.url("/api/v1/artifacts")).multipart(form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(json_of(res).await["message"].as_str().unwrap().contains(field));
    }
    assert_eq!(op_count(&server), before);
}

#[tokio::test]
async fn skills_ticked_and_a_classmate_chosen_on_the_form_are_stored_in_the_one_operation_that_makes_the_work() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let ben_id = id_of(&server, &room.ben).await;
    import_case(&server, &room.teacher, &case_package("Fractions 1/b.")).await;
    let csrf = csrf_of(&html_of(&server, &room.ana, "/home").await);

    let before = op_count(&server);
    let fields = [("title", "Our poster"), ("skills", "3.NF.A.1"), ("skills", "3.OA.A.1"), ("co_owners", &ben_id)];
    let res = post_work(&server, &room, "/work", &csrf, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    assert_eq!(op_count(&server), before + 1, "skills and owners travel in the operation that makes the work");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/work/");
    let work = server.get_json(&room.ana, &format!("/api/v1/artifacts/{id}")).await;
    assert_eq!(work["skills"], json!(["3.NF.A.1", "3.OA.A.1"]));
    assert_eq!(work["owners"], json!([room.ana_id, ben_id]));
    // It is Ben's too: in his portfolio, his to add a version to.
    let bens = server.get_json(&room.ben, &format!("/api/v1/users/{ben_id}/artifacts")).await;
    assert!(bens.to_string().contains(id), "{bens}");

    // The form's script sends the same parts to the API (repeated parts, not one list).
    let res = post_work(
        &server,
        &room,
        "/api/v1/artifacts",
        &csrf,
        &[("title", "Again"), ("skills", "3.NF.A.2"), ("skills", "3.NF.A.1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(json_of(res).await["skills"], json!(["3.NF.A.1", "3.NF.A.2"]));
}

#[tokio::test]
async fn a_co_owner_from_outside_the_class_or_an_unknown_skill_is_refused_and_nothing_is_made() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    let (carl_id, _) = server.person(&room.admin, "carl", "student").await;
    let (_, other_teacher) = server.person(&room.admin, "otto", "teacher").await;
    let owls = server.create_class(&other_teacher, "Owls").await["id"].as_str().unwrap().to_string();
    server.add_student(&other_teacher, &owls, &carl_id).await;
    import_case(&server, &room.teacher, &case_package("Fractions 1/b.")).await;
    let csrf = csrf_of(&html_of(&server, &room.ana, "/home").await);
    let before = op_count(&server);

    let forged = [("title", "Forged"), ("co_owners", carl_id.as_str())];
    let res = post_work(&server, &room, "/api/v1/artifacts", &csrf, &forged).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("classmates from the same class"));
    // The page says so too, and keeps nothing.
    let res = post_work(&server, &room, "/work", &csrf, &forged).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("classmates from the same class"));
    // A teacher of the class is no classmate either.
    let teacher_id = id_of(&server, &room.teacher).await;
    let res =
        post_work(&server, &room, "/api/v1/artifacts", &csrf, &[("title", "Forged"), ("co_owners", &teacher_id)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post_work(
        &server,
        &room,
        "/api/v1/artifacts",
        &csrf,
        &[("title", "Unknown"), ("skills", "3.NF.A.1"), ("skills", "9.ZZ.Z.9")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(res).await["message"].as_str().unwrap().contains("9.ZZ.Z.9"));

    assert_eq!(op_count(&server), before, "nothing recorded");
    let anas = server.get_json(&room.ana, &format!("/api/v1/users/{}/artifacts", room.ana_id)).await;
    assert_eq!(anas.as_array().map(Vec::len), Some(0), "{anas}");
}

#[tokio::test]
async fn an_activity_names_the_skills_it_targets_and_its_answers_start_with_them_ticked() {
    let server = TestServer::start().await;
    let room = classroom(&server).await;
    import_case(&server, &room.teacher, &case_package("Fractions 1/b.")).await;
    let skills = skill_ids(&server, &room.teacher).await;
    let (nf1, oa1) = (skills["3.NF.A.1"].clone(), skills["3.OA.A.1"].clone());
    let path = format!("/api/v1/classes/{}/activities", room.class_id);

    let unknown = folio::domain::SkillId::new().to_string();
    let form = Form::new().text("title", "Bad").text("skill_ids", format!("{nf1},{unknown}"));
    let before = op_count(&server);
    let res = room.teacher.post(server.url(&path)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(op_count(&server), before);
    let form = Form::new().text("title", "Bad").text("skill_ids", "not-an-id");
    let res = room.teacher.post(server.url(&path)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The class page's form sends one part per ticked skill.
    let csrf = csrf_of(&html_of(&server, &room.teacher, &format!("/classes/{}", room.class_id)).await);
    let class_page = html_of(&server, &room.teacher, &format!("/classes/{}", room.class_id)).await;
    assert!(class_page.contains(&format!("name=\"skill_ids\" value=\"{nf1}\"")), "the activity form offers skills");
    let form = Form::new()
        .text("csrf", csrf)
        .text("title", "Halves and quarters")
        .text("prompt", "Fold paper.")
        .text("skill_ids", nf1.clone())
        .text("skill_ids", oa1.clone());
    let res = room
        .teacher
        .post(server.url(&format!("/classes/{}/activities", room.class_id)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let activity_path = res.headers()["location"].to_str().unwrap().to_string();
    let activity_id = activity_path.trim_start_matches("/activities/");
    let activity = server.get_json(&room.ana, &format!("/api/v1/activities/{activity_id}")).await;
    assert_eq!(activity["skill_ids"], json!([nf1, oa1]));

    let teachers = html_of(&server, &room.teacher, &activity_path).await;
    assert!(teachers.contains("data-testid=\"activity-skills\"") && teachers.contains("3.OA.A.1"));
    let anas = html_of(&server, &room.ana, &activity_path).await;
    assert!(anas.contains("name=\"skills\" value=\"3.NF.A.1\" checked"), "the activity's skills ticked");
    assert!(anas.contains("name=\"skills\" value=\"3.OA.A.1\" checked"));
    assert!(anas.contains("name=\"skills\" value=\"3.NF.A.2\">"), "the others offered, not ticked");
}

/// A class with three students made by roster (no passwords); returns the teacher, the
/// class and the students' ids by username.
async fn young_class(server: &TestServer) -> (Client, Client, Value, Vec<String>) {
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let class = server.create_class(&tina, "Ladybirds").await;
    let csv = "ana,Ana Pérez\nben,Ben Okafor\ncleo,Cleo Ngata\n";
    let (_, report) = server.import_roster(&tina, class["id"].as_str().unwrap(), csv).await;
    let ids = report["created"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
    (admin, tina, class, ids)
}

async fn picture_login(server: &TestServer, class: &Value, student: &str, pictures: &Value) -> StatusCode {
    let body = json!({"join_code": class["join_code"], "user_id": student, "pictures": pictures});
    server.post(&server.client(), "/api/v1/login/pictures", body).await.status()
}

#[tokio::test]
async fn picture_sign_in_for_the_whole_class_gives_pictures_only_to_those_without_until_everyone_is_confirmed() {
    let server = TestServer::start().await;
    let (admin, tina, class, ids) = young_class(&server).await;
    let class_id = class["id"].as_str().unwrap();
    let path = format!("/api/v1/classes/{class_id}/pictures");
    let ana = &ids[0];
    let set = tina
        .put(server.url(&format!("/api/v1/users/{ana}/pictures")))
        .json(&json!({"pictures": ["cat", "sun", "ball"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);

    // Only the class's teachers and administrators; others are told nothing exists.
    let (_, otto) = server.person(&admin, "otto", "teacher").await;
    assert_eq!(server.post(&otto, &path, json!({})).await.status(), StatusCode::NOT_FOUND);
    let (_, pupil) = server.person(&admin, "pia", "student").await;
    assert_eq!(server.post(&pupil, &path, json!({})).await.status(), StatusCode::NOT_FOUND);

    let done = json_of(server.post(&tina, &path, json!({})).await).await;
    let given = done["given"].as_array().unwrap();
    let names: Vec<&str> = given.iter().map(|g| g["display_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ben Okafor", "Cleo Ngata"]);
    assert_eq!(done["kept"], json!([{"user_id": ana, "display_name": "Ana Pérez", "has_pictures": true}]));
    for g in given {
        assert_eq!(g["pictures"].as_array().unwrap().len(), 3);
        let who = g["user_id"].as_str().unwrap();
        assert_eq!(picture_login(&server, &class, who, &g["pictures"]).await, StatusCode::OK, "{who}");
    }
    let anas = json!(["cat", "sun", "ball"]);
    assert_eq!(picture_login(&server, &class, ana, &anas).await, StatusCode::OK, "Ana's pictures unchanged");

    // Pressing again changes nobody's pictures.
    let before = op_count(&server);
    let again = json_of(server.post(&admin, &path, json!({})).await).await;
    assert_eq!(again["given"], json!([]));
    assert_eq!(again["kept"].as_array().unwrap().len(), 3);
    assert_eq!(op_count(&server), before);
    let ben = &given[0];
    let ben_id = ben["user_id"].as_str().unwrap();
    assert_eq!(picture_login(&server, &class, ben_id, &ben["pictures"]).await, StatusCode::OK);

    // New pictures for everyone: the old ones stop working.
    let all = json_of(server.post(&tina, &format!("{path}?everyone=true"), json!({})).await).await;
    assert_eq!(all["given"].as_array().unwrap().len(), 3);
    assert_eq!(all["kept"], json!([]));
    let new_anas = all["given"].as_array().unwrap().iter().find(|g| g["user_id"] == ana.as_str()).unwrap();
    if new_anas["pictures"] != anas {
        assert_eq!(picture_login(&server, &class, ana, &anas).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(picture_login(&server, &class, ana, &new_anas["pictures"]).await, StatusCode::OK);
}

#[tokio::test]
async fn the_class_page_prints_picture_cards_and_asks_before_replacing_everyones_pictures() {
    let server = TestServer::start().await;
    let (_, tina, class, ids) = young_class(&server).await;
    let class_id = class["id"].as_str().unwrap();
    let page = html_of(&server, &tina, &format!("/classes/{class_id}")).await;
    assert!(page.contains(&format!("action=\"/classes/{class_id}/pictures\"")));
    let csrf = csrf_of(&page);
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(fields);
        tina.post(server.url(&format!("/classes/{class_id}/pictures"))).form(&form).send()
    };

    let res = post(vec![]).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cards = res.text().await.unwrap();
    assert_eq!(cards.matches("data-testid=\"picture-card\"").count(), 3, "{cards}");
    for name in ["Ana Pérez", "Ben Okafor", "Cleo Ngata"] {
        assert!(cards.contains(name), "{name}");
    }
    assert_eq!(cards.matches("/static/pictures/").count(), 9, "three pictures a card");
    assert!(cards.contains(class["join_code"].as_str().unwrap()));

    let before = op_count(&server);
    let res = post(vec![]).await.unwrap();
    let again = res.text().await.unwrap();
    assert!(again.contains("data-testid=\"no-new-pictures\"") && !again.contains("data-testid=\"picture-card\""));
    // Everyone, but not confirmed: refused, nothing changed.
    let res = post(vec![("everyone", "true".into())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Tick the box"));
    assert_eq!(op_count(&server), before);

    let res = post(vec![("everyone", "true".into()), ("confirm", "true".into())]).await.unwrap();
    let replaced = res.text().await.unwrap();
    assert_eq!(replaced.matches("data-testid=\"picture-card\"").count(), ids.len());
    assert!(op_count(&server) > before);
}

/// The transaction checks again: a student given pictures after the class's were chosen
/// (another teacher, at the same moment) keeps them, and a student no longer in the class
/// gets none.
#[tokio::test]
async fn pictures_chosen_for_a_class_do_not_replace_pictures_set_meanwhile() {
    use folio::store::Queries;
    let server = TestServer::start().await;
    let (admin, tina, class, ids) = young_class(&server).await;
    let class_id: folio::domain::ClassId = class["id"].as_str().unwrap().parse().unwrap();
    let tina_id = id_of(&server, &tina).await;
    let ana: folio::domain::UserId = ids[0].parse().unwrap();
    let ben: folio::domain::UserId = ids[1].parse().unwrap();
    let set = tina
        .put(server.url(&format!("/api/v1/users/{ana}/pictures")))
        .json(&json!({"pictures": ["cat", "sun", "ball"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let outsider = server.person(&admin, "zed", "student").await.0;
    let dir = server.stop().await.unwrap();
    let store = folio::store::Store::open(dir.path()).unwrap();
    let actor = store.read(|r| r.user(tina_id.parse().unwrap())).unwrap().unwrap();
    let ana_before = store.read(|r| r.user(ana)).unwrap().unwrap().pictures_hash;
    let hashes = vec![
        (ana, "hash-a".to_string()),
        (ben, "hash-b".to_string()),
        (outsider.parse().unwrap(), "hash-z".to_string()),
    ];
    let given = folio::actions::users::set_class_pictures(&store, &actor, class_id, &hashes, false).unwrap();
    assert_eq!(given, vec![ben]);
    assert_eq!(store.read(|r| r.user(ana)).unwrap().unwrap().pictures_hash, ana_before);
    assert_eq!(store.read(|r| r.user(ben)).unwrap().unwrap().pictures_hash.as_deref(), Some("hash-b"));
}
