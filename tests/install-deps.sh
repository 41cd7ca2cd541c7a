#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, on a fresh Debian machine:
# Debian's Chromium (browser tests), Node.js and npm (to drive it with Playwright), iproute2
# (network namespaces for the mDNS and multi-box tests), curl (the HTTPS test), rsync (the
# baseline of the sync benchmark), then the pinned npm packages, cargo-fuzz (fuzz/run.sh) and
# Garage (the S3 store the integration tests run a 3-node cluster of). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v rsync >/dev/null || missing+=(rsync)
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "==> installing the browser-test driver (playwright-core, pinned in package-lock.json)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz (fuzz/run.sh)"
  cargo install --locked cargo-fuzz
fi

# Garage, pinned: tests/integration/support/garage.rs drives its CLI, whose words change between
# releases. cargo builds it from source into ~/.cargo/bin, which is the cache on later runs (the
# build takes 10-15 minutes of CPU; the check below makes a warm machine skip it).
# --no-default-features --features bundled-libs,lmdb: LMDB is the only metadata engine the
# tests use, and leaving out SQLite, K2V and the Prometheus metrics shortens the build; without
# the `system-libs` feature the C parts (LMDB, zstd, libsodium) are compiled from the sources
# their crates vendor, so the build needs a C compiler and make but no -dev packages or
# pkg-config. `bundled-libs` would bundle SQLite too, were it ever switched on.
GARAGE_VERSION=2.5.0
if ! garage --version 2>/dev/null | grep -qF "$GARAGE_VERSION" &&
  ! "${CARGO_HOME:-$HOME/.cargo}/bin/garage" --version 2>/dev/null | grep -qF "$GARAGE_VERSION"; then
  echo "==> installing Garage $GARAGE_VERSION (the S3 store of the integration tests; 10-15 min of CPU)"
  cargo install --locked "garage@$GARAGE_VERSION" --no-default-features --features bundled-libs,lmdb
fi
