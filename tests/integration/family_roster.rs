//! OneRoster parents: `users.csv` rows for parents, guardians and relatives become family
//! accounts (no password) linked to the students their `agentSourcedIds` name; rows marked
//! `tobedeleted` disable the person or remove the class place; importing again changes
//! nothing.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::classes::CLASSES;
use crate::support::*;

const HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n";
/// Marta is the mother of Ana and Ben (her row names both); Rosa, Ana's guardian, names Ana;
/// Cara's row names her relative Luis (his row names nobody).
const PEOPLE: &str = "u1,,2026-09-01T00:00:00Z,true,org1,student,ana.p,,Ana,Pérez,,,,,,p2,02,\n\
u2,,2026-09-01T00:00:00Z,true,org1,student,ben.p,,Ben,Pérez,,,,,,,02,\n\
u3,,2026-09-01T00:00:00Z,true,org1,student,cara.l,,Cara,López,,,,,,p3,02,\n\
t1,,2026-09-01T00:00:00Z,true,org1,teacher,mrs.g,,Gloria,García,,,,,,,,\n\
p1,,2026-09-01T00:00:00Z,true,org1,parent,marta.p,,Marta,Pérez,,,,,,\"u1,u2\",,\n\
p2,,2026-09-01T00:00:00Z,true,org1,guardian,rosa.p,,Rosa,Pérez,,,,,,u1,,\n\
p3,,2026-09-01T00:00:00Z,true,org1,relative,luis.l,,Luis,López,,,,,,,,\n";
const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
e1,,2026-09-01T00:00:00Z,c1,org1,u1,student,false,,\n\
e2,,2026-09-01T00:00:00Z,c1,org1,u2,student,false,,\n\
e3,,2026-09-01T00:00:00Z,c1,org1,u3,student,false,,\n\
e4,,2026-09-01T00:00:00Z,c1,org1,t1,teacher,true,,\n";

async fn import(server: &TestServer, admin: &Client, users: &str, enrollments: &str) -> Value {
    let form = reqwest::multipart::Form::new()
        .part("users", reqwest::multipart::Part::text(users.to_string()).file_name("users.csv"))
        .part("classes", reqwest::multipart::Part::text(CLASSES.to_string()).file_name("classes.csv"))
        .part("enrollments", reqwest::multipart::Part::text(enrollments.to_string()).file_name("enrollments.csv"));
    let res = admin.post(server.url("/api/v1/roster/oneroster")).multipart(form).send().await.unwrap();
    let res = server.checked(reqwest::Method::POST, "/api/v1/roster/oneroster", res).await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await
}

fn counts(report: &Value) -> [u64; 6] {
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    ["updated", "classes_created", "enrollments", "family_links", "disabled", "enrollments_removed"]
        .map(|k| report[k].as_u64().unwrap_or_else(|| panic!("{k} in {report}")))
}

async fn people_by_username(server: &TestServer, admin: &Client) -> std::collections::HashMap<String, Value> {
    let people = server.get_json(admin, "/api/v1/users").await;
    people.as_array().unwrap().iter().map(|p| (p["username"].as_str().unwrap().to_string(), p.clone())).collect()
}

