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


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_empty(engine: Engine) -> bool:
    """True for a store with no tables at all (a new database)."""
    return not inspect(engine).get_table_names()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the newest revision; returns (revision before, revision after)."""
    before = current_revision(engine)
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def ensure_current(engine: Engine, where: str) -> None:
    """Raise :class:`StoreNotReady` naming the fix when the store is not at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    state = "has no metadata schema" if current is None else f"is at schema revision {current}"
    raise StoreNotReady(
        f"the metadata store at {where} {state}; this version needs revision {head}. "
        f"Run `{FIX_COMMAND}` to upgrade it."
    )
