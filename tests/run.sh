#!/usr/bin/env bash
# The whole test suite: unit and integration tests (one binary, real servers on port 0), then
# the browser tests in headless Chromium against the folio binary those tests built.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
echo "==> cargo test"
cargo test --locked
echo "==> browser tests (headless Chromium)"
# The binary `cargo test` just built, wherever cargo puts its builds.
FOLIO_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/folio" node --test tests/browser/
