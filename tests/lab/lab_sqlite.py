"""Make OpenStack services on SQLite queue their transactions instead of failing.

oslo.db opens every SQLite transaction with a plain (deferred) ``BEGIN``, so a
transaction that reads before it writes must upgrade its lock later. When two
requests do that at once, SQLite cannot wait (waiting could deadlock) and fails
one of them at once with "database is locked", which the service answers with
500: parallel uploads and deletes failed that way in the Glance lab.
``BEGIN IMMEDIATE`` takes the write lock up front instead, so concurrent
transactions queue on SQLite's busy timeout (``?timeout=`` in the database URL)
and all succeed. OpenStack supports SQLite for development and tests only;
production runs on MySQL or PostgreSQL, where none of this applies.

Importing this module installs the fix for every SQLAlchemy engine.
"""

import sqlalchemy.event
from sqlalchemy.engine import Engine


@sqlalchemy.event.listens_for(Engine, "before_cursor_execute", retval=True)
def _begin_immediate(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
        statement = "BEGIN IMMEDIATE"
    return statement, parameters
