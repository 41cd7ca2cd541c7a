//! Searching, as the signed-in person: their principals and their school's language go into
//! the query, so what they find is exactly what they may open.

use crate::domain::Scope;
use crate::domain::{Invalid, Language, Role, School, User};
use crate::error::Error;
use crate::search::{SearchIndex, SearchRequest, SearchResults};
use crate::store::{Queries, Store, StoreError};

pub fn search(
    store: &Store,
    index: &SearchIndex,
    viewer: &User,
    request: &SearchRequest,
) -> Result<SearchResults, Error> {
    let (held, language) = store.read(|r| {
        let language = r.school(viewer.school)?.map(|s: School| s.search_language).unwrap_or_default();
        Ok::<_, StoreError>((r.principals_of(viewer)?, language))
    })?;
    index.search(&held, language, request).map_err(Error::internal)
}

/// The school's search language (stemming). Admins only; every artifact of the school is
/// re-indexed in the same transaction's to-do list.
pub fn set_language(store: &Store, actor: &User, code: &str) -> Result<(), Error> {
    if actor.role != Role::Admin {
        return Err(Error::forbidden("Only an administrator can change the school's search language."));
    }
    let language = Language::from_code(code)
        .ok_or_else(|| Invalid::new(format!("\"{code}\" is not a language folio's search knows (en or es).")))?;
    store.write(|tx| {
        tx.record(actor.school, Scope::School, Some(actor.id), crate::domain::Change::SearchLanguageSet { language })?;
        Ok(())
    })
}
