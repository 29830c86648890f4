"""Create the metadata_records table and the indexes that serve latest, history and query.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sql.tables import UtcTimestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metadata_records",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("record_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("namespace", sa.String(1024), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("observed_at", UtcTimestamp(), nullable=False),
        sa.Column("producer", sa.String(256), nullable=False),
        sa.Column("payload_version", sa.Integer, nullable=False),
        sa.Column("payload", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )
    op.create_index(
        "ix_metadata_records_subject",
        "metadata_records",
        ["kind", "namespace", "name", "observed_at", "seq"],
    )
    op.create_index("ix_metadata_records_time", "metadata_records", ["observed_at", "seq"])
    op.create_index("ix_metadata_records_run", "metadata_records", ["run_id"])


def downgrade() -> None:
    op.drop_table("metadata_records")
