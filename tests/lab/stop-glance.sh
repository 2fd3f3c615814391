#!/usr/bin/env bash
# stop-glance.sh [--remove-lab]: stop the Glance that start-glance.sh started
# in $GLANCE_LAB (default /tmp/glance-client-lab), by the PID in its
# glance.pid. With --remove-lab, also delete the lab directory (database,
# images, logs; and the venv when it lives inside).
set -euo pipefail
LAB=${GLANCE_LAB:-/tmp/glance-client-lab}
# shellcheck source=lab-stop.sh
. "$(dirname "${BASH_SOURCE[0]}")/lab-stop.sh"
stop_lab stop-glance "$LAB" "$LAB/glance.pid" "$LAB/glance.env" etc/glance-api.conf "$@"
