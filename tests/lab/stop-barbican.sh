#!/usr/bin/env bash
# stop-barbican.sh [--remove-lab]: stop the Barbican that start-barbican.sh
# started in $BARBICAN_LAB (default /tmp/glance-client-barbican), by the PID in
# its barbican.pid. With --remove-lab, also delete the lab directory (database,
# key, logs; and the venv when it lives inside).
set -euo pipefail
LAB=${BARBICAN_LAB:-/tmp/glance-client-barbican}
# shellcheck source=lab-stop.sh
. "$(dirname "${BASH_SOURCE[0]}")/lab-stop.sh"
stop_lab stop-barbican "$LAB" "$LAB/barbican.pid" "$LAB/barbican.env" etc/barbican.conf "$@"
