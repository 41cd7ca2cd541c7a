//! What people do: check the rule in `domain::policy`, validate, and record operations in
//! one write transaction. The JSON API and the HTML pages are both thin adapters over these,
//! so a rule is enforced the same way whichever one a person uses.
//!
//! Most are blocking functions over the store (call them through `Folio::db`). A few
//! orchestrate more than the store, and are async over the core: `signin` and `credentials`
//! (the slow hash and the throttle, through `auth::Guard`), `uploads` (a resumable upload's
//! file and row), `work_files` (work that arrives with files, and the workers it wakes).

pub mod assessment;
pub mod classes;
pub mod credentials;
pub mod digest;
pub mod family;
pub mod language;
pub mod reports;
pub mod roster;
pub mod school_report;
pub mod search;
pub mod setup;
pub mod signin;
pub mod skills;
pub mod student_report;
pub mod uploads;
pub mod users;
pub mod work;
pub mod work_files;
pub mod work_form;
