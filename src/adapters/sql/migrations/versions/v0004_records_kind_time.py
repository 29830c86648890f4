"""Index the records by kind then time: one kind across every subject, newest first (the
dashboard's runs page reads the run events so), without sorting every record of the kind.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_metadata_records_kind_time", "metadata_records", ["kind", "observed_at", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_metadata_records_kind_time", table_name="metadata_records")
