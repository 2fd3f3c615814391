"""uWSGI entry point of the lab: Glance's own WSGI application, after one fix
for running it on SQLite with parallel requests.

oslo.db opens every SQLite transaction with a plain (deferred) ``BEGIN``, so a
transaction that reads before it writes must upgrade its lock later. When two
requests do that at once, SQLite cannot wait (waiting could deadlock) and fails
one of them at once with "database is locked", which Glance answers with 500:
parallel uploads and deletes failed that way in this lab. ``BEGIN IMMEDIATE``
takes the write lock up front instead, so concurrent transactions queue on
SQLite's busy timeout (``?timeout=`` in the database URL) and all succeed.
Glance supports SQLite for development and tests only; production runs on
MySQL or PostgreSQL, where none of this applies.
"""

import sqlalchemy.event
from sqlalchemy.engine import Engine


@sqlalchemy.event.listens_for(Engine, "before_cursor_execute", retval=True)
def _begin_immediate(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
        statement = "BEGIN IMMEDIATE"
    return statement, parameters


from glance.wsgi.api import application  # noqa: E402,F401  (after the listener)
