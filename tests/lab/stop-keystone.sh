#!/usr/bin/env bash
# stop-keystone.sh [--remove-lab]: stop the Keystone that start-keystone.sh
# started in $KEYSTONE_LAB (default /tmp/glance-client-keystone), by the PID
# in its keystone.pid. With --remove-lab, also delete the lab directory
# (database, keys, logs; and the venv when it lives inside).
set -euo pipefail
LAB=${KEYSTONE_LAB:-/tmp/glance-client-keystone}
# shellcheck source=lab-stop.sh
. "$(dirname "${BASH_SOURCE[0]}")/lab-stop.sh"
stop_lab stop-keystone "$LAB" "$LAB/keystone.pid" "$LAB/keystone.env" etc/keystone.conf "$@"
