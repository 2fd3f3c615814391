"""uWSGI entry point of the Glance lab: glance.wsgi.api's application, with
SQLite transactions that queue instead of failing (see lab_sqlite)."""

import lab_sqlite  # noqa: F401  (before glance creates its engine)
from glance.wsgi.api import application  # noqa: F401
