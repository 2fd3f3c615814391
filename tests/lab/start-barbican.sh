#!/usr/bin/env bash
# start-barbican.sh [PORT]: run a real OpenStack Barbican (key manager API v1,
# release 23) for glance-client's signature tests, on 127.0.0.1 only, with
# sqlite, the store_crypto secret store and the simple_crypto plugin (a
# software KEK kept in the lab directory), in Barbican's unauthenticated
# pipeline: no Keystone. stop-barbican.sh stops it. The same venv holds
# cursive, the oracle tests/lab/cursive_oracle.py runs.
#
# What the lab looks like to a client: a request under /v1 carries
# `X-Project-Id: <any project>` and acts as that project with the roles of
# its `X-Roles` (default: admin), expanded as Keystone implies them (admin >
# member > reader; barbican_lab_identity.py); or, as a client of a
# Keystone-protected Barbican does, `X-Auth-Token: <any token>` and no
# project, and acts as the lab's project (BARBICAN_PROJECT_ID below); with
# neither it is answered 401. Secrets are per project:
#   curl -H 'X-Project-Id: lab' -H 'Content-Type: application/json' \
#        -d '{"secret_type": "certificate", "payload": "'"$(base64 -w0 cert.pem)"'",
#             "payload_content_type": "application/octet-stream",
#             "payload_content_encoding": "base64"}' $BARBICAN_URL/v1/secrets
#   curl -H 'X-Project-Id: lab' -H 'Accept: application/octet-stream' \
#        $BARBICAN_URL/v1/secrets/<uuid>/payload          # the PEM, as stored
#
# Settings (environment):
#   PORT / BARBICAN_PORT      TCP port on 127.0.0.1                 (default 19311)
#   BARBICAN_LAB              state, config and logs                (default /tmp/glance-client-barbican)
#   BARBICAN_VENV             virtualenv; created when missing, reused when it holds
#                             barbican and cursive, which are added to a venv
#                             without (e.g. the Glance lab's: the pins agree)
#                                                                   (default $BARBICAN_LAB/venv)
#   BARBICAN_RESET=1          wipe the database and the KEK first
#   BARBICAN_LAB_OWNER_PID    stop the lab once this process has exited (watchdog.sh)
#   BARBICAN_LAB_CLEANUP=1    with BARBICAN_LAB_OWNER_PID: also delete $BARBICAN_LAB then
#   BARBICAN_LOCK             pip constraints file                  (default barbican-requirements.lock here)
#   PYTHON                    interpreter for a new venv            (default python3, needs >= 3.11)
#
# Writes $BARBICAN_LAB/barbican.env, plain KEY=VALUE lines: BARBICAN_URL,
# BARBICAN_PORT, BARBICAN_PID, BARBICAN_LAB, BARBICAN_VENV, BARBICAN_VERSION,
# CURSIVE_VERSION, BARBICAN_PROJECT_ID (a project id to send).
# Exit status as start-glance.sh: 0 up (or already running), 1 failed, 2 bad
# settings, 3 a prerequisite is missing (python3 >= 3.11 with venv, Python
# headers and a C compiler for uWSGI, a reachable PyPI).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${1:-${BARBICAN_PORT:-19311}}
LAB=${BARBICAN_LAB:-/tmp/glance-client-barbican}
VENV=${BARBICAN_VENV:-$LAB/venv}
# shellcheck disable=SC2034 # read by lab-venv.sh
LOCK=${BARBICAN_LOCK:-$HERE/barbican-requirements.lock}
PYTHON=${PYTHON:-python3}
PACKAGES=(barbican==23.0.0 cursive==0.3.1 uWSGI)
ENDPOINT="http://127.0.0.1:$PORT"
PROJECT=glance-client-lab
ETC=$LAB/etc
LOGDIR=$LAB/log
PIDFILE=$LAB/barbican.pid
ENVFILE=$LAB/barbican.env

say() { echo "start-barbican: $*"; }
die() { local code=$1; shift; echo "start-barbican: $*" >&2; exit "$code"; }

