#![no_main]
//! See `folio::fuzzing::multipart` for what this exercises and what it checks.

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: folio::fuzzing::multipart_init(), |data: &[u8]| folio::fuzzing::multipart(data));
