#!/usr/bin/env bash
# Builds every fuzz target once, then runs each for a bounded time from its checked-in corpus
# (fuzz/corpus/<target>/). Fails if any target crashes; libFuzzer leaves the input that did it
# in fuzz/artifacts/<target>/ (minimise it with `cargo fuzz tmin`, fix the parser, add it to
# the corpus as regression-<what>: `cargo test --lib fuzzing` replays every corpus input).
#
#   FUZZ_SECONDS    time per target (default 30)
#   FUZZ_SANITIZER  none (default) or address: see "Fuzzing" in the README for the trade-off
#   FUZZ_OPTIMIZE   1 for an optimised build (-O); the default is a debug build, with overflow
#                   checks and debug assertions on
#
# Why a debug build without a sanitizer by default: with AddressSanitizer and -O (cargo-fuzz's
# one codegen unit), building every dependency again took 56 minutes on this 2-core machine,
# more than CI can give; folio has no unsafe code of its own, so ASan adds little, while
# overflow checks and debug assertions catch what safe Rust can still get wrong.
#   FUZZ_TARGETS    a space-separated subset of targets (default: all of them)
#
# cargo-fuzz passes nightly-only flags to rustc (sanitizer coverage, -Zsanitizer); the one
# toolchain we have is stable, so RUSTC_BOOTSTRAP=1 lets it accept them. Only this script and
# its cargo calls see the variable; folio's own builds never do.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-30}"
sanitizer="${FUZZ_SANITIZER:-none}"
if [ "${FUZZ_OPTIMIZE:-0}" = 1 ]; then
  flags=(-O --sanitizer "$sanitizer")
else
  flags=(--dev --sanitizer "$sanitizer")
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: run tests/install-deps.sh" >&2
  exit 1
fi

started=$SECONDS
echo "==> cargo fuzz build ${flags[*]}"
cargo fuzz build "${flags[@]}"
built=$((SECONDS - started))
echo "==> built in ${built}s"

read -r -a targets <<<"${FUZZ_TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"
# New inputs libFuzzer finds go into a scratch folder (the first corpus argument), so the
# checked-in corpus stays the small one we chose.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
  echo "==> fuzzing $target for ${seconds}s"
  mkdir -p "$scratch/$target"
  # -rss_limit_mb: the box is small and any single file must stay far below this (issue 20);
  # -timeout: one input taking 10 s is a hang worth a report.
  if ! cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>"$scratch/$target.log"; then
    tail -n 60 "$scratch/$target.log" >&2
    failed+=("$target")
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$scratch/$target.log" | tr '\n' ' ' || true
    echo
  fi
done
echo "==> fuzzing took $((SECONDS - started))s in all (build ${built}s)"
if ((${#failed[@]})); then
  echo "==> crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
