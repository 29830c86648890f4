"""Create the metadata_subjects table (every subject with a record stored, for the datasets
list) and fill it from the records already stored.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.tables import subject_text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metadata_subjects",
        sa.Column("namespace", subject_text(), primary_key=True),
        sa.Column("name", subject_text(), primary_key=True),
    )
    op.execute(
        "INSERT INTO metadata_subjects (namespace, name) "
        "SELECT DISTINCT namespace, name FROM metadata_records"
    )


def downgrade() -> None:
    op.drop_table("metadata_subjects")
