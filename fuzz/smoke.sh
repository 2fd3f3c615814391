#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short smoke time; any crash,
# timeout or out-of-memory input fails the run (the input is kept in
# fuzz/artifacts/TARGET/).
#   fuzz/smoke.sh [SECONDS_PER_TARGET] [TARGET...]   (default 20 s, every target)
# RUNS=N also stops each target after N executions, whichever comes first.
# Long runs: see the README's "Fuzzing" section.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
runs=()
[ -z "${RUNS:-}" ] || runs=(-runs="$RUNS")
dict_for() { if [ -f "$1.dict" ]; then echo "-dict=$PWD/$1.dict"; fi; }
cargo +nightly fuzz build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "--- $target (${secs}s)"
    status=0
    # shellcheck disable=SC2046 # dict_for prints zero or one word
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$secs" "${runs[@]}" -timeout=10 -print_final_stats=1 $(dict_for "$target") \
        >"$log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    if [ "$status" != 0 ]; then
        # The panic message, libFuzzer's summary and the artifact path.
        grep -E -A3 'panicked|SUMMARY|ERROR|Test unit written|artifact_prefix' "$log" | head -40 >&2
        echo "fuzz target $target failed (status $status): see fuzz/artifacts/$target" >&2
        exit 1
    fi
done
