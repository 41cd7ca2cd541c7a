//! [`classroom`]: the school most tests need, made once through the API.

use reqwest::Client;

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
