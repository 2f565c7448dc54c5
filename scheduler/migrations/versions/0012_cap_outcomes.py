"""alerts keep what CAP urgency/severity decided, when they start, and the sender's audio

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PRIORITY = sa.Enum("normal", "priority", "emergency", name="priority", native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("outcome", sa.String(length=30), server_default="emergency", nullable=False)
        )
        batch.add_column(
            sa.Column("priority", PRIORITY, server_default="emergency", nullable=False)
        )
        batch.add_column(sa.Column("starts_at", scheduler.db.UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("urgency", sa.String(length=20)))
        batch.add_column(sa.Column("severity", sa.String(length=20)))
        batch.add_column(sa.Column("certainty", sa.String(length=20)))
        batch.add_column(sa.Column("resource_uri", sa.Text()))
        batch.add_column(sa.Column("resource_mime", sa.String(length=100)))
        batch.add_column(sa.Column("resource_digest", sa.String(length=64)))
        batch.add_column(sa.Column("note", sa.Text()))
    # What was recorded before aired nothing: say so, so the panel and API agree.
    op.execute("UPDATE alerts SET outcome = 'recorded' WHERE state = 'recorded'")


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for name in (
            "note",
            "resource_digest",
            "resource_mime",
            "resource_uri",
            "certainty",
            "severity",
            "urgency",
            "starts_at",
            "priority",
            "outcome",
        ):
            batch.drop_column(name)
