"""airing outcomes written once their day is over (fast national reports)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "airing_outcomes",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_start", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("planned_s", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("aired_s", sa.Float(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_airing_outcomes_station_id_stations")
        ),
        sa.PrimaryKeyConstraint(
            "station_id", "broadcast_id", "scheduled_start", name=op.f("pk_airing_outcomes")
        ),
    )
    with op.batch_alter_table("airing_outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_airing_outcomes_scheduled_start"), ["scheduled_start"])
        batch_op.create_index(batch_op.f("ix_airing_outcomes_day"), ["day"])
    op.create_table(
        "settled_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("settled_at", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_settled_days")),
    )


def downgrade() -> None:
    op.drop_table("settled_days")
    op.drop_table("airing_outcomes")
