"""which administrative map a station belongs to; retired stations; successions

Vietnam went from three levels to two on 1/7/2025. A station knows the map it was imported
from (``2024``, ``2025``, or none for a hand-made tree), the day it began broadcasting when it
was created by a move between maps, and, once retired, the day from which it no longer
airs and no new broadcast may target it (its history stays). A succession records that a 2024 unit
lives on in a 2025 one — merged (several rows → one), split (one → several, one of them the
default), or the same row renamed — with the name, level and parent it had before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admin_map", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("active_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("retired_on", sa.Date(), nullable=True))
    op.create_table(
        "station_successions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("former_code", sa.String(length=32), nullable=False),
        sa.Column("former_name", sa.String(length=200), nullable=False),
        sa.Column("former_level", sa.String(length=20), nullable=False),
        sa.Column("former_parent", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["stations.id"],
            name=op.f("fk_station_successions_predecessor_id_stations"),
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["stations.id"],
            name=op.f("fk_station_successions_successor_id_stations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_successions")),
        sa.UniqueConstraint(
            "predecessor_id", "successor_id", name=op.f("uq_station_successions_predecessor_id")
        ),
    )
    with op.batch_alter_table("station_successions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_station_successions_successor_id"), ["successor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("station_successions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_successions_successor_id"))
    op.drop_table("station_successions")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("retired_on")
        batch_op.drop_column("active_from")
        batch_op.drop_column("admin_map")
