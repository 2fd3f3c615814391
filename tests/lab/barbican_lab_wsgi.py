"""uWSGI entry point of the Barbican lab: the API from the lab's own paste
file (BARBICAN_LAB_PASTE, the unauthenticated pipeline, see
start-barbican.sh) and configuration file (BARBICAN_LAB_CONFIG), with SQLite
transactions that queue instead of failing (see lab_sqlite).

barbican.wsgi.api reads /etc/barbican/barbican-api-paste.ini, and Barbican
parses its configuration when its modules are imported (every plugin module
again), from oslo.config's standard places only (~/.barbican, /etc/barbican,
...): there is no OS_BARBICAN_CONFIG_DIR as Glance has. So this module points
oslo.config's file search at the lab's file before Barbican is imported."""

import os

from oslo_config import cfg

_LAB_CONFIG = [os.environ["BARBICAN_LAB_CONFIG"]]
cfg.find_config_files = lambda project=None, prog=None, extension=".conf": list(_LAB_CONFIG)
cfg.find_config_dirs = lambda project=None, prog=None, extension=".conf.d": []

import lab_sqlite  # noqa: E402,F401  (before barbican creates its engine)
from paste import deploy  # noqa: E402

application = deploy.loadapp("config:" + os.environ["BARBICAN_LAB_PASTE"])
