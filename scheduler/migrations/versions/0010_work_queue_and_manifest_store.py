"""work shared by the server's processes: a job queue with leases, and built manifests

Under several web processes a render, a TTS bulletin or an upload's ingest is a row any
process may claim; the claim holds a lease its process renews, so the work of a process
that died is claimed again by another. Built manifests are kept in a table (or in Redis
when configured) so every process answers from the same copy.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("lease_until", scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    op.create_index("ix_work_items_claimable", "work_items", ["state", "urgent", "id"])
    op.create_table(
        "stored_manifests",
        sa.Column("etag", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("built_at", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("etag", name=op.f("pk_stored_manifests")),
    )
    op.create_index(
        op.f("ix_stored_manifests_built_at"), "stored_manifests", ["built_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stored_manifests_built_at"), table_name="stored_manifests")
    op.drop_table("stored_manifests")
    op.drop_index("ix_work_items_claimable", table_name="work_items")
    op.drop_table("work_items")
