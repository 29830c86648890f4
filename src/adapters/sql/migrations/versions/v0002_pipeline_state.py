"""Create the pipeline_state table: what each ingestion pipeline committed last.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.tables import UtcTimestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_state",
        sa.Column("pipeline", sa.String(128), primary_key=True),
        sa.Column("last_run_id", sa.String(128), nullable=False),
        sa.Column("committed_at", UtcTimestamp(), nullable=False),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("watermark", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("pipeline_state")
