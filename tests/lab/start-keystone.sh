#!/usr/bin/env bash
# start-keystone.sh [PORT]: run a real OpenStack Keystone (identity API v3,
# release 30) for glance-client's tests, on 127.0.0.1 only, with sqlite and
# fernet tokens, provisioned by keystone_lab_provision.py: projects demo, alt
# and service; users demo and alt (member of their project) and glance (the
# service user auth_token logs in as); the image service in the catalog; an
# application credential of demo. stop-keystone.sh stops it.
#
# With it, `GLANCE_AUTH=keystone start-glance.sh` runs Glance behind
# keystonemiddleware's auth_token against this Keystone (it reads the env file
# below). Start Keystone first, with GLANCE_URL set to where Glance will listen.
#
# Settings (environment):
#   PORT / KEYSTONE_PORT      TCP port on 127.0.0.1                 (default 15000)
#   KEYSTONE_LAB              state, config and logs                (default /tmp/glance-client-keystone)
#   KEYSTONE_VENV             virtualenv; created when missing, or keystone is added
#                             to it when it is a venv without (e.g. the Glance lab's:
#                             both fit in one)                      (default $KEYSTONE_LAB/venv)
#   KEYSTONE_RESET=1          wipe the database and keys first (a fresh lab starts
#                             from the provisioned template kept in
#                             $KEYSTONE_VENV/share/keystone-lab/, when there is one)
#   KEYSTONE_TOKEN_EXPIRATION token lifetime in seconds             (default 3600)
#   GLANCE_URL                image endpoint put in the catalog     (default http://127.0.0.1:19292)
#   KEYSTONE_REGION           region                                (default RegionOne)
#   KEYSTONE_ADMIN_PASSWORD, KEYSTONE_DEMO_PASSWORD, KEYSTONE_ALT_PASSWORD,
#   KEYSTONE_GLANCE_PASSWORD, KEYSTONE_APP_CRED_SECRET: lab secrets, fixed by default
#                             (admin-secret, demo-secret, alt-secret, glance-secret,
#                             demo-appcred-secret) so a restart can print them again
#   KEYSTONE_LAB_OWNER_PID    stop the lab once this process has exited (watchdog.sh)
#   KEYSTONE_LAB_CLEANUP=1    with KEYSTONE_LAB_OWNER_PID: also delete $KEYSTONE_LAB then
#   KEYSTONE_LOCK             pip constraints file                  (default requirements.lock here)
#   PYTHON                    interpreter for a new venv            (default python3, needs >= 3.11)
#
# Writes $KEYSTONE_LAB/keystone.env, plain KEY=VALUE lines: KEYSTONE_URL,
# KEYSTONE_PID, OS_* for demo (so `set -a; . keystone.env; set +a` logs in as
# demo), KEYSTONE_{ADMIN,ALT,GLANCE}_* credentials, KEYSTONE_APP_CRED_ID/SECRET
# and the ids of what was provisioned. These are lab secrets on loopback only.
# Exit status as start-glance.sh: 0 up, 1 failed, 2 bad settings, 3 a
# prerequisite is missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${1:-${KEYSTONE_PORT:-15000}}
LAB=${KEYSTONE_LAB:-/tmp/glance-client-keystone}
VENV=${KEYSTONE_VENV:-$LAB/venv}
# shellcheck disable=SC2034 # read by lab-venv.sh
LOCK=${KEYSTONE_LOCK:-$HERE/requirements.lock}
PYTHON=${PYTHON:-python3}
EXPIRATION=${KEYSTONE_TOKEN_EXPIRATION:-3600}
GLANCE_URL=${GLANCE_URL:-http://127.0.0.1:19292}
REGION=${KEYSTONE_REGION:-RegionOne}
ADMIN_PASSWORD=${KEYSTONE_ADMIN_PASSWORD:-admin-secret}
DEMO_PASSWORD=${KEYSTONE_DEMO_PASSWORD:-demo-secret}
ALT_PASSWORD=${KEYSTONE_ALT_PASSWORD:-alt-secret}
GLANCE_PASSWORD=${KEYSTONE_GLANCE_PASSWORD:-glance-secret}
APP_CRED_SECRET=${KEYSTONE_APP_CRED_SECRET:-demo-appcred-secret}
ENDPOINT="http://127.0.0.1:$PORT"
ETC=$LAB/etc
LOGDIR=$LAB/log
PIDFILE=$LAB/keystone.pid
ENVFILE=$LAB/keystone.env

say() { echo "start-keystone: $*"; }
die() { local code=$1; shift; echo "start-keystone: $*" >&2; exit "$code"; }

# --- settings ---------------------------------------------------------------
case $PORT in '' | *[!0-9]*) die 2 "port must be a number, not '$PORT'" ;; esac
case $EXPIRATION in '' | *[!0-9]*) die 2 "KEYSTONE_TOKEN_EXPIRATION must be whole seconds" ;; esac
# All of these end up unquoted in config and env files: keep them plain.
for value in "$LAB" "$VENV" "$GLANCE_URL" "$REGION" "$ADMIN_PASSWORD" "$DEMO_PASSWORD" \
    "$ALT_PASSWORD" "$GLANCE_PASSWORD" "$APP_CRED_SECRET"; do
    case $value in '' | *[!A-Za-z0-9._/+=@:,-]*)
        die 2 "'$value': paths, URL, region and secrets may use only A-Za-z0-9._/+=@:,-" ;;
    esac
