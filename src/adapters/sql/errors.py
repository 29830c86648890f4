"""What a database said when it refused, in one line, and the errors the SQL adapters raise
with it: what database targets, recon inside a database and the source probe share."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from domain.ingestion.errors import EngineFailed


def database_reason(failure: DBAPIError) -> str:
    """The first line of what the database said (not SQLAlchemy's wrapping of it)."""
    return str(failure.orig).strip().splitlines()[0] if failure.orig else str(failure)


class TargetDatabaseError(EngineFailed):
    """The target database refused a step; the message names the target and the step."""


class ReconQueryFailed(EngineFailed):
    """The database refused or lost a recon query; the message names the side."""
