"""Declared column types applied on read: a text source's columns (CSV) parsed into the
types a pipeline or recon file declares under ``[source.columns]``.

A value that does not parse is never turned into NULL in silence: :func:`parse_declared`
marks its row with the first column that failed (and the value as read), so the caller
counts and names those rows and leaves them out (a pipeline's rejected rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from adapters.spark.errors import engine_step
from adapters.spark.types import to_spark
from domain.schema import DataType

UNPARSED = "_dp_unparsed_column"
UNPARSED_VALUE = "_dp_unparsed_value"


@attrs.frozen
class Rejected:
    """Rows left out because a declared column's value did not parse: how many, and one
    sentence per column naming the type and an example value."""

    rows: int = 0
    reasons: tuple[str, ...] = ()


def parse_declared(frame: DataFrame, columns: Sequence[tuple[str, DataType]]) -> DataFrame:
    """``frame`` with each declared column cast to its type (``try_cast``: no error, no
    silent NULL), plus :data:`UNPARSED` naming the first declared column whose non-NULL
    value did not parse (NULL when every one did) and :data:`UNPARSED_VALUE` its text."""
    casts: dict[str, Column] = {
        name: F.col(f"`{name}`").try_cast(to_spark(data_type)) for name, data_type in columns
    }
    failed = [
        (name, F.col(f"`{name}`").isNotNull() & cast.isNull()) for name, cast in casts.items()
    ]
    return frame.withColumns(
        {
            UNPARSED: F.coalesce(*(F.when(cond, F.lit(name)) for name, cond in failed)),
            UNPARSED_VALUE: F.coalesce(
                *(F.when(cond, F.col(f"`{name}`").cast("string")) for name, cond in failed)
            ),
        }
    ).withColumns(casts)


def missing_columns(frame: DataFrame, columns: Sequence[tuple[str, DataType]]) -> list[str]:
    """Declared columns the source does not have (names compared case-insensitively)."""
    present = {name.lower() for name in frame.columns}
    return [name for name, _ in columns if name.lower() not in present]


def split_declared(
    frame: DataFrame, columns: Sequence[tuple[str, DataType]]
) -> tuple[DataFrame, Rejected]:
    """The rows whose declared values parse (typed), and what was left out. Counting the
    others is one aggregate over the source (a small result: a row per failing column)."""
    checked = parse_declared(frame, columns)
    found = (
        checked.where(F.col(UNPARSED).isNotNull())
        .groupBy(UNPARSED)
        .agg(F.count(F.lit(1)).alias("rows"), F.first(UNPARSED_VALUE).alias("example"))
        .collect()
    )
    types = dict(columns)
    reasons = tuple(
        f"{row['rows']:,} row(s): {row[UNPARSED]} does not parse as "
        f"{types[row[UNPARSED]]} (e.g. {str(row['example'])[:60]!r})"
        for row in sorted(found, key=lambda r: r[UNPARSED])
    )
    good = checked.where(F.col(UNPARSED).isNull()).drop(UNPARSED, UNPARSED_VALUE)
    return good, Rejected(sum(int(row["rows"]) for row in found), reasons)


def declared_or_refused(
    frame: DataFrame, columns: Sequence[tuple[str, DataType]], role: str
) -> DataFrame:
    """A side's declared types applied; a value that does not parse stops the recon with
    the column, the type and the value (a recon compares every row: none is left out)."""
    missing = missing_columns(frame, columns)
    if missing:
        raise ValueError(
            f"{role}.columns declares {', '.join(map(repr, missing))}, which the {role} does "
            f"not have; it has {', '.join(frame.columns)}"
        )
    with engine_step(f"parsing the {role}'s declared column types"):
        typed, rejected = split_declared(frame, columns)
    if rejected.rows:
        raise ValueError(
            f"{role}.columns: {'; '.join(rejected.reasons)}; fix the {role} or the declared type"
        )
    return typed
