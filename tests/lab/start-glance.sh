#!/usr/bin/env bash
# start-glance.sh [PORT]: run a real OpenStack Glance (image API v2, release 33)
# for glance-client's tests, on 127.0.0.1 only, with a sqlite database and the
# file store. Glance comes from PyPI into a virtualenv, pinned by
# requirements.lock beside this script. stop-glance.sh stops it.
#
# What the lab looks like to a client:
#   - every image location is file://<lab>/images/<id> with metadata
#     {"id": GLANCE_FS_ID, "mountpoint": "<lab>/images"} (what a client's
#     [image_file_url] mapping matches on); direct_url and locations are shown;
#   - import methods glance-direct, copy-image and web-download (web-download
#     may fetch from http://127.0.0.1:ANY-PORT/ only, so a test can serve the
#     source itself);
#   - two file stores: fs (the default, whose locations carry the metadata
#     above) and fs2 (<lab>/images2, weight 50), for copy-image, store
#     uploads, deleting from one store and ?prefer= downloads; and a
#     read-only http store (web), so that http://127.0.0.1:ANY-PORT/
#     locations may be added (the locations API; file:// ones never may);
#   - the server's image cache (<lab>/cache): the cache API (v2.14) and
#     /versions up to v2.18;
#   - no Keystone by default (GLANCE_AUTH=lab): a small paste filter
#     (glance_lab_identity.py) fills in the identity headers Keystone's
#     auth_token middleware would set. A request without X-Project-Id acts as
#     project "lab-project" with roles admin,member,reader; a request with
#     `X-Project-Id: B` acts as project B with roles member,reader (or its own
#     X-Roles, expanded as Keystone implies them: admin > member > reader).
#     Send `X-Project-Id: B` to act as a second project, e.g. to accept a
#     membership (`X-Roles: member` alone is enough; reader is implied).
#   - GLANCE_AUTH=keystone: keystonemiddleware's auth_token validates
#     X-Auth-Token against a real Keystone (see start-keystone.sh).
#
# Settings (environment):
#   PORT / GLANCE_PORT   TCP port on 127.0.0.1                (default 19292)
#   GLANCE_LAB           state, config and logs               (default /tmp/glance-client-lab)
#   GLANCE_VENV          virtualenv; created when missing, reused when it holds
#                        glance, which is added to a venv without (e.g. the
#                        Keystone lab's). Also keeps an empty migrated database
#                        (share/glance-lab/) that new labs start from.
#                                                             (default $GLANCE_LAB/venv)
#   GLANCE_RESET=1       wipe the database and all image data first
#   GLANCE_FS_ID         store id in each location's metadata (default glance-client-lab-fs)
#   GLANCE_AUTH          lab (default) or keystone
#   GLANCE_LAB_OWNER_PID stop the lab once this process has exited (checked every
#                        second by watchdog.sh), so a test run never leaves uWSGI behind
#   GLANCE_LAB_CLEANUP=1 with GLANCE_LAB_OWNER_PID: also delete $GLANCE_LAB then
#   GLANCE_LOCK          pip constraints file                 (default requirements.lock here)
#   PYTHON               interpreter for a new venv           (default python3, needs >= 3.11)
#   GLANCE_LAB_PROJECT, GLANCE_LAB_USER, GLANCE_LAB_ROLES: the default identity.
#   For GLANCE_AUTH=keystone, each from the environment, else from
#   $KEYSTONE_ENV_FILE (default ${KEYSTONE_LAB:-/tmp/glance-client-keystone}/keystone.env):
#   KEYSTONE_URL, KEYSTONE_GLANCE_USERNAME, KEYSTONE_GLANCE_PASSWORD,
#   KEYSTONE_GLANCE_PROJECT_NAME, OS_REGION_NAME.
#
# On success it prints and writes $GLANCE_LAB/glance.env, plain KEY=VALUE lines:
#   GLANCE_ENDPOINT GLANCE_PORT GLANCE_PID GLANCE_LAB GLANCE_STORE_DIR GLANCE_FS_ID
#   GLANCE_VENV GLANCE_AUTH GLANCE_VERSION
# Exit status: 0 running (or already running), 1 failed (see the message and
# $GLANCE_LAB/log), 2 bad settings, 3 a prerequisite is missing: python3 >= 3.11
# with venv and pip, a C compiler and Python headers (pip builds uWSGI from
# source), or a reachable PyPI. Only needed when the venv must be created.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${1:-${GLANCE_PORT:-19292}}
LAB=${GLANCE_LAB:-/tmp/glance-client-lab}
VENV=${GLANCE_VENV:-$LAB/venv}
AUTH=${GLANCE_AUTH:-lab}
FS_ID=${GLANCE_FS_ID:-glance-client-lab-fs}
# shellcheck disable=SC2034 # read by lab-venv.sh
LOCK=${GLANCE_LOCK:-$HERE/requirements.lock}
PYTHON=${PYTHON:-python3}
PACKAGES=(glance==33.0.0 python-glanceclient openstacksdk uWSGI)
ENDPOINT="http://127.0.0.1:$PORT"
ETC=$LAB/etc
LOGDIR=$LAB/log
STORE=$LAB/images
PIDFILE=$LAB/glance.pid
ENVFILE=$LAB/glance.env

