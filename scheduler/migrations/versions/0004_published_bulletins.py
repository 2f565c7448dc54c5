"""published bulletins (the e-portal feed)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published_at", scheduler.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("published_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_segments_published_at"), ["published_at"])
        batch_op.create_foreign_key(
            "fk_segments_published_by_id_users", "users", ["published_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_segments_published_by_id_users", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_segments_published_at"))
        batch_op.drop_column("published_by_id")
        batch_op.drop_column("published_at")
