//! What people do, as plain functions over the store: check the rule in `domain::policy`,
//! validate, and record operations in one write transaction. The JSON API and the HTML pages
//! are both thin adapters over these, so a rule is enforced the same way whichever one a
//! person uses. All of these block; call them through `AppState::db`.

pub mod classes;
pub mod roster;
pub mod search;
pub mod setup;
pub mod uploads;
pub mod users;
pub mod work;
pub mod work_files;
