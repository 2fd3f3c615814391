#!/usr/bin/env bash
# demo.sh: the README's first command. Starts a local Glance with the
# project's launcher (tests/lab/start-glance.sh, 127.0.0.1 only), builds the
# example tool `glance`, uploads a sample image with it, downloads it back
# over HTTP and through the local file-store short-circuit, prints each
# report, checks that each JSON report says where the data came from and
# "verified": "sha512", checks the bytes with cmp, and stops Glance on exit.
#
# Needs what the real-Glance tests need: python3 >= 3.11 with venv, a C
# compiler and Python headers, and PyPI the first time (the virtualenv is
# built once, about a minute, and shared with `cargo test`).
#
# Settings (environment):
#   DEMO_DIR     work directory (sample, downloads, nova.conf, lab)  (default target/demo)
#   DEMO_KEEP=1  keep the lab directory (logs, database) after the run
#   GLANCE_VENV  the virtualenv                     (default target/tmp/glance-venv)
# Exit status: 0 all went as shown, 1 a step failed, 3 a prerequisite is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
WORK=${DEMO_DIR:-$TARGET/demo}
case $WORK in /*) ;; *) WORK=$PWD/$WORK ;; esac
LAB=$WORK/lab
export GLANCE_VENV=${GLANCE_VENV:-$TARGET/tmp/glance-venv}

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# expect FILE KEY VALUE: the tool's pretty-printed `--json` report in FILE
# has the line `"KEY": "VALUE"`; otherwise dies showing what it has instead.
expect() {
    local file=$1 key=$2 value=$3 shown
    grep -Eq "^ *\"$key\": \"$value\",?\$" "$file" && return
    shown=$(grep -E "^ *\"$key\":" "$file" | sed 's/^ *//; s/,$//') || true
    die "$file: expected \"$key\": \"$value\", the report has ${shown:-no \"$key\"}"
}

# check_report FILE SOURCE: the download came from SOURCE (http or local) and
# was verified with sha512, which the lab's Glance computes for every image.
check_report() {
    expect "$1" source "$2"
    expect "$1" verified sha512
    say "report checked: \"source\": \"$2\", \"verified\": \"sha512\""
}

mkdir -p "$WORK"
stop() {
    local keep=()
    [ "${DEMO_KEEP:-0}" = 1 ] || keep=(--remove-lab)
    GLANCE_LAB=$LAB bash "$ROOT/tests/lab/stop-glance.sh" "${keep[@]}" >/dev/null 2>&1 || true
}
trap stop EXIT

step "Starting a local Glance (tests/lab/start-glance.sh)"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
    { echo "demo: python3 is needed (see tests/lab/README.md)" >&2; exit 3; }
[ -x "$GLANCE_VENV/bin/uwsgi" ] ||
    say "first run: building the virtualenv $GLANCE_VENV from PyPI (a minute or two)"
status=0
GLANCE_LAB=$LAB GLANCE_LAB_OWNER_PID=$$ GLANCE_LAB_CLEANUP=0 \
    bash "$ROOT/tests/lab/start-glance.sh" "$PORT" >"$WORK/start-glance.log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
    tail -n 5 "$WORK/start-glance.log" >&2
    [ "$status" = 3 ] && { echo "demo: a prerequisite is missing (see above)" >&2; exit 3; }
    die "start-glance.sh failed (exit $status); the whole log: $WORK/start-glance.log"
fi
# Plain KEY=VALUE lines; the launcher allows no shell syntax in its values.
# shellcheck source=/dev/null
. "$LAB/glance.env"
say "Glance $GLANCE_VERSION at $GLANCE_ENDPOINT, file store $GLANCE_STORE_DIR (id $GLANCE_FS_ID)"

step "Building the tool (cargo build --example glance)"
cargo build --example glance --manifest-path "$ROOT/Cargo.toml"
GLANCE_TOOL=$TARGET/debug/examples/glance
[ -x "$GLANCE_TOOL" ] || die "no tool at $GLANCE_TOOL"
glance() { "$GLANCE_TOOL" --os-image-url "$GLANCE_ENDPOINT" "$@"; }
say "$GLANCE_TOOL"

step "Uploading a 4 MiB sample image (glance image-create --file)"
SAMPLE=$WORK/sample.raw
head -c 4194304 /dev/urandom >"$SAMPLE"
glance image-create --name demo-sample --disk-format raw --container-format bare \
    --property demo=true --file "$SAMPLE" --progress >"$WORK/created.txt"
# The table glanceclient prints: | Property | Value |, one row per field.
grep -E '^\| (Property|id|status|size|os_hash_algo|direct_url) ' "$WORK/created.txt" | sed 's/^/   /'
ID=$(awk '$2 == "id" { print $4 }' "$WORK/created.txt")
[ -n "$ID" ] || die "image-create printed no id"

step "Downloading it over HTTP (glance image-download --no-local)"
rm -f "$WORK/over-http.raw"
glance --json image-download "$ID" --file "$WORK/over-http.raw" --no-local --progress |
    tee "$WORK/over-http.json" | sed 's/^/   /'
check_report "$WORK/over-http.json" http
cmp "$SAMPLE" "$WORK/over-http.raw" || die "the HTTP download differs from the sample"
say "cmp: identical to the sample"

step "Downloading it through the local file store ([image_file_url] in a nova.conf)"
cat >"$WORK/nova.conf" <<EOF
[glance]
api_servers = $GLANCE_ENDPOINT
allowed_direct_url_schemes = file

[image_file_url]
filesystems = lab

[image_file_url:lab]
id = $GLANCE_FS_ID
mountpoint = $GLANCE_STORE_DIR
EOF
sed 's/^/   nova.conf: /' "$WORK/nova.conf"
rm -f "$WORK/local.raw"
"$GLANCE_TOOL" --config-file "$WORK/nova.conf" image-download "$ID" --file "$WORK/local.raw" |
    sed 's/^/   /'
"$GLANCE_TOOL" --config-file "$WORK/nova.conf" --json image-download "$ID" --file "$WORK/local.raw" |
    tee "$WORK/local.json" | sed 's/^/   /'
check_report "$WORK/local.json" local
cmp "$SAMPLE" "$WORK/local.raw" || die "the local copy differs from the sample"
say "cmp: identical to the sample"

step "Cleaning up (glance image-delete; Glance stops on exit)"
glance image-delete "$ID"
say "deleted $ID"
printf '\nDone: uploaded, downloaded over HTTP and from the local store, verified by sha512 and cmp.\n'
