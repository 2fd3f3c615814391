#!/usr/bin/env bash
# benches/run.sh: glance-client's download and upload speed, CPU and memory,
# measured side by side with its peers in one run (see the README's
# "Performance" section for a table it printed).
#
# It starts a real Glance 33 with the project's launcher (tests/lab/), and an
# nginx on 127.0.0.1 that serves Glance's two read paths from static files
# (the image record at /v2/images/ID, the bytes at /v2/images/ID/file), so the
# client's own cost shows without Glance's. It writes a random image, uploads
# it, then measures, interleaved over ROUNDS rounds, each program under
# /usr/bin/time (wall, user + system CPU, peak RSS):
#   from Glance : our tool and library (verified, atomic) vs python-glanceclient
#                 `glance image-download` (verifies sha512) vs openstacksdk
#                 `download_image(stream=True, output=...)` (verifies sha512)
#                 vs `curl -o` (no verification)
#   from nginx  : our tool and library vs `curl -s URL | tee FILE | sha512sum`
#   local store : our local short-circuit ([image_file_url], verified) vs `cp`
#                 and vs `sha512sum` of the same file
#   upload      : our `image-create --file` vs glanceclient's
#   inspect     : our library from nginx with and without the deep format
#                 inspection (a raw image: every buffer is inspected)
#   cache       : `host-cache-fetch` (one image-record request, no data) and
#                 `image-download --cache-dir` (that, then a hard link) of an
#                 image the host cache holds vs our plain download from Glance
#   signed      : the image signed with openssl as Glance's documentation
#                 does (RSA-PSS), downloaded from Glance with
#                 `--verify-signature` vs without: signed over SHA-256 (one
#                 more hash stream beside the sha512 checksum) and over
#                 SHA-512 (the checksum's own stream); the certificate comes
#                 from a --trusted-cert-dir (Barbican would add two small
#                 requests per download, not a cost per byte)
# Every download is compared with the original bytes (cmp), every pipeline's
# and sha512sum's digest with the original's, every uploaded image's
# os_hash_value with the original's; the run exits 1 if any differs.
# It prints one table (min and median wall time, throughput, CPU seconds per
# GB, peak RSS) and the ratios to each peer with the project's targets.
#
# Usage: benches/run.sh            (1 GiB image, 5 rounds, every group: about 6 minutes)
# Settings (environment):
#   BENCH_SIZE_MIB  image size in MiB                      (default 1024)
#   BENCH_ROUNDS    rounds, at least 1                     (default 5)
#   BENCH_DIR       work directory: image, downloads, lab  (default
#                   /dev/shm/glance-client-bench when that tmpfs has room for
#                   five copies of the image, else target/bench). On tmpfs
#                   fsync costs nothing, so our download (which fsyncs) and
#                   the peers (which do not) are compared on equal terms.
#   BENCH_GROUPS    which groups to run, space-separated   (default
#                   "glance nginx local upload inspect cache signed")
#   BENCH_KEEP=1    keep the work directory afterwards
#   GLANCE_VENV     the launcher's virtualenv (has glanceclient and
#                   openstacksdk)                          (default target/tmp/glance-venv)
# Needs: what the real-Glance tests need (python3 >= 3.11 with venv, a C
# compiler, Python headers, PyPI the first time), nginx (installed with
# apt-get when missing and run as root), curl, GNU time (/usr/bin/time), cmp;
# openssl for the signed group. The tool and the library example are built
# with the signatures feature, as .ci/run builds the static tool.
# Exit status: 0 measured and every result byte-identical; 1 a program
# failed or a result differed; 2 bad settings; 3 a prerequisite is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-5}
GROUPS_RUN=${BENCH_GROUPS:-glance nginx local upload inspect cache signed}
export GLANCE_VENV=${GLANCE_VENV:-$TARGET/tmp/glance-venv}

say() { echo "bench: $*" >&2; }
die() { local code=$1; shift; echo "bench: $*" >&2; exit "$code"; }