say() { echo "start-glance: $*"; }
die() { local code=$1; shift; echo "start-glance: $*" >&2; exit "$code"; }

# --- settings ---------------------------------------------------------------
case $PORT in '' | *[!0-9]*) die 2 "port must be a number, not '$PORT'" ;; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die 2 "port $PORT is out of range"
case $AUTH in lab | keystone) ;; *) die 2 "GLANCE_AUTH must be lab or keystone, not '$AUTH'" ;; esac
# Paths and ids end up unquoted in config and env files: keep them plain.
for value in "$LAB" "$VENV" "$FS_ID"; do
    case $value in '' | *[!A-Za-z0-9._/+=@:-]*)
        die 2 "'$value': lab and venv paths and GLANCE_FS_ID may use only A-Za-z0-9._/+=@:-" ;;
    esac
done
case $LAB in /*) ;; *) LAB=$PWD/$LAB ;; esac
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
if [ -n "${GLANCE_LAB_OWNER_PID:-}" ]; then
    case $GLANCE_LAB_OWNER_PID in *[!0-9]*) die 2 "GLANCE_LAB_OWNER_PID must be a process id" ;; esac
    kill -0 "$GLANCE_LAB_OWNER_PID" 2>/dev/null || die 2 "GLANCE_LAB_OWNER_PID $GLANCE_LAB_OWNER_PID is not running"
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

if [ "${GLANCE_RESET:-0}" = 1 ]; then
    rm -rf "$LAB/data" "$STORE" "$LAB/images2" "$LAB/staging" "$LAB/tasks" "$LAB/cache"
fi
mkdir -p "$ETC" "$LOGDIR" "$LAB/lib" "$LAB/data" "$STORE" "$LAB/images2" "$LAB/staging" \
    "$LAB/tasks" "$LAB/cache" "$LAB/locks"

# --- 1. the virtualenv ------------------------------------------------------
# shellcheck source=lab-venv.sh
. "$HERE/lab-venv.sh"
ensure_venv start-glance "$VENV" "$LOGDIR/pip-install.log" \
    "glance glanceclient openstack keystonemiddleware" "${PACKAGES[@]}"

# --- 2. configuration -------------------------------------------------------
cp "$HERE/glance_lab_identity.py" "$HERE/glance_lab_wsgi.py" "$HERE/lab_sqlite.py" "$LAB/lib/"

cat >"$ETC/glance-api.conf" <<EOF
# Written by start-glance.sh; rewritten at every start.
[DEFAULT]
show_image_direct_url = True
show_multiple_locations = True
enabled_backends = fs:file, fs2:file, web:http
enabled_import_methods = [glance-direct,copy-image,web-download]
worker_self_reference_url = $ENDPOINT
image_cache_dir = $LAB/cache
log_file = $LOGDIR/glance-api.log
debug = False

[database]
# timeout: how long a writer waits for another's lock (seconds); see also the
# WAL journal set after db_sync.
connection = sqlite:///$LAB/data/glance.sqlite?timeout=30
# A lab's data need not survive a power cut.
sqlite_synchronous = False

[paste_deploy]
flavor = $AUTH
config_file = $ETC/glance-api-paste.ini

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $STORE/
# Gives each location the metadata {"id", "mountpoint"} below.
filesystem_store_metadata_file = $ETC/fs-metadata.json

[fs2]
filesystem_store_datadir = $LAB/images2/
store_description = second file store
weight = 50

[web]
store_description = http locations (read-only)

[os_glance_staging_store]
filesystem_store_datadir = $LAB/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $LAB/tasks/

[import_filtering_opts]
# web-download may fetch from 127.0.0.1 on any port, and from nowhere else.
# (The name "localhost" is refused by glance's host check: use the address.)
allowed_hosts = [127.0.0.1]
allowed_ports = []

[oslo_concurrency]
lock_path = $LAB/locks
EOF

cat >"$ETC/fs-metadata.json" <<EOF
{"id": "$FS_ID", "mountpoint": "$STORE"}
EOF

# Glance's stock glance-api-paste.ini, cut down to the v2 API and two flavors.
cat >"$ETC/glance-api-paste.ini" <<EOF
[composite:glance-api-lab]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[composite:glance-api-keystone]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[composite:api]
paste.composite_factory = glance.api:pipeline_factory
lab = cors http_proxy_to_wsgi versionnegotiation labidentity context rootapp
keystone = cors http_proxy_to_wsgi versionnegotiation authtoken context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[app:healthcheck]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = $LAB/healthcheck_disable

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory

[filter:labidentity]
paste.filter_factory = glance_lab_identity:filter_factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF

if [ "$AUTH" = keystone ]; then
    KS_ENV_FILE=${KEYSTONE_ENV_FILE:-${KEYSTONE_LAB:-/tmp/glance-client-keystone}/keystone.env}
    # keystone_setting NAME DEFAULT: the environment, else the env file, else DEFAULT.
    keystone_setting() {
        local value=${!1:-}
        if [ -z "$value" ] && [ -f "$KS_ENV_FILE" ]; then
            value=$(sed -n "s/^$1=//p" "$KS_ENV_FILE" | tail -n 1)
        fi
        printf '%s' "${value:-$2}"
    }
    KS_URL=$(keystone_setting KEYSTONE_URL http://127.0.0.1:15000)
    KS_URL=${KS_URL%/}
    KS_URL=${KS_URL%/v3}
    cat >>"$ETC/glance-api.conf" <<EOF

[keystone_authtoken]
www_authenticate_uri = $KS_URL
auth_url = $KS_URL
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = $(keystone_setting KEYSTONE_GLANCE_PROJECT_NAME service)
username = $(keystone_setting KEYSTONE_GLANCE_USERNAME glance)
password = $(keystone_setting KEYSTONE_GLANCE_PASSWORD glance-secret)
region_name = $(keystone_setting OS_REGION_NAME RegionOne)
interface = public
service_token_roles_required = true
# No memcached: validated tokens are cached in the process.
token_cache_time = 300
EOF
fi

cat >"$ETC/glance-uwsgi.ini" <<EOF
[uwsgi]
# glance.wsgi.api:application, with SQLite transactions that queue (see the module)
module = glance_lab_wsgi:application
# uWSGI's own HTTP/1.1 server: keep-alive, and chunked request bodies, which
# glance reads through uwsgi.chunked_read() (a streamed upload without a size).
http11-socket = 127.0.0.1:$PORT
# one chunk may be this large (the default 1 MiB is glanceclient's chunk size)
chunked-input-limit = 16777216
home = $VENV
pythonpath = $LAB/lib
chdir = $LAB
env = OS_GLANCE_CONFIG_DIR=$ETC
env = GLANCE_LAB_PROJECT=${GLANCE_LAB_PROJECT:-lab-project}
env = GLANCE_LAB_USER=${GLANCE_LAB_USER:-lab-user}
env = GLANCE_LAB_ROLES=${GLANCE_LAB_ROLES:-admin,member,reader}
pidfile = $PIDFILE
master = true
processes = 1
# An idle keep-alive connection holds a thread until socket-timeout, so allow
# far more threads than requests in flight (tests run in parallel, and every
# client keeps a small pool).
threads = 32
enable-threads = true
lazy-apps = true
need-app = true
die-on-term = true
no-orphans = true
buffer-size = 65535
socket-timeout = 30
EOF

# --- 3. database -------------------------------------------------------------
VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("glance"))')
DB=$LAB/data/glance.sqlite
# An empty, migrated database depends only on the glance version, and db_sync
# takes seconds: keep one beside the venv and start new labs from a copy.
SCHEMA=$VENV/share/glance-lab/empty-$VERSION.sqlite
if [ ! -s "$DB" ] && [ -s "$SCHEMA" ]; then
    cp "$SCHEMA" "$DB"
else
    [ -s "$DB" ] && fresh=0 || fresh=1
    "$VENV/bin/glance-manage" --config-file "$ETC/glance-api.conf" db_sync >>"$LOGDIR/db-sync.log" 2>&1 ||
        { tail -20 "$LOGDIR/db-sync.log" >&2; die 1 "glance-manage db_sync failed (see $LOGDIR/db-sync.log)"; }
    if [ "$fresh" = 1 ] && mkdir -p "${SCHEMA%/*}" 2>/dev/null; then
        # A copy renamed into place, so a lab starting meanwhile never sees half a file.
        if ! { cp "$DB" "$SCHEMA.$$" && mv -f "$SCHEMA.$$" "$SCHEMA"; }; then rm -f "$SCHEMA.$$"; fi
    fi
fi
# Write-ahead logging (kept in the database file): readers never block the
# writer. Together with lab_sqlite.py's BEGIN IMMEDIATE, parallel requests
# wait their turn instead of failing with "database is locked" (a 500).
"$VENV/bin/python" -c 'import sqlite3, sys
mode = sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0]
sys.exit(mode != "wal")' "$DB" || die 1 "could not switch $DB to WAL"

# --- 4. start and wait for the API ------------------------------------------
# GET /versions over bash's /dev/tcp: true once the API answers 200.
answers() {
    local status
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /versions HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS=' ' read -r -t 5 _ status _ <&3 || status=
    exec 3>&-
    [ "$status" = 200 ]
}

SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)
# Its own session, and no tie to our stdout: whoever runs this script (a test
# harness reading our output to the end) is not kept waiting by uWSGI.
${SETSID[@]+"${SETSID[@]}"} "$VENV/bin/uwsgi" --ini "$ETC/glance-uwsgi.ini" \
    >>"$LOGDIR/uwsgi.log" 2>&1 </dev/null &
LAUNCHED=$!

started=$SECONDS
until answers 2>/dev/null; do
    PID=$(cat "$PIDFILE" 2>/dev/null || echo "$LAUNCHED")
    if ! kill -0 "$PID" 2>/dev/null; then
        tail -15 "$LOGDIR/uwsgi.log" >&2
        tail -15 "$LOGDIR/glance-api.log" >&2 2>/dev/null || true
        rm -f "$PIDFILE"
        die 1 "uWSGI exited during start-up (logs in $LOGDIR)"
    fi
    if [ $((SECONDS - started)) -ge 90 ]; then
        GLANCE_LAB=$LAB bash "$HERE/stop-glance.sh" >&2 || true
        die 1 "no answer from $ENDPOINT within 90s; stopped it (logs in $LOGDIR)"
    fi
    sleep 0.3
done
PID=$(cat "$PIDFILE")

cat >"$ENVFILE" <<EOF
GLANCE_ENDPOINT=$ENDPOINT
GLANCE_PORT=$PORT
GLANCE_PID=$PID
GLANCE_LAB=$LAB
GLANCE_STORE_DIR=$STORE
GLANCE_FS_ID=$FS_ID
GLANCE_VENV=$VENV
GLANCE_AUTH=$AUTH
GLANCE_VERSION=$VERSION
EOF

# --- 5. the owner watchdog ----------------------------------------------------
if [ -n "${GLANCE_LAB_OWNER_PID:-}" ]; then
    stop_cmd=(env GLANCE_LAB="$LAB" bash "$HERE/stop-glance.sh")
    [ "${GLANCE_LAB_CLEANUP:-0}" = 1 ] && stop_cmd+=(--remove-lab)
    ${SETSID[@]+"${SETSID[@]}"} bash "$HERE/watchdog.sh" "$GLANCE_LAB_OWNER_PID" "$PID" \
        "${stop_cmd[@]}" >>"$LOGDIR/watchdog.log" 2>&1 </dev/null &
    echo "$!" >"$LAB/watchdog.pid"
    say "watchdog $! stops this lab when PID $GLANCE_LAB_OWNER_PID exits"
fi

say "glance $VERSION is up at $ENDPOINT (PID $PID, ${SECONDS}s)"
cat "$ENVFILE"
if [ "$AUTH" = lab ]; then
    say "try: curl $ENDPOINT/v2/images   or   $VENV/bin/glance --os-image-url $ENDPOINT --os-auth-token lab image-list"
fi
