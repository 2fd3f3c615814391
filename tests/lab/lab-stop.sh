# shellcheck shell=bash
# lab-stop.sh: the shared part of stop-glance.sh and stop-keystone.sh
# (sourced, not run). Defines stop_lab.
#
# stop_lab NAME LAB PIDFILE ENVFILE MARKER [--remove-lab]
#   Stops the uWSGI master whose PID is in PIDFILE (SIGTERM; SIGKILL after 10 s)
#   and its workers, and removes PIDFILE and ENVFILE. A PID that now belongs to
#   anything but uWSGI is left alone. With --remove-lab, also deletes LAB, but
#   only when LAB/MARKER exists (a file only the start script writes).

stop_uwsgi() { # stop_uwsgi NAME PID
    local name=$1 pid=$2 workers comm
    comm=$(ps -o comm= -p "$pid" 2>/dev/null || true)
    case $comm in
        uwsgi*) ;;
        *) echo "$name: PID $pid is '$comm', not uWSGI: left alone"; return 0 ;;
    esac
    workers=$(ps -o pid= --ppid "$pid" 2>/dev/null | xargs || true)
    kill -TERM "$pid" 2>/dev/null || true # die-on-term: the master stops its workers
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$name: PID $pid ignored SIGTERM for 10s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for worker in $workers; do # this master's own workers, by PID
        if [ "$(ps -o comm= -p "$worker" 2>/dev/null || true)" = uwsgi ]; then
            kill -KILL "$worker" 2>/dev/null || true
        fi
    done
    echo "$name: stopped PID $pid${workers:+ (workers $workers)}"
}

stop_lab() {
    local name=$1 lab=$2 pidfile=$3 envfile=$4 marker=$5 remove=${6:-} pid
    case $remove in '' | --remove-lab) ;; *) echo "usage: $name [--remove-lab]" >&2; return 2 ;; esac
    if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile")
        case $pid in
            '' | *[!0-9]*) echo "$name: ignoring $pidfile: '$pid' is not a PID" ;;
            *) if kill -0 "$pid" 2>/dev/null; then
                   stop_uwsgi "$name" "$pid"
               else
                   echo "$name: PID $pid had already exited"
               fi ;;
        esac
        rm -f "$pidfile" "$envfile"
    else
        echo "$name: no $pidfile: nothing to stop"
    fi
    if [ "$remove" = --remove-lab ] && [ -d "$lab" ]; then
        if [ -f "$lab/$marker" ]; then
            rm -rf "$lab"
            echo "$name: removed $lab"
        else
            echo "$name: $lab has no $marker, so it is not a lab: not removed"
        fi
    fi
}
