"""The body of the apply transaction for each mode: what one run does to the target table
(``SqlTarget`` runs it with the commit marker and the records, in one transaction)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
)

from adapters.sql.target.stage import DELETED, Applied, Stage

if TYPE_CHECKING:
    from adapters.sql.target.table import SqlTarget

Body = Callable[[Connection], Applied]


def full(target: SqlTarget, stage: Stage, keys: Sequence[str], rows: int) -> Body:
    """Full refresh: the staging table (of ``rows`` rows) becomes the target (drop +
    rename)."""

    def body(connection: Connection) -> Applied:
        connection.execute(text(f"DROP TABLE IF EXISTS {target.quoted(target.table_name)}"))
        connection.execute(
            text(f'ALTER TABLE {target.quoted(stage.name)} RENAME TO "{target.table_name}"')
        )
        if keys:
            target.primary_key(connection, keys)
        return Applied(rows, rows)

    return body


def append(
    into: SqlTarget,
    stage: Stage,
    *,
    identity: Sequence[str],
    watermark_column: str,
    lower: Any,
    include_nulls: bool,
) -> Body:
    """Append: the staged rows the target's window (watermark at or after ``lower``) does
    not already hold, compared by ``identity`` column by column, NULL-safe."""

    def body(connection: Connection) -> Applied:
        staged = into.reflect(connection, stage.name)
        target = into.prepared(connection, stage, ())
        same = and_(true(), *(target.c[c].is_not_distinct_from(staged.c[c]) for c in identity))
        held = target.c[watermark_column]
        window = true() if lower is None else held >= literal(lower, held.type)
        if include_nulls and lower is not None:
            window = or_(window, held.is_(None))
        loaded = exists().where(and_(same, window))
        names = list(staged.columns.keys())
        result = connection.execute(
            target.insert().from_select(
                names, select(*(staged.c[n] for n in names)).where(not_(loaded))
            )
        )
        rows = max(0, result.rowcount or 0)
        return Applied(rows, rows)

    return body


def _counted(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def scd1(
    into: SqlTarget,
    stage: Stage,
    *,
    keys: Sequence[str],
    sequence: str | None,
    delete_missing: bool,
) -> Body:
    """SCD1: staged rows (one per key, ``__deleted`` marking deletes) upserted by key; a row
    older (by ``sequence``) than the target's changes nothing."""

    def body(connection: Connection) -> Applied:
        staged = into.reflect(connection, stage.name)
        target = into.prepared(connection, stage, keys, skip=(DELETED,))
        same = and_(*(target.c[k] == staged.c[k] for k in keys))
        newer = true() if sequence is None else not_(target.c[sequence] > staged.c[sequence])
        deleting = staged.c[DELETED].is_(True)
        kept = not_(deleting)
        upserts, deletes = (
            int(n)
            for n in connection.execute(
                select(_counted(kept), _counted(deleting)).select_from(staged)
            ).one()
        )
        deleted = 0
        if deletes:
            deleted = (
                connection.execute(
                    target.delete().where(exists().where(and_(same, deleting, newer)))
                ).rowcount
                or 0
            )
        if delete_missing:
            deleted += (
                connection.execute(target.delete().where(~exists().where(same))).rowcount or 0
            )
        names = [c.name for c in staged.columns if c.name != DELETED]
        insert = into.dialect.insert(target)
        statement = insert.from_select(names, select(*(staged.c[n] for n in names)).where(kept))
        values = {n: statement.excluded[n] for n in names if n not in keys}
        guard = (
            None if sequence is None else not_(target.c[sequence] > statement.excluded[sequence])
        )
        if values:
            statement = statement.on_conflict_do_update(
                index_elements=list(keys), set_=values, where=guard
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(keys))
        if into.dialect.inserted_flag is not None:
            # Counted as the upsert happens (PostgreSQL: an inserted row has no xmax, an
            # updated one has), with no second pass over the target.
            upserted = statement.returning(
                literal_column(into.dialect.inserted_flag, Boolean).label("inserted")
            ).cte("upserted")
            inserted, updated = (
                int(n)
                for n in connection.execute(
                    select(_counted(upserted.c.inserted), _counted(not_(upserted.c.inserted)))
                ).one()
            )
        else:
            held = target.c[keys[0]].is_not(None)
            joined = staged.outerjoin(target, same)
            updated = int(
                connection.execute(
                    select(_counted(and_(kept, held, newer))).select_from(joined)
                ).scalar_one()
            )
            older = 0
            if sequence is not None:
                older = int(
                    connection.execute(
                        select(_counted(and_(kept, held, not_(newer)))).select_from(joined)
                    ).scalar_one()
                )
            connection.execute(statement)
            inserted = upserts - updated - older
        return Applied(inserted + updated, inserted, updated, deleted)

    return body


def scd2(
    into: SqlTarget, touched: Stage, history: Stage, *, keys: Sequence[str], current: str
) -> Body:
    """SCD2: the history of every key in ``touched`` is replaced by the rebuilt one in
    ``history`` (delete + insert)."""

    def body(connection: Connection) -> Applied:
        staged = into.reflect(connection, history.name)
        batch = into.reflect(connection, touched.name)
        target = into.prepared(connection, history, (*keys, "valid_from"))
        same = and_(*(target.c[k] == batch.c[k] for k in keys))
        before = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(func.cast(target.c[current], Integer)), 0),
            ).where(exists().where(same))
        ).one()
        connection.execute(target.delete().where(exists().where(same)))
        after = connection.execute(
            select(func.count(), func.coalesce(func.sum(func.cast(staged.c[current], Integer)), 0))
        ).one()
        names = list(staged.columns.keys())
        connection.execute(
            target.insert().from_select(names, select(*(staged.c[n] for n in names)))
        )
        inserted = int(after[0]) - int(before[0])
        closed = int(before[1]) - int(after[1])
        return Applied(max(0, inserted), max(0, inserted), closed=max(0, closed))

    return body
