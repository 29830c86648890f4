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

from adapters.sql.dialects import dialect_of
from domain.schema import DateType, NumberType, Schema, TimestampType

DRIVER_CLASS = "org.mariadb.jdbc.Driver"


def spark_url(url: str) -> str:
    """The URL Spark reads with: its MySQL dialect's scheme, sessions in UTC."""
    mysql = "jdbc:mysql:" + url.split(":", 2)[2]
    joiner = "&" if "?" in mysql else "?"
    return f"{mysql}{joiner}sessionVariables=time_zone='+00:00'"


def quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def checked(engine: Engine, table: str, where: str) -> str:
    """The ``customSchema`` a Spark read of ``table`` needs (DATETIME columns have no zone:
    Spark would read them as instants), after refusing what the read would lose
    (ValueError, one sentence a column)."""
    schema, problems = _inspected(engine, table, where)
    if problems:
        raise ValueError("; ".join(problems))
    return ", ".join(
        f"{quote(c.name)} TIMESTAMP_NTZ"
        for c in schema.columns
        if isinstance(c.type, TimestampType) and not c.type.with_timezone
    )


def _inspected(engine: Engine, table: str, where: str) -> tuple[Schema, list[str]]:
    """The table's schema, and what a Spark read of it would lose, one line a column."""
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
        if dated:
            counts = ", ".join(f"SUM({quote(c)} = 0)" for c in dated)
            qualified = ".".join(quote(part) for part in table.split("."))
            with engine.connect() as connection:
                zeros = connection.execute(text(f"SELECT {counts} FROM {qualified}")).one()
            problems += [
                f"{where}.{column} holds {int(count)} zero date(s) (0000-00-00), which read as "
                f"NULL; fix them at the source (UPDATE ... SET {column} = NULL WHERE {column} "
                f"= 0, or a real date) or read a view that maps them"
                for column, count in zip(dated, zeros, strict=True)
                if count
            ]
        return schema, problems
    finally:
        engine.dispose()
