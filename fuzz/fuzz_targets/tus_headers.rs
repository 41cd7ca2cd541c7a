#![no_main]
//! See `folio::fuzzing::tus_headers` for what this exercises and what it checks.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| folio::fuzzing::tus_headers(data));
