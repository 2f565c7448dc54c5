"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

import scheduler.models  # noqa: F401
from scheduler.db import Base


def test_migrated_schema_matches_models(app: Flask) -> None:
    engine = app.extensions["loaxa"]["engine"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_every_model_table_exists(app: Flask) -> None:
    tables = set(inspect(app.extensions["loaxa"]["engine"]).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