# --- settings ---------------------------------------------------------------
case $PORT in '' | *[!0-9]*) die 2 "port must be a number, not '$PORT'" ;; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die 2 "port $PORT is out of range"
# Paths end up unquoted in config and env files: keep them plain.
for value in "$LAB" "$VENV"; do
    case $value in '' | *[!A-Za-z0-9._/+=@:-]*)
        die 2 "'$value': lab and venv paths may use only A-Za-z0-9._/+=@:-" ;;
    esac
done
case $LAB in /*) ;; *) LAB=$PWD/$LAB ;; esac
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
if [ -n "${BARBICAN_LAB_OWNER_PID:-}" ]; then
    case $BARBICAN_LAB_OWNER_PID in *[!0-9]*) die 2 "BARBICAN_LAB_OWNER_PID must be a process id" ;; esac
    kill -0 "$BARBICAN_LAB_OWNER_PID" 2>/dev/null ||
        die 2 "BARBICAN_LAB_OWNER_PID $BARBICAN_LAB_OWNER_PID is not running"
fi

# --- already running? -------------------------------------------------------
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    say "already running (PID $(cat "$PIDFILE"))"
    cat "$ENVFILE" 2>/dev/null || true
    exit 0
fi
rm -f "$PIDFILE" "$ENVFILE"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die 1 "something else already listens on 127.0.0.1:$PORT"
fi
if [ "${BARBICAN_RESET:-0}" = 1 ]; then
    rm -rf "$LAB/data" "$ETC/simple-crypto-kek"
fi
mkdir -p "$ETC" "$LOGDIR" "$LAB/lib" "$LAB/data" "$LAB/locks"

# --- 1. the virtualenv ------------------------------------------------------
# shellcheck source=lab-venv.sh
. "$HERE/lab-venv.sh"
ensure_venv start-barbican "$VENV" "$LOGDIR/pip-install.log" "barbican cursive" "${PACKAGES[@]}"

# --- 2. configuration -------------------------------------------------------
cp "$HERE/barbican_lab_wsgi.py" "$HERE/barbican_lab_identity.py" "$HERE/lab_sqlite.py" "$LAB/lib/"
# simple_crypto's key-encryption key: random per lab, kept with its database
# (the secrets stored are encrypted with it).
if [ ! -s "$ETC/simple-crypto-kek" ]; then
    "$VENV/bin/python" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' \
        >"$ETC/simple-crypto-kek.$$" && mv "$ETC/simple-crypto-kek.$$" "$ETC/simple-crypto-kek"
fi
KEK=$(cat "$ETC/simple-crypto-kek")

cat >"$ETC/barbican.conf" <<EOF
# Written by start-barbican.sh; rewritten at every start.
[DEFAULT]
host_href = $ENDPOINT
# The tables are created when the API starts.
db_auto_create = True
log_file = $LOGDIR/barbican-api.log
debug = False

[database]
connection = sqlite:///$LAB/data/barbican.sqlite?timeout=30
sqlite_synchronous = False

[secretstore]
namespace = barbican.secretstore.plugin
enabled_secretstore_plugins = store_crypto

[crypto]
namespace = barbican.crypto.plugin
enabled_crypto_plugins = simple_crypto

[simple_crypto_plugin]
kek = $KEK

[queue]
# No worker: orders and the like run in the API process.
enable = False

[oslo_concurrency]
lock_path = $LAB/locks
EOF

# Barbican's stock barbican-api-paste.ini, with /v1 on the unauthenticated
# pipeline (no Keystone: X-Project-Id names the project), plus one lab filter.
cat >"$ETC/barbican-api-paste.ini" <<EOF
[composite:main]
use = egg:Paste#urlmap
/: barbican_version
/v1: barbican_api

[pipeline:barbican_version]
pipeline = cors request_id http_proxy_to_wsgi microversion versionapp

[pipeline:barbican_api]
pipeline = cors request_id http_proxy_to_wsgi labidentity unauthenticated-context microversion apiapp

[app:apiapp]
paste.app_factory = barbican.api.app:create_main_app

[app:versionapp]
paste.app_factory = barbican.api.app:create_version_app

# Lets unauthenticated-context work: it reads req.request_id, which nothing
# sets (500), and acts as role admin alone, which the default policies refuse
# (403): see barbican_lab_identity.py.
[filter:labidentity]
paste.filter_factory = barbican_lab_identity:filter_factory
default_project = $PROJECT

[filter:unauthenticated-context]
paste.filter_factory = barbican.api.middleware.context:UnauthenticatedContextMiddleware.factory

[filter:microversion]
paste.filter_factory = barbican.api.middleware.microversion:MicroversionMiddleware.factory

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = barbican

[filter:request_id]
paste.filter_factory = oslo_middleware.request_id:RequestId.factory

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF

cat >"$ETC/barbican-uwsgi.ini" <<EOF
[uwsgi]
module = barbican_lab_wsgi:application
http11-socket = 127.0.0.1:$PORT
home = $VENV
pythonpath = $LAB/lib
chdir = $LAB
env = BARBICAN_LAB_CONFIG=$ETC/barbican.conf
env = BARBICAN_LAB_PASTE=$ETC/barbican-api-paste.ini
pidfile = $PIDFILE
master = true
processes = 1
threads = 16
enable-threads = true
lazy-apps = true
need-app = true
die-on-term = true
no-orphans = true
buffer-size = 65535
socket-timeout = 30
EOF

# --- 3. start and wait for the API ------------------------------------------
# GET /v1/secrets over bash's /dev/tcp: true once the API answers 200.
answers() {
    local status
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /v1/secrets?limit=1 HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Project-Id: %s\r\n\r\n' "$PROJECT" >&3
    IFS=' ' read -r -t 5 _ status _ <&3 || status=
    exec 3>&-
    [ "$status" = 200 ]
}
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)
${SETSID[@]+"${SETSID[@]}"} "$VENV/bin/uwsgi" --ini "$ETC/barbican-uwsgi.ini" \
    >>"$LOGDIR/uwsgi.log" 2>&1 </dev/null &
LAUNCHED=$!
started=$SECONDS
until answers 2>/dev/null; do
    PID=$(cat "$PIDFILE" 2>/dev/null || echo "$LAUNCHED")
    if ! kill -0 "$PID" 2>/dev/null; then
        tail -15 "$LOGDIR/uwsgi.log" >&2
        tail -15 "$LOGDIR/barbican-api.log" >&2 2>/dev/null || true
        rm -f "$PIDFILE"
        die 1 "uWSGI exited during start-up (logs in $LOGDIR)"
    fi
    if [ $((SECONDS - started)) -ge 90 ]; then
        BARBICAN_LAB=$LAB bash "$HERE/stop-barbican.sh" >&2 || true
        die 1 "no answer from $ENDPOINT within 90s; stopped it (logs in $LOGDIR)"
    fi
    sleep 0.3
done
PID=$(cat "$PIDFILE")

versions=$("$VENV/bin/python" -c 'from importlib.metadata import version as v
print(v("barbican"), v("cursive"))')
cat >"$ENVFILE" <<EOF
BARBICAN_URL=$ENDPOINT
BARBICAN_PORT=$PORT
BARBICAN_PID=$PID
BARBICAN_LAB=$LAB
BARBICAN_VENV=$VENV
BARBICAN_VERSION=${versions% *}
CURSIVE_VERSION=${versions#* }
BARBICAN_PROJECT_ID=$PROJECT
EOF

# --- 4. the owner watchdog ----------------------------------------------------
if [ -n "${BARBICAN_LAB_OWNER_PID:-}" ]; then
    stop_cmd=(env BARBICAN_LAB="$LAB" bash "$HERE/stop-barbican.sh")
    [ "${BARBICAN_LAB_CLEANUP:-0}" = 1 ] && stop_cmd+=(--remove-lab)
    ${SETSID[@]+"${SETSID[@]}"} bash "$HERE/watchdog.sh" "$BARBICAN_LAB_OWNER_PID" "$PID" \
        "${stop_cmd[@]}" >>"$LOGDIR/watchdog.log" 2>&1 </dev/null &
    echo "$!" >"$LAB/watchdog.pid"
    say "watchdog $! stops this lab when PID $BARBICAN_LAB_OWNER_PID exits"
fi

say "barbican ${versions% *} is up at $ENDPOINT (PID $PID, ${SECONDS}s); settings in $ENVFILE"
cat "$ENVFILE"
say "try: curl -H 'X-Project-Id: $PROJECT' $ENDPOINT/v1/secrets"
