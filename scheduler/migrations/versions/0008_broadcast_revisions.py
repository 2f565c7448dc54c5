"""pending revisions of approved broadcasts; when what a station plays ends; archiving

An editor's change to an approved broadcast waits beside it (as the spec it would save)
until an approver accepts it; the approved version stays on air meanwhile. A station's
heartbeat says when its current item is due to end (the panel's "còn 12 phút"). Bulletins
and programmes no longer used are archived: out of the lists and pickers, history kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("revision_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("revision_at", scheduler.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_broadcasts_revision_by_id_users"), "users", ["revision_by_id"], ["id"]
        )
    for table in ("segments", "programs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("archived_at", scheduler.db.UTCDateTime(timezone=True), nullable=True)
            )
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("now_playing_until", scheduler.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    for table in ("programs", "segments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("archived_at")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("now_playing_until")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_broadcasts_revision_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("revision_at")
        batch_op.drop_column("revision_by_id")
        batch_op.drop_column("revision")
