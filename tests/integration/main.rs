//! folio's integration tests: one binary, each test against a real server on port 0 with its
//! own data directory (see `support::TestServer`).

mod contract;
mod netlab;
mod support;

mod access;
mod accounts;
mod activity_edit;
mod api_contract;
mod assessment;
mod backup;
mod bundle;
mod classes;
mod cli;
mod crash;
mod discovery;
mod family;
mod family_digest;
mod family_roster;
mod family_work;
mod garage;
mod hostile_files;
mod i18n;
mod layers;
mod leader;
mod memory;
mod multibox;
mod offline;
mod onboarding;
mod peer_files;
mod peers;
mod privacy;
mod reports;
mod s3;
mod search;
mod sessions;
mod setup;
mod signin_young;
mod skills;
mod store;
mod sync_core;
mod sync_grant;
mod tls;
mod tus;
mod work;
mod write_burst;
