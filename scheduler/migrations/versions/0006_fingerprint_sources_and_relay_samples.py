"""what a play log's fingerprint was taken from; relay sources sampled by the server

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("play_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint_source", sa.String(length=10), nullable=True))
    op.create_table(
        "source_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream_url", sa.String(length=500), nullable=False),
        sa.Column("starts_at", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sampled_from", scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sampled_to", scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fingerprint", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_samples")),
        sa.UniqueConstraint("stream_url", "starts_at", name="uq_source_samples_window"),
    )
    with op.batch_alter_table("source_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_samples_starts_at"), ["starts_at"])


def downgrade() -> None:
    op.drop_table("source_samples")
    with op.batch_alter_table("play_logs", schema=None) as batch_op:
        batch_op.drop_column("fingerprint_source")
