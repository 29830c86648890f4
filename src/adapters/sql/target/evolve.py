"""Schema evolution inside the apply transaction: the drift the gate allowed, applied to the
target table - columns the batch adds are added, types it widens are altered."""

from __future__ import annotations

from sqlalchemy import Connection, Table, text

from adapters.sql.dialects import dialect_of
from adapters.sql.target.stage import DELETED
from adapters.sql.types import from_sql, to_sql
from domain.schema import DataType
from domain.schema.diff import TypeChange, classify


def _retyped(old: DataType, new: DataType) -> bool:
    """Whether the target's column takes the batch's type: yes unless the batch's type is
    narrower (a narrowing the gate allowed is written into the wider column as it is)."""
    return classify(old, new) is not TypeChange.NARROWING


def evolve(
    connection: Connection, staged: Table, target: Table, *, quoted: str, where: str
) -> bool:
    """Add to ``target`` (``quoted``: its quoted name; ``where``: its name in messages) the
    staged columns it lacks and, where the database can, alter the types the batch changes;
    whether anything changed."""
    changed = False
    dialect = dialect_of(connection.engine)
    for column in staged.columns:
        if column.name == DELETED:
            continue
        new = from_sql(column.type, where=f"{where}.{column.name}")
        if column.name not in target.columns:
            type_sql = to_sql(new).compile(dialect=connection.dialect)
            name = dialect.quote(column.name)
            connection.execute(text(f"ALTER TABLE {quoted} ADD COLUMN {name} {type_sql}"))
            changed = True
            continue
        old = from_sql(target.columns[column.name].type, where=f"{where}.{column.name}")
        retype = dialect.retype(
            quoted, column.name, to_sql(new).compile(dialect=connection.dialect)
        )
        if old != new and _retyped(old, new) and retype is not None:
            # Any change the gate let through (widening, or what type_changes=evolve
            # allows): the column takes the batch's type, its values cast in place (a
            # value that does not cast fails the transaction; nothing is written).
            connection.execute(text(retype))
            changed = True
    return changed
