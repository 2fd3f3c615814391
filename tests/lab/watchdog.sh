#!/usr/bin/env bash
# watchdog.sh OWNER_PID SERVICE_PID STOP_COMMAND...: run STOP_COMMAND once the
# process OWNER_PID has exited, while SERVICE_PID still runs. Exits by itself
# when SERVICE_PID is gone first (the service was stopped some other way).
#
# start-glance.sh / start-keystone.sh run it when GLANCE_LAB_OWNER_PID /
# KEYSTONE_LAB_OWNER_PID is set: the test harness passes its own PID, so the
# lab goes away with the test run even when the run is killed. It checks once
# a second, and tells a reused PID from the owner by the process start time.
set -uo pipefail

OWNER=$1
SERVICE=$2
shift 2

# "STATE STARTTIME" of a process from /proc/PID/stat (fields 3 and 22, after
# the parenthesised command name), or nothing when /proc does not say.
proc_state() {
    local stat rest
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "$1 ${20:-}"
}

OWNER_STATE=$(proc_state "$OWNER")
OWNER_START=${OWNER_STATE#* }
# Alive: it answers signals, is not a zombie waiting for its parent, and is the
# same process (same start time) as when we began.
owner_alive() {
    local now
    kill -0 "$OWNER" 2>/dev/null || return 1
    now=$(proc_state "$OWNER")
    case $now in Z* | X*) return 1 ;; esac
    [ "${now#* }" = "$OWNER_START" ]
}

echo "watchdog $$: watching owner $OWNER for service $SERVICE"
while kill -0 "$SERVICE" 2>/dev/null; do
    if ! owner_alive; then
        echo "watchdog $$: owner $OWNER has exited; running: $*"
        "$@"
        exit
    fi
    sleep 1
done
echo "watchdog $$: service $SERVICE is gone; nothing to do"
