//! The language people see folio in: their own choice (an operation on their account, so it
//! travels with them to every box) and the school's default (admins).

use crate::domain::{Change, Role, Scope, User};
use crate::error::Error;
use crate::i18n::{Locale, Msg};
use crate::store::Store;

/// A language code folio speaks, as it is kept ("ES" → "es"); `None` stays `None`.
fn known(code: Option<&str>) -> Result<Option<String>, Error> {
    code.map(|c| {
        Locale::from_code(c).map(|l| l.code().to_string()).ok_or_else(|| {
            let spoken: Vec<&str> = Locale::all().map(Locale::code).collect();
            Error::Refused(Msg::with(
                "error-unknown-language",
                vec![("code", c.into()), ("codes", spoken.join(", ").into())],
            ))
        })
    })
    .transpose()
}

/// The person's own language; `None` goes back to their device's or school's.
pub fn set_own(store: &Store, me: &User, code: Option<&str>) -> Result<Option<String>, Error> {
    let language = known(code)?;
    let change = Change::UserLanguageSet { user: me.id, language: language.clone() };
    store.write(|tx| {
        tx.record(me.school, Scope::Person(me.id), Some(me.id), change.clone())?;
        Ok::<_, Error>(())
    })?;
    Ok(language)
}

/// The school's default language (admins only).
pub fn set_school_default(store: &Store, actor: &User, code: Option<&str>) -> Result<Option<String>, Error> {
    if actor.role != Role::Admin {
        return Err(Error::forbidden("Only an administrator can change the school's language."));
    }
    let language = known(code)?;
    let change = Change::SchoolLanguageSet { language: language.clone() };
    store.write(|tx| {
        tx.record(actor.school, Scope::School, Some(actor.id), change.clone())?;
        Ok::<_, Error>(())
    })?;
    Ok(language)
}
