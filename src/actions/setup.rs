//! First-run setup: the setup code names the school and creates its first admin.

use std::path::Path;

use crate::auth::setup_code;
use crate::domain::school::{clean_name, normalize_username};
use crate::domain::{Change, Role, SchoolId, Scope, User, UserId};
use crate::error::{Error, Result};
use crate::store::{Queries, Store};

/// Makes sure an unset-up box has a setup code, on record and in `<data>/setup-code`.
/// Returns the code to print, or `None` once the box is set up.
pub fn ensure_setup_code(store: &Store, data_dir: &Path) -> Result<Option<String>> {
    if store.read(|r| r.is_set_up())? {
        setup_code::remove_file(data_dir);
        return Ok(None);
    }
    let code = match store.meta(setup_code::META_KEY)? {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => {
            let code = setup_code::generate();
            store.write(|tx| tx.meta_set(setup_code::META_KEY, code.as_bytes()))?;
            code
        }
    };
    setup_code::write_file(data_dir, &code).map_err(Error::internal)?;
    Ok(Some(code))
}

pub struct SetupInput {
    pub setup_code: String,
    pub school_name: String,
    pub username: String,
    pub display_name: String,
}

/// Checked before the (slow) password hash, so a wrong code costs the box nothing.
pub fn check(store: &Store, input: &SetupInput) -> Result<()> {
    if store.read(|r| r.is_set_up())? {
        return Err(Error::conflict("folio is already set up. Sign in instead."));
    }
    let expected =
        store.meta(setup_code::META_KEY)?.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    if expected.is_empty() || !setup_code::matches(&expected, &input.setup_code) {
        return Err(Error::WrongSetupCode);
    }
    clean_name(&input.school_name, "school name")?;
    clean_name(&input.display_name, "name")?;
    normalize_username(&input.username)?;
    Ok(())
}

/// Creates the school and its admin in one transaction, and voids the setup code.
pub fn complete(store: &Store, data_dir: &Path, input: SetupInput, password_hash: String) -> Result<User> {
    let school_name = clean_name(&input.school_name, "school name")?;
    let display_name = clean_name(&input.display_name, "name")?;
    let username = normalize_username(&input.username)?;
    let user = store.write(|tx| {
        // Checked again inside the transaction: two browsers may race to finish setup.
        if tx.txn().is_set_up()? {
            return Err(Error::conflict("folio is already set up. Sign in instead."));
        }
        let school = SchoolId::new();
        let id = UserId::new();
        tx.record(school, Scope::School, None, Change::SchoolCreated { name: school_name.clone() })?;
        tx.record(
            school,
            Scope::Person(id),
            None,
            Change::UserCreated {
                user: id,
                username: username.clone(),
                display_name: display_name.clone(),
                role: Role::Admin,
                external_id: None,
            },
        )?;
        tx.record(school, Scope::Person(id), Some(id), Change::PasswordSet { user: id, hash: password_hash.clone() })?;
        tx.meta_remove(setup_code::META_KEY)?;
        tx.txn().user(id)?.ok_or_else(|| Error::internal(anyhow::anyhow!("the new admin was not stored")))
    })?;
    setup_code::remove_file(data_dir);
    Ok(user)
}
