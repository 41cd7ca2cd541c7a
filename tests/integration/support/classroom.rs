//! [`classroom`]: the school most tests need, made once through the API.

use std::collections::BTreeMap;

use reqwest::{Client, StatusCode};

use super::Api;

/// A school with a teacher (tina), a class (Robins), and two students in it (ana, ben), each
/// signed in on a client of their own.
pub struct Classroom {
    pub admin: Client,
    pub teacher: Client,
    pub class_id: String,
    pub ana: Client,
    pub ana_id: String,
    pub ben: Client,
}

pub async fn classroom(server: &impl Api) -> Classroom {
    let admin = server.setup_admin().await;
    let (_, teacher) = server.person(&admin, "tina", "teacher").await;
    let class_id = server.create_class(&teacher, "Robins").await["id"].as_str().unwrap().to_string();
    let (ana_id, ana) = server.person(&admin, "ana", "student").await;
    let (ben_id, ben) = server.person(&admin, "ben", "student").await;
    for id in [&ana_id, &ben_id] {
        server.add_student(&teacher, &class_id, id).await;
    }
    Classroom { admin, teacher, class_id, ana, ana_id, ben }
}

impl Classroom {
    /// The teacher imports `csv` (`code,name,group` lines) as the school's skills; returns
    /// every skill's id by its code.
    pub async fn import_skills(&self, server: &impl Api, csv: &str) -> BTreeMap<String, String> {
        let res = self
            .teacher
            .post(server.url("/api/v1/skills/import"))
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        let list = server.get_json(&self.teacher, "/api/v1/skills").await;
        let id_by_code = |s: &serde_json::Value| (s["code"].as_str().unwrap().into(), s["id"].as_str().unwrap().into());
        list["items"].as_array().unwrap().iter().map(id_by_code).collect()
    }

    /// The teacher changes the class's settings (`{"family_sharing": false}`; the others
    /// stay as they are).
    pub async fn set_settings(&self, server: &impl Api, settings: serde_json::Value) {
        let path = format!("/api/v1/classes/{}/settings", self.class_id);
        let res = self.teacher.put(server.url(&path)).json(&settings).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.text().await.unwrap());
    }
}