done
case $LAB in /*) ;; *) LAB=$PWD/$LAB ;; esac
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
if [ -n "${KEYSTONE_LAB_OWNER_PID:-}" ]; then
    case $KEYSTONE_LAB_OWNER_PID in *[!0-9]*) die 2 "KEYSTONE_LAB_OWNER_PID must be a process id" ;; esac
    kill -0 "$KEYSTONE_LAB_OWNER_PID" 2>/dev/null || die 2 "KEYSTONE_LAB_OWNER_PID $KEYSTONE_LAB_OWNER_PID is not running"
fi

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    say "already running (PID $(cat "$PIDFILE"))"
    cat "$ENVFILE" 2>/dev/null || true
    exit 0
fi
rm -f "$PIDFILE" "$ENVFILE"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die 1 "something else already listens on 127.0.0.1:$PORT"
fi
if [ "${KEYSTONE_RESET:-0}" = 1 ]; then
    rm -rf "$LAB/data" "$LAB/fernet-keys" "$LAB/credential-keys"
fi
mkdir -p "$ETC" "$LOGDIR" "$LAB/lib" "$LAB/data" "$LAB/locks"

# --- 1. the virtualenv ------------------------------------------------------
# shellcheck source=lab-venv.sh
. "$HERE/lab-venv.sh"
ensure_venv start-keystone "$VENV" "$LOGDIR/pip-install.log" "keystone" keystone==30.0.0 uWSGI

# --- 2. configuration -------------------------------------------------------
cp "$HERE/keystone_lab_wsgi.py" "$HERE/lab_sqlite.py" "$LAB/lib/"

cat >"$ETC/keystone.conf" <<EOF
# Written by start-keystone.sh; rewritten at every start.
[DEFAULT]
log_file = $LOGDIR/keystone.log
debug = False

[database]
connection = sqlite:///$LAB/data/keystone.sqlite?timeout=30
sqlite_synchronous = False

[token]
provider = fernet
expiration = $EXPIRATION

[fernet_tokens]
key_repository = $LAB/fernet-keys/
max_active_keys = 3

[fernet_receipts]
key_repository = $LAB/fernet-keys/
max_active_keys = 3

[credential]
key_repository = $LAB/credential-keys/

[cache]
# No memcached: nothing is cached between requests.
enabled = False

[oslo_concurrency]
lock_path = $LAB/locks
EOF

cat >"$ETC/keystone-uwsgi.ini" <<EOF
[uwsgi]
# keystone.wsgi.api:application, with SQLite transactions that queue (see lab_sqlite.py)
module = keystone_lab_wsgi:application
http11-socket = 127.0.0.1:$PORT
home = $VENV
pythonpath = $LAB/lib
chdir = $LAB
env = OS_KEYSTONE_CONFIG_DIR=$ETC
pidfile = $PIDFILE
master = true
processes = 1
# An idle keep-alive connection (auth_token's, a client's pool) holds a thread
# until socket-timeout: have many.
threads = 16
enable-threads = true
lazy-apps = true
need-app = true
die-on-term = true
no-orphans = true
buffer-size = 65535
socket-timeout = 30
EOF

# --- 3. database, keys, bootstrap ---------------------------------------------
manage() { # manage LOG ARGS...: keystone-manage, logged, failing loudly
    local log=$LOGDIR/$1.log
    shift
    "$VENV/bin/keystone-manage" --config-file "$ETC/keystone.conf" "$@" >>"$log" 2>&1 ||
        { tail -20 "$log" >&2; die 1 "keystone-manage $1 failed (see $log)"; }
}
VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("keystone"))')
# A provisioned lab depends only on keystone's version, the provisioning
# script, the region and the secrets, and making one costs about 15 s
# (migrations, keys, bootstrap, a dozen bcrypt hashes). The first fresh lab
# keeps a copy beside the venv (database and keys); later fresh labs start
# from it, skip those steps, and provisioning only re-points the endpoints at
# this lab's ports (labs made from one template share their fernet keys).
DB=$LAB/data/keystone.sqlite
TEMPLATE_KEY=$({ echo "$VERSION $REGION $ADMIN_PASSWORD $DEMO_PASSWORD $ALT_PASSWORD" \
    "$GLANCE_PASSWORD $APP_CRED_SECRET"; cat "$HERE/keystone_lab_provision.py"; } |
    sha256sum | cut -c1-16)
TEMPLATE=$VENV/share/keystone-lab/$VERSION-$TEMPLATE_KEY
FROM_TEMPLATE=0
FRESH=0
if [ ! -s "$DB" ] && [ -s "$TEMPLATE/keystone.sqlite" ]; then
    rm -rf "$LAB/fernet-keys" "$LAB/credential-keys"
    cp -p "$TEMPLATE/keystone.sqlite" "$DB"
    cp -Rp "$TEMPLATE/fernet-keys" "$TEMPLATE/credential-keys" "$LAB/"
    FROM_TEMPLATE=1
else
    [ -s "$DB" ] || FRESH=1
    manage db-sync db_sync
fi
"$VENV/bin/python" -c 'import sqlite3, sys
sys.exit(sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal")' \
    "$DB" || die 1 "could not switch the database to WAL"
if [ "$FROM_TEMPLATE" = 0 ]; then
    ME=$(id -un)
    GROUP=$(id -gn)
    [ -n "$(ls -A "$LAB/fernet-keys" 2>/dev/null)" ] ||
        manage keys fernet_setup --keystone-user "$ME" --keystone-group "$GROUP"
    [ -n "$(ls -A "$LAB/credential-keys" 2>/dev/null)" ] ||
        manage keys credential_setup --keystone-user "$ME" --keystone-group "$GROUP"
    # Idempotent: the Default domain, project and user admin, the roles reader,
    # member, manager, admin and service (admin implies member implies reader),
    # the region and the identity endpoints.
    OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD manage bootstrap bootstrap \
        --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id "$REGION" \
        --bootstrap-public-url "$ENDPOINT/v3" --bootstrap-internal-url "$ENDPOINT/v3" \
        --bootstrap-admin-url "$ENDPOINT/v3"
fi

# --- 4. start and wait for the API ------------------------------------------
answers() { # GET /v3 over bash's /dev/tcp: true once it answers 200
    local status
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /v3 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS=' ' read -r -t 5 _ status _ <&3 || status=
    exec 3>&-
    [ "$status" = 200 ]
}
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)
${SETSID[@]+"${SETSID[@]}"} "$VENV/bin/uwsgi" --ini "$ETC/keystone-uwsgi.ini" \
    >>"$LOGDIR/uwsgi.log" 2>&1 </dev/null &
LAUNCHED=$!
started=$SECONDS
until answers 2>/dev/null; do
    PID=$(cat "$PIDFILE" 2>/dev/null || echo "$LAUNCHED")
    if ! kill -0 "$PID" 2>/dev/null; then
        tail -15 "$LOGDIR/uwsgi.log" >&2
        rm -f "$PIDFILE"
        die 1 "uWSGI exited during start-up (logs in $LOGDIR)"
    fi
    if [ $((SECONDS - started)) -ge 90 ]; then
        KEYSTONE_LAB=$LAB bash "$HERE/stop-keystone.sh" >&2 || true
        die 1 "no answer from $ENDPOINT within 90s; stopped it (logs in $LOGDIR)"
    fi
    sleep 0.3
done
PID=$(cat "$PIDFILE")

# --- 5. provision -------------------------------------------------------------
if ! KS_URL=$ENDPOINT KS_REGION=$REGION KS_GLANCE_URL=$GLANCE_URL KS_TRUST_PASSWORDS=$FROM_TEMPLATE \
    KS_ADMIN_PASSWORD=$ADMIN_PASSWORD KS_DEMO_PASSWORD=$DEMO_PASSWORD \
    KS_ALT_PASSWORD=$ALT_PASSWORD KS_GLANCE_PASSWORD=$GLANCE_PASSWORD \
    KS_APP_CRED_SECRET=$APP_CRED_SECRET \
    "$VENV/bin/python" "$HERE/keystone_lab_provision.py" >"$LAB/provisioned" 2>"$LOGDIR/provision.log"; then
    tail -5 "$LOGDIR/provision.log" >&2
    KEYSTONE_LAB=$LAB bash "$HERE/stop-keystone.sh" >&2 || true
    die 1 "provisioning failed; stopped keystone (see $LOGDIR/provision.log)"
fi
if [ "$FRESH" = 1 ] && mkdir -p "${TEMPLATE%/*}" 2>/dev/null && [ ! -e "$TEMPLATE" ]; then
    # Built aside and renamed into place, so a lab starting meanwhile never
    # sees half a template; sqlite's backup API copies a consistent database.
    part=$TEMPLATE.part.$$
    if mkdir "$part" && "$VENV/bin/python" -c 'import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()' "$DB" "$part/keystone.sqlite" &&
        cp -Rp "$LAB/fernet-keys" "$LAB/credential-keys" "$part/" &&
        mv -T "$part" "$TEMPLATE" 2>/dev/null; then
        say "kept a provisioned template for new labs in $TEMPLATE"
        # Templates of an older script or other secrets are never used again.
        for old in "${TEMPLATE%/*}"/*; do
            case $old in "$TEMPLATE" | *.part.*) ;; *) rm -rf "$old" ;; esac
        done
    else
        rm -rf "$part"
    fi
fi

cat >"$ENVFILE" <<EOF
KEYSTONE_URL=$ENDPOINT
KEYSTONE_PID=$PID
KEYSTONE_LAB=$LAB
KEYSTONE_VENV=$VENV
KEYSTONE_TOKEN_EXPIRATION=$EXPIRATION
OS_AUTH_URL=$ENDPOINT/v3
OS_IDENTITY_API_VERSION=3
OS_REGION_NAME=$REGION
OS_INTERFACE=public
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
OS_USERNAME=demo
OS_PASSWORD=$DEMO_PASSWORD
OS_PROJECT_NAME=demo
KEYSTONE_ADMIN_USERNAME=admin
KEYSTONE_ADMIN_PASSWORD=$ADMIN_PASSWORD
KEYSTONE_ADMIN_PROJECT_NAME=admin
KEYSTONE_ALT_USERNAME=alt
KEYSTONE_ALT_PASSWORD=$ALT_PASSWORD
KEYSTONE_ALT_PROJECT_NAME=alt
KEYSTONE_GLANCE_USERNAME=glance
KEYSTONE_GLANCE_PASSWORD=$GLANCE_PASSWORD
KEYSTONE_GLANCE_PROJECT_NAME=service
KEYSTONE_APP_CRED_SECRET=$APP_CRED_SECRET
GLANCE_URL=$GLANCE_URL
EOF
cat "$LAB/provisioned" >>"$ENVFILE"
rm -f "$LAB/provisioned"

# --- 6. the owner watchdog ----------------------------------------------------
if [ -n "${KEYSTONE_LAB_OWNER_PID:-}" ]; then
    stop_cmd=(env KEYSTONE_LAB="$LAB" bash "$HERE/stop-keystone.sh")
    [ "${KEYSTONE_LAB_CLEANUP:-0}" = 1 ] && stop_cmd+=(--remove-lab)
    ${SETSID[@]+"${SETSID[@]}"} bash "$HERE/watchdog.sh" "$KEYSTONE_LAB_OWNER_PID" "$PID" \
        "${stop_cmd[@]}" >>"$LOGDIR/watchdog.log" 2>&1 </dev/null &
    say "watchdog $! stops this lab when PID $KEYSTONE_LAB_OWNER_PID exits"
fi

STARTED_FROM=
[ "$FROM_TEMPLATE" = 1 ] && STARTED_FROM=" from the template $TEMPLATE"
say "keystone $VERSION is up at $ENDPOINT (PID $PID, ${SECONDS}s$STARTED_FROM); settings in $ENVFILE"
GLANCE_PORT_GUESS=${GLANCE_URL##*:}
GLANCE_PORT_GUESS=${GLANCE_PORT_GUESS%%/*}
say "next: GLANCE_AUTH=keystone KEYSTONE_ENV_FILE=$ENVFILE bash $HERE/start-glance.sh $GLANCE_PORT_GUESS"
