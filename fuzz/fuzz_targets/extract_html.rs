#![no_main]
//! See `folio::fuzzing::extract_html` for what this exercises and what it checks.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| folio::fuzzing::extract_html(data));
