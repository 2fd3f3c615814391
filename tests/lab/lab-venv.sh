# shellcheck shell=bash
# lab-venv.sh: the virtualenv step of start-glance.sh and start-keystone.sh
# (sourced, not run). Defines ensure_venv.
#
# ensure_venv NAME VENV LOG "MODULES" PACKAGES...
#   Makes VENV a virtualenv in which every module of MODULES imports and
#   bin/uwsgi exists: reuses it when it already is one, installs PACKAGES into
#   it when it is a venv without them (so Glance and Keystone can share one),
#   creates it when missing. pip's output goes to LOG; versions are pinned by
#   $LOCK (pip constraints) when that file exists. Interpreter: $PYTHON.
#   Exits 3 naming a missing prerequisite (python3 >= 3.11 with venv, Python
#   headers, a C compiler, a reachable package index), 1 when pip fails.
#   Two labs starting at once wait for each other (flock on VENV.lock).

venv_has() { # venv_has VENV "MODULES"
    local names
    [ -x "$1/bin/uwsgi" ] && [ ! -e "$1/.lab-venv-incomplete" ] || return 1
    read -r -a names <<<"$2"
    "$1/bin/python" - "${names[@]}" 2>/dev/null <<'EOF'
import importlib.util, sys
sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))
EOF
}

venv_die() { # venv_die CODE NAME MESSAGE
    echo "$2: $3" >&2
    exit "$1"
}

venv_check_python() { # venv_check_python NAME
    command -v "$PYTHON" >/dev/null ||
        venv_die 3 "$1" "prerequisite missing: no '$PYTHON' on PATH (python3 >= 3.11 is needed)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        venv_die 3 "$1" "prerequisite missing: Python >= 3.11 is needed; $PYTHON is $("$PYTHON" -V 2>&1)"
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
        venv_die 3 "$1" "prerequisite missing: $PYTHON has no venv/ensurepip module (Debian: python3-venv)"
}

venv_check_build() { # venv_check_build NAME VENV: what compiling uWSGI needs
    "$2/bin/python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("include"), "Python.h")))' ||
        venv_die 3 "$1" "prerequisite missing: no Python.h for $PYTHON (Debian: python3-dev); uWSGI is built from source"
    command -v "${CC:-gcc}" >/dev/null || command -v cc >/dev/null ||
        venv_die 3 "$1" "prerequisite missing: no C compiler (gcc or cc); uWSGI is built from source"
}

venv_install() { # venv_install NAME VENV LOG PACKAGES...
    local name=$1 venv=$2 log=$3 constraints=()
    shift 3
    # Ask the index once, briefly: an offline machine hears so in seconds
    # rather than after pip's long retries.
    "$venv/bin/python" -m pip index versions uWSGI --timeout 15 --retries 1 >>"$log" 2>&1 ||
        venv_die 3 "$name" "prerequisite missing: the Python package index is unreachable (see $log)"
    [ -f "${LOCK:-}" ] && constraints=(-c "$LOCK")
    if ! "$venv/bin/python" -m pip install -q ${constraints[@]+"${constraints[@]}"} pip >>"$log" 2>&1 ||
        ! "$venv/bin/python" -m pip install -q ${constraints[@]+"${constraints[@]}"} "$@" >>"$log" 2>&1; then
        tail -20 "$log" >&2
        venv_die 1 "$name" "pip install failed (see $log)"
    fi
}

ensure_venv() {
    local name=$1 venv=$2 log=$3 modules=$4 started=$SECONDS
    shift 4
    if venv_has "$venv" "$modules"; then
        echo "$name: using the venv $venv"
        return 0
    fi
    mkdir -p "$(dirname "$venv")" "$(dirname "$log")"
    exec 9>"${venv%/}.lock"
    if command -v flock >/dev/null; then flock 9; fi
    if venv_has "$venv" "$modules"; then # another lab made it while we waited
        exec 9>&-
        return 0
    fi
    if [ -x "$venv/bin/python" ] && [ ! -e "$venv/.lab-venv-incomplete" ]; then
        # Someone's working venv: add to it, never mark it for removal.
        echo "$name: installing $* into the venv $venv"
        venv_check_build "$name" "$venv"
    else
        venv_check_python "$name"
        if [ -e "$venv" ]; then
            # Only a venv we left half-built may be thrown away.
            [ -e "$venv/.lab-venv-incomplete" ] ||
                venv_die 1 "$name" "$venv exists but is not a virtualenv; remove it or choose another"
            rm -rf "$venv"
        fi
        echo "$name: creating the venv $venv (a minute or two: uWSGI is compiled)"
        "$PYTHON" -m venv "$venv" >"$log" 2>&1 ||
            venv_die 3 "$name" "prerequisite missing: '$PYTHON -m venv' failed (see $log)"
        touch "$venv/.lab-venv-incomplete"
        "$venv/bin/python" -m pip --version >>"$log" 2>&1 ||
            venv_die 3 "$name" "prerequisite missing: the new venv has no pip (see $log)"
        venv_check_build "$name" "$venv"
    fi
    venv_install "$name" "$venv" "$log" "$@"
    rm -f "$venv/.lab-venv-incomplete"
    exec 9>&-
    echo "$name: venv ready in $((SECONDS - started))s"
}
