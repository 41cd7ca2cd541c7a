//! [`Api`]: what a test does through a running box's JSON API (set it up, sign people in, make
//! classes), written once for every kind of box a test starts: a [`super::TestServer`] in
//! the test's own process, or a netlab `Node` running `folio serve` in a network namespace.

use std::path::Path;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A running box seen through its HTTP API. A box gives its address, its data directory and
/// its two request helpers; the sign-in and classroom helpers follow from those.
// The futures are awaited where they are made, never sent to another task, so the missing
// `Send` bounds the lint warns about cost nothing here.
#[allow(async_fn_in_trait)]
pub trait Api {
    /// The full URL of `path` on this box's HTTP port.
    fn url(&self, path: &str) -> String;

    fn data_dir(&self) -> &Path;

    async fn post(&self, client: &Client, path: &str, body: Value) -> Response;

    async fn get(&self, client: &Client, path: &str) -> Response;

    /// A client that keeps cookies, like a browser, but sends no Origin (like curl), and has
    /// no overall timeout (a sync may be long).
    fn client(&self) -> Client {
        Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    fn setup_code(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("setup-code")).unwrap().trim().to_string()
    }

    /// `GET path`, which must answer 200, as JSON.
    async fn get_json(&self, client: &Client, path: &str) -> Value {
        let res = self.get(client, path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {}: {}", self.url(path), res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// Completes setup with a school named `school` and an admin `username` (password
    /// [`ADMIN_PASSWORD`]); returns a client signed in as that admin and the school's id.
    async fn setup_school(&self, school: &str, username: &str) -> (Client, String) {
        let client = self.client();
        let res = self
            .post(&client, "/api/v1/setup", json!({"setup_code": self.setup_code(), "school_name": school, "username": username, "display_name": "Ada Admin", "password": ADMIN_PASSWORD}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "setup of {}: {}", self.url(""), res.text().await.unwrap());
        let school_id = res.json::<Value>().await.unwrap()["school_id"].as_str().unwrap().to_string();
        self.login(&client, username, ADMIN_PASSWORD).await;
        (client, school_id)
    }

    /// Completes setup (school "Escuela Uno", admin "admin") and returns a client signed in
    /// as the admin.
    async fn setup_admin(&self) -> Client {
        self.setup_school("Escuela Uno", "admin").await.0
    }

    /// A client signed in as `username`, or None when the box refuses the password.
    async fn try_login(&self, username: &str, password: &str) -> Option<Client> {
        let client = self.client();
        let res = self.post(&client, "/api/v1/login", json!({"username": username, "password": password})).await;
        (res.status() == StatusCode::OK).then_some(client)
    }

    async fn login(&self, client: &Client, username: &str, password: &str) {
        let res = self.post(client, "/api/v1/login", json!({"username": username, "password": password})).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "login as {username} on {}: {}",
            self.url(""),
            res.text().await.unwrap()
        );
    }

    /// Creates a person (as the admin) and returns (id, a client signed in as them). Their
    /// password is `<username>-password`, their display name the username in capitals.
    async fn person(&self, admin: &Client, username: &str, role: &str) -> (String, Client) {
        let password = format!("{username}-password");
        let res = self.post(admin, "/api/v1/users", json!({"username": username, "display_name": username.to_uppercase(), "role": role, "password": password})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        let client = self.client();
        self.login(&client, username, &password).await;
        (id, client)
    }

    /// A class made by `client`; returns the class as the API shows it.
    async fn create_class(&self, client: &Client, name: &str) -> Value {
        let res = self.post(client, "/api/v1/classes", json!({"name": name})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// Puts student `user_id` in class `class_id`, as `teacher` (or an admin).
    async fn add_student(&self, teacher: &Client, class_id: &str, user_id: &str) {
        let res = self
            .post(
                teacher,
                &format!("/api/v1/classes/{class_id}/members"),
                json!({"user_id": user_id, "role": "student"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    }

    /// Imports a roster file (CSV: username, display name) into class `class_id`, as
    /// `client`; returns the status and the import report.
    async fn import_roster(&self, client: &Client, class_id: &str, csv: &str) -> (StatusCode, Value) {
        let res = client
            .post(self.url(&format!("/api/v1/classes/{class_id}/roster")))
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap())
    }

    /// A class (made by `teacher`) with these students in it; returns its id.
    async fn class_with(&self, teacher: &Client, name: &str, students: &[&str]) -> String {
        let class_id = self.create_class(teacher, name).await["id"].as_str().unwrap().to_string();
        for id in students {
            self.add_student(teacher, &class_id, id).await;
        }
        class_id
    }
}
