"""MariaDB and MySQL: a schema is a database; exact type mapping; statistics in MySQL's
functions (no FILTER clause, lengths in characters).

Types, as the inspector reflects them (MariaDB 10.11 checked here; MySQL 8 reflects the
same SQLAlchemy types, its BOOLEAN too being TINYINT(1)):

- integers keep every value: an UNSIGNED one takes the next wider signed type, and
  BIGINT UNSIGNED (up to 2^64-1, past a signed 64-bit integer) is decimal(20,0);
- TINYINT(1), which BOOLEAN is stored as, is boolean (the JDBC driver reads it so); BIT(1)
  is boolean, a wider BIT is bytes; YEAR is a 16-bit integer;
- DECIMAL(p,s) keeps p and s up to the platform's 38 digits; a wider one (MariaDB allows
  DECIMAL(65,30)) is ``number``, any finite decimal, never rounded into decimal(38): its
  profile's digits tell the precision guardrails where its values fit;
- DATETIME has no zone (a wall-clock time); TIMESTAMP is an instant, stored in UTC and shown
  in the session's time zone, so it is a timestamp with time zone;
- ENUM and SET are text as long as their longest value (all of a SET's, comma-joined);
  JSON (MariaDB: LONGTEXT checked by JSON_VALID) is text; CHAR/VARCHAR(n) keep n, which
  counts characters in every character set (utf8mb4 and latin1 alike);
- TIME has no platform type and is refused by name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Text, case, cast, func, literal, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from adapters.sql.dialects.base import SqlDialect
from adapters.sql.types import UnsupportedType
from domain.schema import (
    BinaryType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    NumberType,
    StringType,
    TimestampType,
)
from domain.schema.types import MAX_DECIMAL_PRECISION

# (signed, unsigned) widths of each integer type.
_INTEGERS: list[tuple[type[Any], int, int]] = [
    (mysql.TINYINT, 8, 16),
    (mysql.SMALLINT, 16, 32),
    (mysql.MEDIUMINT, 32, 32),
    (mysql.INTEGER, 32, 64),
    (mysql.BIGINT, 64, 0),  # unsigned: decimal(20,0)
]


def from_mysql(sql_type: Any, *, where: str) -> DataType:
    """The platform type of a MariaDB/MySQL column type (see the module's table)."""
    if isinstance(sql_type, mysql.TINYINT) and sql_type.display_width == 1:
        return BooleanType()
    if isinstance(sql_type, mysql.BIT):
        return BooleanType() if (sql_type.length or 1) == 1 else BinaryType()
    if isinstance(sql_type, mysql.YEAR):
        return IntegerType(16)
    for kind, signed, unsigned in _INTEGERS:
        if isinstance(sql_type, kind):
            if not getattr(sql_type, "unsigned", False):
                return IntegerType(signed)
            return IntegerType(unsigned) if unsigned else DecimalType(20, 0)
    if isinstance(sql_type, mysql.DECIMAL | mysql.NUMERIC):
        precision, scale = sql_type.precision, sql_type.scale or 0
        if precision is None or precision > MAX_DECIMAL_PRECISION:
            return NumberType()
        return DecimalType(precision, scale)
    if isinstance(sql_type, mysql.DOUBLE | mysql.REAL):
        return DoubleType()
    if isinstance(sql_type, mysql.FLOAT):
        precision = sql_type.precision
        return DoubleType() if precision is not None and precision > 24 else FloatType()
    if isinstance(sql_type, mysql.TIMESTAMP):
        return TimestampType(with_timezone=True)
    if isinstance(sql_type, mysql.DATETIME):
        return TimestampType(with_timezone=False)
    if isinstance(sql_type, mysql.DATE):
        return DateType()
    if isinstance(sql_type, mysql.ENUM):
        return StringType(max((len(v) for v in sql_type.enums), default=1))
    if isinstance(sql_type, mysql.SET):
        values = list(sql_type.values)
        return StringType(max(1, sum(len(v) for v in values) + len(values) - 1))
    if isinstance(sql_type, mysql.JSON):
        return StringType()
    if isinstance(sql_type, mysql.CHAR | mysql.VARCHAR | mysql.NCHAR | mysql.NVARCHAR):
        return StringType(sql_type.length)
    if isinstance(sql_type, mysql.TINYTEXT | mysql.TEXT | mysql.MEDIUMTEXT | mysql.LONGTEXT):
        return StringType()
    if isinstance(
        sql_type,
        mysql.BINARY
        | mysql.VARBINARY
        | mysql.TINYBLOB
        | mysql.BLOB
        | mysql.MEDIUMBLOB
        | mysql.LONGBLOB,
    ):
        return BinaryType()
    raise UnsupportedType(
        f"{where}: MariaDB/MySQL type {sql_type!r} has no platform type (TIME, spatial types "
        f"and the like); cast it in a view (e.g. TIME as CHAR(15)) and read the view"
    )


class trim_trailing(GenericFunction[str]):  # (a SQL function's name)
    """TRIM(TRAILING char FROM text)."""

    type = Text()
    inherit_cache = True


@compiles(trim_trailing)
def _trim_trailing(element: trim_trailing, compiler: SQLCompiler, **kw: Any) -> str:
    text, char = list(element.clauses)
    return f"TRIM(TRAILING {compiler.process(char, **kw)} FROM {compiler.process(text, **kw)})"


class MysqlDialect(SqlDialect):
    """MariaDB and MySQL."""

    name = "mysql"
    quote_char = "`"

    def connect_args(self) -> dict[str, Any]:
        # TIMESTAMP values are instants shown in the session's zone: UTC, like the platform.
        return {"init_command": "SET time_zone = '+00:00'", "charset": "utf8mb4"}

    def default_schema(self, url: URL) -> str:
        if not url.database:
            raise ValueError(
                f"{url.render_as_string(hide_password=True)}: no database; name one in the "
                f"URL (mysql://USER@HOST:3306/DATABASE) or with --schema"
            )
        return url.database

    def estimate(
        self, connection: Connection, schema: str | None, table: str
    ) -> tuple[int | None, int | None]:
        # InnoDB's estimate (table_rows), refreshed by ANALYZE TABLE and as the table changes.
        found = connection.execute(
            text(
                "SELECT table_rows, data_length + index_length FROM information_schema.tables "
                "WHERE table_schema = coalesce(:s, database()) AND table_name = :t"
            ),
            {"s": schema, "t": table},
        ).one_or_none()
        if found is None or found[0] is None:
            return None, None
        return int(found[0]), None if found[1] is None else int(found[1])

    def column_type(self, reflected: Any, where: str) -> DataType:
        return from_mysql(reflected, where=where)

    def extremes(self, ref: Any, data_type: DataType, i: int) -> list[Any]:
        if isinstance(data_type, BooleanType):  # + 0: BIT(1) as a number, not a byte
            return [func.min(ref + 0).label(f"lo{i}"), func.max(ref + 0).label(f"hi{i}")]
        if isinstance(data_type, StringType):  # length() counts bytes; characters here
            return [
                func.min(ref).label(f"lo{i}"),
                func.max(ref).label(f"hi{i}"),
                func.max(func.char_length(ref)).label(f"len{i}"),
            ]
        return super().extremes(ref, data_type, i)

    def decimal_digits(self, ref: Any, i: int) -> list[Any]:
        text = cast(ref, mysql.CHAR())
        point = func.locate(".", text)
        trimmed = trim_trailing(text, "0")
        scale = case((point > 0, func.char_length(trimmed) - point), else_=0)
        shown = case((point > 0, trim_trailing(trimmed, ".")), else_=text)
        return [
            func.min(ref).label(f"lo{i}"),
            func.max(ref).label(f"hi{i}"),
            func.max(scale).label(f"sc{i}"),
            func.max(func.concat(func.lpad(scale, 3, "0"), "|", shown)).label(f"sv{i}"),
            literal(0).label(f"nf{i}"),  # no NaN or infinity in a MySQL decimal
        ]
