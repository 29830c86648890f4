"""Reading MariaDB and MySQL tables through Spark's JDBC source, without losing values.

Spark quotes identifiers with backticks only for URLs it knows as MySQL's, so a
``jdbc:mariadb://`` URL is handed to Spark as ``jdbc:mysql://`` (MariaDB's Connector/J takes
both) and every session runs in UTC (TIMESTAMP values are instants).

Before a read, the table's columns are checked where Spark would change values silently:
a DECIMAL wider than 38 digits (Spark reads it as decimal(38, s) and rounds) and zero
dates (``0000-00-00``, which the driver reads as NULL) are refused, naming the column and
the fix.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from adapters.sql.dialects import DIALECTS, dialect_of
from domain.schema import DateType, NumberType, Schema, TimestampType

DRIVER_CLASS = "org.mariadb.jdbc.Driver"
quote = DIALECTS["mysql"].quote  # backticks, as MariaDB and MySQL quote identifiers


def spark_url(url: str) -> str:
    """The URL Spark reads with: its MySQL dialect's scheme, sessions in UTC."""
    mysql = "jdbc:mysql:" + url.split(":", 2)[2]
    joiner = "&" if "?" in mysql else "?"
    return f"{mysql}{joiner}sessionVariables=time_zone='+00:00'"


def checked(
    engine: Engine, table: str, where: str, zero_dates: str = "refuse"
) -> tuple[str, tuple[str, ...]]:
    """The ``customSchema`` a Spark read of ``table`` needs (DATETIME columns have no zone:
    Spark would read them as instants), after refusing what the read would lose
    (ValueError, one sentence a column); and what the read changes by policy, named (zero
    dates read as NULL under ``zero_dates = "null"``)."""
    schema, problems, zeros = _inspected(engine, table, where)
    if zero_dates == "refuse":
        problems += [
            f"{where}.{column} holds {count} zero date(s) (0000-00-00), which read as NULL; "
            f"fix them at the source (UPDATE ... SET {column} = NULL WHERE {column} = 0, or a "
            f'real date), or read them as NULL with [source] zero_dates = "null"'
            for column, count in zeros
        ]
    if problems:
        raise ValueError("; ".join(problems))
    notes = tuple(
        f'{count} zero date(s) (0000-00-00) in {where}.{column} read as NULL (zero_dates = "null")'
        for column, count in zeros
    )
    custom = ", ".join(
        f"{quote(c.name)} TIMESTAMP_NTZ"
        for c in schema.columns
        if isinstance(c.type, TimestampType) and not c.type.with_timezone
    )
    return custom, notes


def _inspected(
    engine: Engine, table: str, where: str
) -> tuple[Schema, list[str], list[tuple[str, int]]]:
    """The table's schema, what a Spark read of it would lose (one line a column), and its
    zero dates per column."""
    schema_name, _, name = table.rpartition(".")
    dialect = dialect_of(engine)
    try:
        schema: Schema = dialect.schema(
            engine, schema_name or str(engine.url.database), name, where
        )
        problems = [
            f"{where}.{c.name} is a DECIMAL of more than 38 digits, which Spark rounds into "
            f"decimal(38); select it as DECIMAL(38, s) (the precision gate then checks each "
            f"value) or as CHAR in a view, and read the view"
            for c in schema.columns
            if isinstance(c.type, NumberType)
        ]
        dated = [c.name for c in schema.columns if isinstance(c.type, DateType | TimestampType)]
        zeros: list[tuple[str, int]] = []
        if dated:
            counts = ", ".join(f"SUM({quote(c)} = 0)" for c in dated)
            qualified = ".".join(quote(part) for part in table.split("."))
            with engine.connect() as connection:
                found = connection.execute(text(f"SELECT {counts} FROM {qualified}")).one()
            zeros = [
                (column, int(count)) for column, count in zip(dated, found, strict=True) if count
            ]
        return schema, problems, zeros
    finally:
        engine.dispose()
