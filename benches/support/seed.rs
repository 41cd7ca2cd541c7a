//! A school written straight into a store through `Tx::record` (not through the API), for the
//! benchmarks that need thousands of people and pieces of work: `apply` keeps every count as
//! it does for work posted through the API, in a fraction of the time.

use std::path::Path;

use folio::actions;
use folio::domain::{Class, Role, User};
use folio::error::Error;
use folio::store::{Store, Tx};

/// xorshift: the same school every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A school named "Bench" in a new store, its administrator, and every person's password
/// ([`super::PASSWORD`]) hashed once.
pub struct School {
    pub store: Store,
    pub admin: User,
    hash: String,
}

impl School {
    pub fn set_up(data: &Path) -> School {
        let store = Store::open(data).unwrap();
        let hash = password_hash();
        let setup = actions::setup::SetupInput {
            setup_code: String::new(),
            school_name: "Bench".into(),
            display_name: "Admin".into(),
            username: "admin".into(),
        };
        let admin = actions::setup::complete(&store, data, setup, hash.clone()).unwrap();
        School { store, admin, hash }
    }

    /// A person named `username` (their display name too) who signs in with the benchmarks'
    /// password.
    pub fn person(&self, tx: &mut Tx, username: String, role: Role) -> User {
        let new = actions::users::NewUser { display_name: username.clone(), username, role, external_id: None };
        actions::users::create_in(tx, &self.admin, new, Some(self.hash.clone())).unwrap()
    }

    /// Class `c`: "Class {c}", made by its teacher `t{c}`.
    pub fn class(&self, c: usize) -> (User, Class) {
        self.store
            .write_alone(|tx| {
                let teacher = self.person(tx, format!("t{c}"), Role::Teacher);
                let class = actions::classes::create_in(tx, &teacher, &format!("Class {c}"), None)?;
                Ok::<_, Error>((teacher, class))
            })
            .unwrap()
    }

    /// Student `s{s}`, a member of `class`.
    pub fn student(&self, tx: &mut Tx, s: usize, class: &Class) -> Result<User, Error> {
        let student = self.person(tx, format!("s{s}"), Role::Student);
        actions::classes::add_member_in(tx, &self.admin, class, student.id, Role::Student)?;
        Ok(student)
    }
}

fn password_hash() -> String {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default().hash_password(super::PASSWORD.as_bytes(), &salt).unwrap().to_string()
}
