"""Alembic environment: runs on the connection handed over by :func:`scheduler.db.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import scheduler.models  # noqa: F401  (registers every table on the metadata)
from scheduler.db import Base, make_engine

config = context.config
connection = config.attributes.get("connection")


def _configure(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
    )


if connection is not None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
else:  # plain `alembic` command line, for writing new revisions
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
