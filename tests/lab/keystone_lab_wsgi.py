"""uWSGI entry point of the Keystone lab: keystone.wsgi.api's application, with
SQLite transactions that queue instead of failing (see lab_sqlite)."""

import lab_sqlite  # noqa: F401  (before keystone creates its engine)
from keystone.wsgi.api import application  # noqa: F401
