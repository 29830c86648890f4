"""Create and upgrade the metadata store's schema with Alembic, and refuse stale stores."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from domain.metadata.errors import StoreNotReady

_MIGRATIONS = Path(__file__).parent / "migrations"
FIX_COMMAND = "metadata migrate"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _refuse_foreign(revision: str | None, where: str) -> None:
    if revision is not None and revision not in known_revisions():
        raise StoreNotReady(
            f"the database at {where} is at Alembic revision {revision!r}, which is not one "
            f"of this tool's: it belongs to another application (or a newer version of this "
            f"tool). Give the metadata store a database of its own"
        )


def is_empty(engine: Engine) -> bool:
    """True for a store with no tables at all (a new database)."""
    return not inspect(engine).get_table_names()


def upgrade(
    engine: Engine,
    where: str = "this URL",
    home: str | None = None,
    to: str = "head",
    report: dict[str, int] | None = None,
) -> tuple[str | None, str]:
    """Bring the store to the newest revision (or ``to``); returns (revision before,
    revision after). ``home``: the platform home, under which files are named relative to
    it (0005); ``report`` is filled with what a migration moved (0005: subjects, moved,
    duplicates)."""
    before = current_revision(engine)
    _refuse_foreign(before, where)
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        config.attributes["home"] = home
        config.attributes["report"] = report
        command.upgrade(config, to)
    return before, head_revision() if to == "head" else to


def create_if_empty(engine: Engine) -> None:
    """Create the schema of a new SQLite store; safe when several processes start at once.

    The check and the creation run in one write transaction (BEGIN IMMEDIATE waits for the
    lock), so the second process finds the tables the first one made.
    """
    if not is_empty(engine):
        return
    with engine.connect() as connection:
        locked = connection.execution_options(sqlite_immediate=True)
        with locked.begin():
            if inspect(locked).get_table_names():
                return
            config = _config()
            config.attributes["connection"] = locked
            command.upgrade(config, "head")


def ensure_current(engine: Engine, where: str) -> None:
    """Raise :class:`StoreNotReady` naming the fix when the store is not at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    _refuse_foreign(current, where)
    state = "has no metadata schema" if current is None else f"is at schema revision {current}"
    raise StoreNotReady(
        f"the metadata store at {where} {state}; this version needs revision {head}. "
        f"Run `{FIX_COMMAND}` to upgrade it."
    )
