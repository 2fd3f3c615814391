#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short smoke time.
#   fuzz/smoke.sh [SECONDS_PER_TARGET]   (default 20)
# Long runs: cargo +nightly fuzz run TARGET fuzz/corpus/TARGET fuzz/seeds/TARGET -- -max_total_time=1800
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-20}"
dict_for() { [ -f "$1.dict" ] && echo "-dict=$PWD/$1.dict" || true; }
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    mkdir -p "corpus/$target"
    echo "--- $target (${secs}s)"
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 $(dict_for "$target") 2>&1 \
        | grep -E '^(Done|stat::number_of_executed_units)|SUMMARY|panicked' || true
    # A crash leaves an artifact and a non-zero status above; make it fatal here.
    if compgen -G "artifacts/$target/*" >/dev/null; then
        echo "fuzz target $target crashed: see fuzz/artifacts/$target" >&2
        exit 1
    fi
done
