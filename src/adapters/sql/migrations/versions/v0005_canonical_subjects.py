"""One reference per dataset: rewrite the subjects stored under an older spelling (a recon's
``postgresql://host:5432/db`` :: ``schema.table``, a file by its absolute path under the
platform home ...) onto the canonical one, and keep the old spellings in metadata_aliases.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from adapters.sql.renames import rename_subjects
from adapters.sql.tables import subject_text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metadata_aliases",
        sa.Column("namespace", subject_text(), primary_key=True),
        sa.Column("name", subject_text(), primary_key=True),
        sa.Column("canonical_namespace", subject_text(), nullable=False),
        sa.Column("canonical_name", subject_text(), nullable=False),
    )
    counts = rename_subjects(op.get_bind(), context.config.attributes.get("home"))
    report = context.config.attributes.get("report")
    if report is not None:  # what `metadata migrate` tells the operator
        report.update(counts)


def downgrade() -> None:
    op.drop_table("metadata_aliases")
