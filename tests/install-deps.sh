#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, on a fresh Debian machine:
# Debian's Chromium (browser tests), Node.js and npm (to drive it with Playwright), iproute2
# (network namespaces for the mDNS and multi-box tests), curl (the HTTPS test), rsync (the
# baseline of the sync benchmark), then the pinned npm packages, and cargo-fuzz (fuzz/run.sh).
# Safe to run again.
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