case $SIZE_MIB in '' | *[!0-9]*) die 2 "BENCH_SIZE_MIB must be a number of MiB, not '$SIZE_MIB'" ;; esac
case $ROUNDS in '' | *[!0-9]*) die 2 "BENCH_ROUNDS must be a number, not '$ROUNDS'" ;; esac
[ "$SIZE_MIB" -ge 1 ] || die 2 "BENCH_SIZE_MIB must be at least 1"
[ "$ROUNDS" -ge 1 ] || die 2 "BENCH_ROUNDS must be at least 1"
for g in $GROUPS_RUN; do
    case $g in glance | nginx | local | upload | inspect | cache | signed) ;; *) die 2 "unknown group '$g' in BENCH_GROUPS" ;; esac
done
wants() { case " $GROUPS_RUN " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
SIZE=$((SIZE_MIB * 1024 * 1024))

# --- prerequisites -------------------------------------------------------
[ -x /usr/bin/time ] || die 3 "GNU time is needed at /usr/bin/time (Debian: apt-get install time)"
command -v curl >/dev/null || die 3 "curl is needed"
command -v cmp >/dev/null || die 3 "cmp is needed (diffutils)"
command -v python3 >/dev/null || die 3 "python3 >= 3.11 is needed (see tests/lab/README.md)"
! wants signed || command -v openssl >/dev/null || die 3 "openssl is needed for the signed group"
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
if { wants nginx || wants inspect; } && [ -z "$NGINX" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "installing nginx-light with apt-get"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; } >/dev/null ||
            die 3 "apt-get could not install nginx"
        NGINX=/usr/sbin/nginx
    else
        die 3 "nginx is needed for the nginx group (Debian: apt-get install nginx-light), or leave it out of BENCH_GROUPS"
    fi
fi

# --- work directory ------------------------------------------------------
free_mib() { df -Pm "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
if [ -n "${BENCH_DIR:-}" ]; then
    WORK=$BENCH_DIR
elif [ -d /dev/shm ] && [ "$(free_mib /dev/shm || echo 0)" -gt $((SIZE_MIB * 5 + 256)) ]; then
    WORK=/dev/shm/glance-client-bench
else
    WORK=$TARGET/bench
fi
case $WORK in /*) ;; *) WORK=$PWD/$WORK ;; esac
# Start clean: an earlier run's lab or files must not be measured.
if [ -f "$WORK/lab/glance.pid" ]; then
    GLANCE_LAB=$WORK/lab bash "$ROOT/tests/lab/stop-glance.sh" >/dev/null 2>&1 || true
fi
rm -rf "$WORK"
mkdir -p "$WORK/out"
FS_TYPE=$(df -PT "$WORK" | awk 'NR == 2 { print $2 }')
LAB=$WORK/lab
NGINX_PID=
cleanup() {
    [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true
    GLANCE_LAB=$LAB bash "$ROOT/tests/lab/stop-glance.sh" >/dev/null 2>&1 || true
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- build ----------------------------------------------------------------
say "building the tool and the library example (cargo build --release)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --features signatures \
    --example glance --example download
TOOL=$TARGET/release/examples/glance
LIBDL=$TARGET/release/examples/download

# --- Glance ---------------------------------------------------------------
say "starting Glance (tests/lab/start-glance.sh) in $LAB"
GLANCE_PORT_NUM=$(free_port)
status=0
GLANCE_LAB=$LAB GLANCE_LAB_OWNER_PID=$$ \
    bash "$ROOT/tests/lab/start-glance.sh" "$GLANCE_PORT_NUM" >"$WORK/start-glance.log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
    tail -n 5 "$WORK/start-glance.log" >&2
    die "$([ "$status" = 3 ] && echo 3 || echo 1)" "start-glance.sh failed (exit $status), see $WORK/start-glance.log"
fi
# shellcheck source=/dev/null
. "$LAB/glance.env"
EP=$GLANCE_ENDPOINT
PY=$GLANCE_VENV/bin/python
PYGLANCE=$GLANCE_VENV/bin/glance
"$PY" -c 'import openstack, glanceclient' 2>/dev/null || die 3 "$GLANCE_VENV lacks openstacksdk or python-glanceclient"

# --- the image --------------------------------------------------------------
SRC=$WORK/image.raw
say "writing a random image of $SIZE_MIB MiB"
head -c "$SIZE" /dev/urandom >"$SRC"
SHA512=$(sha512sum "$SRC" | cut -d' ' -f1)
json_field() { # json_field FIELD < JSON
    "$PY" -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"
}
say "uploading it with our tool"
ID=$("$TOOL" --os-image-url "$EP" --json image-create --name bench-source --disk-format raw \
    --container-format bare --file "$SRC" | json_field id)
[ -n "$ID" ] || die 1 "the upload gave no image id"
curl -sf "$EP/v2/images/$ID" >"$WORK/image.json"
[ "$(json_field os_hash_value <"$WORK/image.json")" = "$SHA512" ] ||
    die 1 "Glance's os_hash_value of the uploaded image is not the image's sha512"
[ "$(json_field os_hash_algo <"$WORK/image.json")" = sha512 ] || die 1 "Glance did not hash with sha512"
STORE_FILE=$GLANCE_STORE_DIR/$ID
[ -f "$STORE_FILE" ] || die 1 "no store file $STORE_FILE"

# --- the signed image ----------------------------------------------------------
# A key and a self-signed certificate (a --trusted-cert-dir entry), and the
# image's signatures over SHA-256 and SHA-512, as Glance's documentation
# makes them; sign_as HASH gives the image that signature's properties.
if wants signed; then
    say "signing the image (openssl dgst -sign ... -sigopt rsa_padding_mode:pss)"
    mkdir -p "$WORK/certs"
    CERT_UUID=$(python3 -c 'import uuid; print(uuid.uuid4())')
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/sign.key" -out "$WORK/certs/$CERT_UUID.pem" \
        -days 2 -subj /CN=glance-client-bench-signer 2>"$WORK/openssl.log" ||
        die 1 "openssl req failed, see $WORK/openssl.log"
    for h in sha256 sha512; do
        openssl dgst "-$h" -sign "$WORK/sign.key" -sigopt rsa_padding_mode:pss -out "$WORK/sig-$h" "$SRC" ||
            die 1 "openssl dgst -$h -sign failed"
    done
fi
sign_as() { # sign_as sha256|sha512
    local method
    method=SHA-${1#sha}
    "$TOOL" --os-image-url "$EP" image-update "$ID" \
        --property "img_signature=$(base64 -w 0 "$WORK/sig-$1")" \
        --property "img_signature_hash_method=$method" \
        --property "img_signature_key_type=RSA-PSS" \
        --property "img_signature_certificate_uuid=$CERT_UUID" >/dev/null ||
        die 1 "image-update with the $method signature failed"
}

# --- nginx imitating Glance's read paths -------------------------------------
NG=
if wants nginx || wants inspect; then
    NGINX_PORT=$(free_port)
    mkdir -p "$WORK/nginx"
    {
        # Run as root, nginx's workers would become nobody, who may not read
        # the lab; keep them root then.
        [ "$(id -u)" != 0 ] || echo "user root;"
        cat <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /v2/images/$ID { default_type application/json; alias $WORK/image.json; }
        location = /v2/images/$ID/file { default_type application/octet-stream; alias $STORE_FILE; }
    }
}
EOF
    } >"$WORK/nginx/nginx.conf"
    "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/start.log" &
    NGINX_PID=$!
    NG=http://127.0.0.1:$NGINX_PORT
    for _ in $(seq 50); do
        curl -sf -o /dev/null "$NG/v2/images/$ID" && break
        sleep 0.1
    done
    curl -sf -o /dev/null "$NG/v2/images/$ID" || { cat "$WORK/nginx/start.log" "$WORK/nginx/error.log" >&2 || true; die 1 "nginx did not start"; }
fi

# nova.conf mapping the lab's store for the local short-circuit.
cat >"$WORK/nova.conf" <<EOF
[glance]
api_servers = $EP
allowed_direct_url_schemes = file

[image_file_url]
filesystems = lab

[image_file_url:lab]
id = $GLANCE_FS_ID
mountpoint = $GLANCE_STORE_DIR
EOF

cat >"$WORK/sdk_download.py" <<'EOF'
# openstacksdk's image download, streamed to a file and verified with the
# image's os_hash_value (what `openstack image save` does), no Keystone.
import sys
import openstack
endpoint, image_id, out = sys.argv[1:4]
conn = openstack.connect(auth_type="none", auth={"endpoint": endpoint},
                         load_yaml_config=False, load_envvars=False)
conn.image.download_image(image_id, output=out, stream=True)
EOF

# --- measuring ----------------------------------------------------------------
RESULTS=$WORK/results.tsv
OUT=$WORK/out/image
FAILED=0
# measure GROUP NAME CHECK CMD...: one timed run. CHECK is
#   file         $OUT must equal the image (then it is removed)
#   sha512       the command's first output word must be the image's sha512
#   file+sha512  both
#   local        like file, and the tool's JSON report says "source": "local"
#   signed       like file, and the tool's JSON report says "signature": "verified"
#   upload       the command prints an image id whose os_hash_value must be
#                the image's sha512 (the image is then deleted)
measure() {
    local group=$1 name=$2 check=$3 ok=yes wall user sys rss id
    shift 3
    rm -f "$OUT"
    if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >"$WORK/stdout" 2>"$WORK/stderr"; then
        say "$name failed:"
        tail -n 5 "$WORK/stderr" >&2
        FAILED=1
        return 0
    fi
    read -r wall user sys rss <"$WORK/time"
    case $check in
        file | file+sha512 | local | signed) cmp -s "$OUT" "$SRC" || ok=no ;;
    esac
    case $check in
        sha512 | file+sha512) [ "$(cut -d' ' -f1 <"$WORK/stdout")" = "$SHA512" ] || ok=no ;;
        local) grep -q '"source": *"local"' "$WORK/stdout" || { ok=no; say "$name did not copy locally"; } ;;
        signed) grep -q '"signature": *"verified"' "$WORK/stdout" || { ok=no; say "$name did not verify the signature"; } ;;
        existing) grep -q "^$ID existing " "$WORK/stdout" || { ok=no; say "$name was not a hit"; } ;;
        upload)
            id=$(grep -Eo '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$WORK/stdout" | head -n 1)
            if [ -z "$id" ] || [ "$(curl -sf "$EP/v2/images/$id" | json_field os_hash_value)" != "$SHA512" ]; then
                ok=no
            fi
            [ -z "$id" ] || curl -sf -X DELETE -o /dev/null "$EP/v2/images/$id" || true
            ;;
    esac
    [ "$ok" = yes ] || { say "$name: the result is NOT the image"; FAILED=1; }
    rm -f "$OUT"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$group" "$name" "$wall" "$user" "$sys" "$rss" "$ok" >>"$RESULTS"
    printf '  %-40s %6.2f s\n' "$name" "$wall" >&2
}

printf 'round\tgroup\tname\twall\tuser\tsys\trss_kib\tidentical\n' >"$RESULTS"
for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS"
    if wants glance; then
        measure glance "ours: glance image-download" file \
            "$TOOL" --os-image-url "$EP" image-download "$ID" --file "$OUT" --no-local
        measure glance "ours: library (examples/download)" file "$LIBDL" "$EP" "$ID" "$OUT"
        measure glance "python-glanceclient image-download" file \
            "$PYGLANCE" --os-image-url "$EP" --os-auth-token bench image-download --file "$OUT" "$ID"
        measure glance "openstacksdk download_image (stream)" file "$PY" "$WORK/sdk_download.py" "$EP" "$ID" "$OUT"
        measure glance "curl -o (unverified)" file curl -sSf -o "$OUT" "$EP/v2/images/$ID/file"
    fi
    if wants nginx; then
        measure nginx "ours: glance image-download" file \
            "$TOOL" --os-image-url "$NG" image-download "$ID" --file "$OUT" --no-local
        measure nginx "ours: library (examples/download)" file "$LIBDL" "$NG" "$ID" "$OUT"
        # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
        measure nginx "curl | tee | sha512sum" file+sha512 \
            bash -c 'set -o pipefail; curl -sSf "$1" | tee "$2" | sha512sum' _ "$NG/v2/images/$ID/file" "$OUT"
    fi
    if wants local; then
        measure local "ours: glance image-download (local)" local \
            "$TOOL" --config-file "$WORK/nova.conf" --json image-download "$ID" --file "$OUT"
        measure local "ours: library (local)" file "$LIBDL" --config-file "$WORK/nova.conf" "$ID" "$OUT"
        measure local "cp (unverified)" file cp "$STORE_FILE" "$OUT"
        measure local "sha512sum of the store file" sha512 sha512sum "$STORE_FILE"
    fi
    if wants inspect; then
        measure inspect "ours: library, inspected" file "$LIBDL" "$NG" "$ID" "$OUT"
        measure inspect "ours: library, not inspected" file "$LIBDL" --no-inspect "$NG" "$ID" "$OUT"
    fi
    if wants cache; then
        [ -d "$WORK/cache" ] || "$TOOL" --os-image-url "$EP" host-cache-fetch "$ID" \
            --cache-dir "$WORK/cache" >/dev/null || die 1 "host-cache-fetch failed"
        measure cache "ours: host-cache-fetch (hit)" existing \
            "$TOOL" --os-image-url "$EP" host-cache-fetch "$ID" --cache-dir "$WORK/cache"
        measure cache "ours: image-download --cache-dir (hit)" file \
            "$TOOL" --os-image-url "$EP" image-download "$ID" --file "$OUT" --cache-dir "$WORK/cache"
        measure cache "ours: glance image-download" file \
            "$TOOL" --os-image-url "$EP" image-download "$ID" --file "$OUT" --no-local
    fi
    if wants signed; then
        sign_as sha256
        measure signed "ours: signature not verified" file \
            "$TOOL" --os-image-url "$EP" --json image-download "$ID" --file "$OUT" --no-local
        measure signed "ours: verified over SHA-256 (+1 stream)" signed \
            "$TOOL" --os-image-url "$EP" --json image-download "$ID" --file "$OUT" --no-local \
            --verify-signature --trusted-cert-dir "$WORK/certs"
        sign_as sha512
        measure signed "ours: verified over SHA-512 (same stream)" signed \
            "$TOOL" --os-image-url "$EP" --json image-download "$ID" --file "$OUT" --no-local \
            --verify-signature --trusted-cert-dir "$WORK/certs"
    fi
    if wants upload; then
        measure upload "ours: glance image-create --file" upload \
            "$TOOL" --os-image-url "$EP" --json image-create --name bench-upload \
            --disk-format raw --container-format bare --file "$SRC"
        measure upload "python-glanceclient image-create --file" upload \
            "$PYGLANCE" --os-image-url "$EP" --os-auth-token bench image-create --name bench-upload \
            --disk-format raw --container-format bare --file "$SRC"
    fi
done

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
python3 "$ROOT/benches/report.py" "$RESULTS" "$SIZE" "$ROUNDS" \
    "$(nproc) CPUs${CPU:+, $CPU}; work directory on $FS_TYPE; glance-client $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
mkdir -p "$TARGET"
cp "$RESULTS" "$TARGET/bench-results.tsv"
say "every timed run: $TARGET/bench-results.tsv"
[ "$FAILED" = 0 ] || die 1 "some result was not the image, or a program failed (see above)"