async fn family_names(server: &TestServer, admin: &Client, student: &Value) -> Vec<String> {
    let list = server.get_json(admin, &format!("/api/v1/users/{}/family", student["id"].as_str().unwrap())).await;
    let mut names: Vec<String> =
        list["family"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

async fn card_for(server: &TestServer, admin: &Client, person: &Value) -> String {
    let res = admin.post(server.url(&format!("/api/v1/users/{}/card", person["id"].as_str().unwrap()))).send().await;
    let card = json_of(res.unwrap()).await;
    card["token"].as_str().unwrap_or_else(|| panic!("a card: {card}")).to_string()
}

#[tokio::test]
async fn oneroster_parents_become_linked_family_accounts_and_tobedeleted_rows_take_effect() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;

    // A parent whose agentSourcedIds names a teacher: the line is reported, nothing imported.
    let wrong = format!("{HEADER}{}", PEOPLE.replace("\"u1,u2\"", "t1"));
    let report = import(&server, &admin, &wrong, ENROLLMENTS).await;
    assert_eq!(report["errors"][0]["file"], "users.csv", "{report}");
    assert_eq!(report["errors"][0]["line"], 6, "{report}");
    assert!(report["errors"][0]["message"].as_str().unwrap().contains("\"t1\", a teacher"), "{report}");
    assert_eq!(people_by_username(&server, &admin).await.len(), 1, "only the admin: {report}");

    let users = format!("{HEADER}{PEOPLE}");
    let first = import(&server, &admin, &users, ENROLLMENTS).await;
    assert_eq!(counts(&first), [0, 1, 4, 4, 0, 0], "{first}");
    assert_eq!(first["created"].as_array().unwrap().len(), 7);
    let people = people_by_username(&server, &admin).await;
    for family in ["marta.p", "rosa.p", "luis.l"] {
        assert_eq!(people[family]["role"], "family", "{family}: {:?}", people[family]);
        assert_eq!(people[family]["has_password"], false, "no password: they get a card or a sheet");
    }
    assert_eq!(family_names(&server, &admin, &people["ana.p"]).await, ["marta.p", "rosa.p"]);
    assert_eq!(family_names(&server, &admin, &people["ben.p"]).await, ["marta.p"]);
    assert_eq!(family_names(&server, &admin, &people["cara.l"]).await, ["luis.l"]);

    // An imported family member signs in with a QR card the admin prints, and is Ana's family.
    let rosa_card = card_for(&server, &admin, &people["rosa.p"]).await;
    let rosa = server.client();
    let res = server.post(&rosa, "/api/v1/login/card", json!({"token": rosa_card})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let feed = server.get(&rosa, "/api/v1/family/feed").await;
    assert_eq!(feed.status(), StatusCode::OK, "a family account");

    // The same files again: nothing new, nothing changed.
    let again = import(&server, &admin, &users, ENROLLMENTS).await;
    assert_eq!(counts(&again), [7, 0, 0, 0, 0, 0], "{again}");
    assert!(again["created"].as_array().unwrap().is_empty());
    assert_eq!(family_names(&server, &admin, &people["ana.p"]).await, ["marta.p", "rosa.p"]);

    // The next export marks Rosa and Ben tobedeleted (Ben's rows keep only their sourcedId,
    // as delta exports do) and Cara's class place.
    let delta_users = format!(
        "{HEADER}{}",
        PEOPLE.replace("p2,,2026-09-01T00:00:00Z,true,", "p2,tobedeleted,2026-10-01T00:00:00Z,true,").replace(
            "u2,,2026-09-01T00:00:00Z,true,org1,student,ben.p,,Ben,Pérez,,,,,,,02,",
            "u2,tobedeleted,,,,,,,,,,,,,,,,"
        )
    );
    let delta_enrollments = ENROLLMENTS.replace("e3,,", "e3,tobedeleted,");
    let delta = import(&server, &admin, &delta_users, &delta_enrollments).await;
    assert_eq!(counts(&delta), [5, 0, 0, 0, 2, 1], "{delta}");
    let people = people_by_username(&server, &admin).await;
    assert_eq!(people["rosa.p"]["disabled"], true);
    assert_eq!(people["ben.p"]["disabled"], true);
    assert_eq!(people["marta.p"]["disabled"], false);
    assert_eq!(server.get(&rosa, "/api/v1/family/feed").await.status(), StatusCode::UNAUTHORIZED, "signed out");
    let res = server.post(&server.client(), "/api/v1/login/card", json!({"token": rosa_card})).await;
    assert_ne!(res.status(), StatusCode::OK, "a disabled account's card no longer signs in");
    let class_id = server.get_json(&admin, "/api/v1/classes").await[0]["id"].as_str().unwrap().to_string();
    let members = server.get_json(&admin, &format!("/api/v1/classes/{class_id}")).await["members"].clone();
    let names: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap()).collect();
    assert!(!names.contains(&"cara.l"), "Cara's place is gone: {names:?}");
    assert!(names.contains(&"ana.p") && names.contains(&"mrs.g"), "{names:?}");
    assert_eq!(people["cara.l"]["disabled"], false, "removing a place disables nobody");

    // The delta again: already done.
    let twice = import(&server, &admin, &delta_users, &delta_enrollments).await;
    assert_eq!(counts(&twice), [5, 0, 0, 0, 0, 0], "{twice}");
}
