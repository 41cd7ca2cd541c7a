use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_teacher_cannot_read_another_teachers_class() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let (_, tom) = server.person(&admin, "tom", "teacher").await;
    let class = server.create_class(&tina, "Robins").await;
    assert_eq!(class["join_code"].as_str().unwrap().len(), 6);
    let path = format!("/api/v1/classes/{}", id(&class));

    let mine = json_of(server.get(&tina, &path).await).await;
    assert_eq!(mine["name"], "Robins");
    assert_eq!(mine["members"][0]["role"], "teacher", "the creator teaches the class");

    let theirs = server.get(&tom, &path).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND, "404, not 403: ids do not leak");
    let missing = server.get(&tom, "/api/v1/classes/01900000-0000-7000-8000-000000000000").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(theirs).await, json_of(missing).await, "the same answer for hidden and missing");
    assert_eq!(server.get(&tom, "/api/v1/classes/not-an-id").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.get(&tom, &format!("/classes/{}", id(&class))).await.status(), StatusCode::NOT_FOUND);
    let sneaky = server
        .post(&tom, &format!("{path}/members"), json!({"user_id": mine["members"][0]["user_id"], "role": "student"}))
        .await;
    assert_eq!(sneaky.status(), StatusCode::NOT_FOUND);

    // Admins see every class of their school; teachers list only their own.
    assert_eq!(server.get(&admin, &path).await.status(), StatusCode::OK);
    assert!(json_of(server.get(&tom, "/api/v1/classes").await).await.as_array().unwrap().is_empty());
    assert_eq!(json_of(server.get(&tina, "/api/v1/classes").await).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn members_are_added_with_a_valid_role_and_removed() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let class = server.create_class(&admin, "Owls").await;
    let (teacher, _) = server.person(&admin, "tina", "teacher").await;
    let (student, _) = server.person(&admin, "ana", "student").await;
    let members = format!("/api/v1/classes/{}/members", id(&class));
    assert_eq!(
        server.post(&admin, &members, json!({"user_id": teacher, "role": "teacher"})).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        server.post(&admin, &members, json!({"user_id": student, "role": "student"})).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        server.post(&admin, &members, json!({"user_id": student, "role": "student"})).await.status(),
        StatusCode::NO_CONTENT,
        "adding twice is harmless"
    );
    assert_eq!(
        server.post(&admin, &members, json!({"user_id": student, "role": "teacher"})).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let detail = json_of(server.get(&admin, &format!("/api/v1/classes/{}", id(&class))).await).await;
    assert_eq!(detail["members"].as_array().unwrap().len(), 2);
    let del = admin.delete(server.url(&format!("{members}/{student}"))).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let detail = json_of(server.get(&admin, &format!("/api/v1/classes/{}", id(&class))).await).await;
    assert_eq!(detail["members"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_good_roster_imports_and_a_bad_one_imports_nothing() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (_, tina) = server.person(&admin, "tina", "teacher").await;
    let class = id(&server.create_class(&tina, "Robins").await);

    let (status, bad) = server
        .import_roster(
            &tina,
            &class,
            "username,display_name\nana,Ana Pérez\nbad name,Bad\nben\ntina,Not A Student\nana,Twice\n",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<u64> = bad["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 6], "{bad}");
    assert!(bad["created"].as_array().unwrap().is_empty());
    let detail = json_of(server.get(&tina, &format!("/api/v1/classes/{class}")).await).await;
    assert_eq!(detail["members"].as_array().unwrap().len(), 1, "nothing was imported");

    // A line that clashes with an existing non-student is also refused as a whole file.
    let (_, clash) = server.import_roster(&tina, &class, "ana,Ana\ntina,Tina\n").await;
    assert_eq!(clash["errors"][0]["line"], 2, "{clash}");
    assert!(clash["errors"][0]["message"].as_str().unwrap().contains("teacher"));

    let (status, good) =
        server.import_roster(&tina, &class, "username,display_name\nana,Ana Pérez\nben,Ben Ruiz\n").await;
    assert_eq!(status, StatusCode::OK);
    assert!(good["errors"].as_array().unwrap().is_empty(), "{good}");
    assert_eq!(good["created"].as_array().unwrap().len(), 2);
    let detail = json_of(server.get(&tina, &format!("/api/v1/classes/{class}")).await).await;
    assert_eq!(detail["members"].as_array().unwrap().len(), 3);

    // Importing the same file again enrols, never duplicates.
    let (_, again) = server.import_roster(&tina, &class, "ana,Ana Pérez\nben,Ben Ruiz\n").await;
    assert!(again["created"].as_array().unwrap().is_empty());
    assert_eq!(again["enrolled"].as_array().unwrap().len(), 2);

    let res = tina
        .post(server.url(&format!("/api/v1/classes/{class}/roster")))
        .header("content-type", "application/pdf")
        .body("%PDF")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = tina
        .post(server.url(&format!("/api/v1/classes/{class}/roster")))
        .header("content-type", "text/csv")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
u1,,2026-09-01T00:00:00Z,true,org1,student,ana.p,,Ana,Pérez,,,,,,,02,\n\
u2,,2026-09-01T00:00:00Z,true,org1,student,ben.r,,Ben,Ruiz,,,,,,,02,\n\
t1,,2026-09-01T00:00:00Z,true,org1,teacher,mrs.g,,Gloria,García,,,,,,,,\n";
pub const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
c1,,2026-09-01T00:00:00Z,Year 2 Art,02,course1,ART2,scheduled,Room 4,org1,term1,,,\n";
const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
e1,,2026-09-01T00:00:00Z,c1,org1,u1,student,false,,\n\
e2,,2026-09-01T00:00:00Z,c1,org1,u2,student,false,,\n\
e3,,2026-09-01T00:00:00Z,c1,org1,t1,teacher,true,,\n";

async fn oneroster(server: &TestServer, client: &reqwest::Client, enrollments: &str) -> Value {
    let form = reqwest::multipart::Form::new()
        .part("users", reqwest::multipart::Part::text(USERS.to_string()).file_name("users.csv"))
        .part("classes", reqwest::multipart::Part::text(CLASSES.to_string()).file_name("classes.csv"))
        .part("enrollments", reqwest::multipart::Part::text(enrollments.to_string()).file_name("enrollments.csv"));
    let res = client.post(server.url("/api/v1/roster/oneroster")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn oneroster_files_import_people_classes_and_enrollments() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;

    let bad = oneroster(
        &server,
        &admin,
        &ENROLLMENTS.replace("e2,,2026-09-01T00:00:00Z,c1,org1,u2", "e2,,2026-09-01T00:00:00Z,c9,org1,u2"),
    )
    .await;
    assert_eq!(bad["errors"][0]["file"], "enrollments.csv", "{bad}");
    assert_eq!(bad["errors"][0]["line"], 3);
    assert!(
        json_of(server.get(&admin, "/api/v1/classes").await).await.as_array().unwrap().is_empty(),
        "nothing imported"
    );

    let good = oneroster(&server, &admin, ENROLLMENTS).await;
    assert!(good["errors"].as_array().unwrap().is_empty(), "{good}");
    assert_eq!(good["created"].as_array().unwrap().len(), 3);
    assert_eq!(good["classes_created"], 1);
    let classes = json_of(server.get(&admin, "/api/v1/classes").await).await;
    let class = &classes[0];
    assert_eq!(class["name"], "Year 2 Art");
    let detail = json_of(server.get(&admin, &format!("/api/v1/classes/{}", id(class))).await).await;
    assert_eq!(detail["members"].as_array().unwrap().len(), 3);

    // A second export updates rather than duplicates.
    let students = detail["members"].as_array().unwrap().iter().filter(|m| m["role"] == "student").count();
    assert_eq!(students, 2);
    let again = oneroster(&server, &admin, ENROLLMENTS).await;
    assert!(again["created"].as_array().unwrap().is_empty());
    assert_eq!(again["updated"], 3);
    assert_eq!(json_of(server.get(&admin, "/api/v1/classes").await).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn oneroster_exports_that_number_users_and_classes_alike_import() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    // Many information systems number both users and classes 1, 2, 3...
    let users = USERS.replace("\nu1,", "\n1,").replace("\nu2,", "\n2,").replace("\nt1,", "\n3,");
    let classes = CLASSES.replace("\nc1,", "\n1,");
    let enrollments = ENROLLMENTS
        .replace(",c1,org1,u1,", ",1,org1,1,")
        .replace(",c1,org1,u2,", ",1,org1,2,")
        .replace(",c1,org1,t1,", ",1,org1,3,");
    let form = reqwest::multipart::Form::new()
        .part("users", reqwest::multipart::Part::text(users).file_name("users.csv"))
        .part("classes", reqwest::multipart::Part::text(classes).file_name("classes.csv"))
        .part("enrollments", reqwest::multipart::Part::text(enrollments).file_name("enrollments.csv"));
    let report: Value =
        admin.post(server.url("/api/v1/roster/oneroster")).multipart(form).send().await.unwrap().json().await.unwrap();
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!((report["classes_created"].as_u64(), report["enrollments"].as_u64()), (Some(1), Some(3)), "{report}");
}
