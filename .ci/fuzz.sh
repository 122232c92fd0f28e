#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for FUZZ_SECONDS seconds (default 60).
# Exits non-zero if any target crashes (panic, failed check, timeout, OOM); the crashing input is
# left in fuzz/artifacts/<target>/ -- copy it to tests/data/regressions/fuzz-<target>-N.bin.
#
# Works on a stable toolchain: cargo-fuzz passes nightly-only flags (-Zsanitizer=address,
# -Cpasses=sancov-module, ...), which RUSTC_BOOTSTRAP=1 makes stable rustc accept.
#
# Environment:
#   FUZZ_SECONDS      seconds per target (default 60)
#   FUZZ_TIMEOUT      seconds one input may take before libFuzzer calls it a hang (default 10)
#   FUZZ_TARGETS      space-separated subset of targets (default: all, from `cargo fuzz list`)
#   FUZZ_BUILD_FLAGS  extra flags for `cargo fuzz build` and `cargo fuzz run`, identical for both
#                     so `run` does not rebuild (e.g. "--sanitizer none" for a faster build)
set -euo pipefail

cd "$(dirname "$0")/../fuzz"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
read -r -a BUILD_FLAGS <<< "${FUZZ_BUILD_FLAGS:-}"
export RUSTC_BOOTSTRAP=1

stamp() { date +%s; }
t0=$(stamp)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
t1=$(stamp)

targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"

echo "== building fuzz targets: $(echo $targets)"
cargo fuzz build "${BUILD_FLAGS[@]}"
t2=$(stamp)

failed=()
for t in $targets; do
    echo "== fuzzing $t for ${FUZZ_SECONDS}s"
    mkdir -p "corpus/$t"
    corpora=("corpus/$t")
    [ -d "seeds/$t" ] && corpora+=("seeds/$t")
    if ! cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "${corpora[@]}" -- \
        -max_total_time="$FUZZ_SECONDS" \
        -timeout="$FUZZ_TIMEOUT" \
        -dict=adscreen.dict \
        -print_final_stats=1; then
        failed+=("$t")
        echo "!! $t crashed; inputs in fuzz/artifacts/$t/:"
        ls -l "artifacts/$t/" || true
    fi
done
t3=$(stamp)

echo "== timings: install $((t1 - t0))s, build $((t2 - t1))s, runs $((t3 - t2))s"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "!! crashed: ${failed[*]}"
    echo "   copy each artifact to tests/data/regressions/fuzz-<target>-N.bin (see fuzz/README.md)"
    exit 1
fi
echo "== no crashes"
