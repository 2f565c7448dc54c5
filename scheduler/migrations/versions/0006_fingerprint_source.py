"""what a play log's fingerprint was taken from (off air, or the decoded file)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("play_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint_source", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("play_logs", schema=None) as batch_op:
        batch_op.drop_column("fingerprint_source")
