#!/usr/bin/env bash
# stop-glance.sh [--remove-lab]: stop the Glance that start-glance.sh started in
# $GLANCE_LAB (default /tmp/glance-client-lab), by the PID in its glance.pid.
# With --remove-lab, also delete the lab directory (database, images, logs);
# the venv is kept unless it lives inside the lab.
set -euo pipefail

LAB=${GLANCE_LAB:-/tmp/glance-client-lab}
PIDFILE=$LAB/glance.pid
REMOVE=0
case ${1:-} in
    '') ;;
    --remove-lab) REMOVE=1 ;;
    *) echo "usage: stop-glance.sh [--remove-lab]" >&2; exit 2 ;;
esac
say() { echo "stop-glance: $*"; }

stop_uwsgi() {
    local pid=$1 workers comm
    comm=$(ps -o comm= -p "$pid" 2>/dev/null || true)
    # Never signal a process that merely inherited a stale PID.
    case $comm in
        uwsgi*) ;;
        *) say "PID $pid is '$comm', not uWSGI: left alone"; return 0 ;;
    esac
    workers=$(ps -o pid= --ppid "$pid" 2>/dev/null | xargs || true)
    kill -TERM "$pid" 2>/dev/null || true # die-on-term: the master stops its workers
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "PID $pid ignored SIGTERM for 10s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for worker in $workers; do # this master's own workers, by PID
        if [ "$(ps -o comm= -p "$worker" 2>/dev/null || true)" = uwsgi ]; then
            kill -KILL "$worker" 2>/dev/null || true
        fi
    done
    say "stopped glance (PID $pid${workers:+, workers $workers})"
}

if [ -f "$PIDFILE" ]; then
    PID=$(cat "$PIDFILE")
    case $PID in
        '' | *[!0-9]*) say "ignoring $PIDFILE: '$PID' is not a PID" ;;
        *) if kill -0 "$PID" 2>/dev/null; then stop_uwsgi "$PID"; else say "PID $PID had already exited"; fi ;;
    esac
    rm -f "$PIDFILE" "$LAB/glance.env"
else
    say "no $PIDFILE: nothing to stop"
fi
if [ "$REMOVE" = 1 ] && [ -d "$LAB" ]; then
    # Only what start-glance.sh made: refuse anything that does not look like a lab.
    if [ -f "$LAB/etc/glance-api.conf" ]; then
        rm -rf "$LAB"
        say "removed $LAB"
    else
        say "$LAB does not look like a glance lab: not removed"
    fi
fi
