"""MariaDB's column types through the catalog port, one row each: the platform type the
harvest gives it, and the precision guardrail's verdict for loading the profiled values
into a target column (a real MariaDB database; see adapters.sql.dialects.mysql)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.sql.catalog import SqlCatalog, SqlProfiler
from adapters.sql.engine import create_catalog_engine
from adapters.sql.types import UnsupportedType
from apps.metadata.main import cli
from domain.metadata.payloads import PrecisionVerdict
from domain.schema import Column
from domain.schema.precision import check_column
from domain.schema.type_syntax import parse_type
from services import FreshSchema, fresh_mariadb

FITS, OBSERVED, VIOLATION = (
    PrecisionVerdict.FITS,
    PrecisionVerdict.FITS_OBSERVED,
    PrecisionVerdict.VIOLATION,
)
BIG = "1" + "0" * 34  # 35 digits: DECIMAL(65,30) holds them, decimal(38,10) does not

# column DDL, a value (SQL), the platform type, a target type, the verdict loading it there
TYPES = [
    ("bigint unsigned", "18446744073709551615", "decimal(20,0)", "int64", VIOLATION),
    ("bigint unsigned", "5", "decimal(20,0)", "int64", OBSERVED),
    ("bigint", "-9223372036854775808", "int64", "int64", FITS),
    ("int unsigned", "4294967295", "int64", "int32", VIOLATION),
    ("int", "-2147483648", "int32", "int32", FITS),
    ("mediumint unsigned", "16777215", "int32", "int32", FITS),
    ("smallint unsigned", "65535", "int32", "int16", VIOLATION),
    ("tinyint unsigned", "255", "int16", "int16", FITS),
    ("tinyint", "-128", "int8", "int16", FITS),
    ("tinyint(1)", "1", "boolean", "boolean", FITS),
    ("boolean", "0", "boolean", "boolean", FITS),
    ("bit(1)", "b'1'", "boolean", "boolean", FITS),
    ("bit(8)", "b'10101010'", "binary", "binary", FITS),
    ("year", "2026", "int16", "int16", FITS),
    ("decimal(10,2)", "12345678.91", "decimal(10,2)", "decimal(12,2)", FITS),
    ("decimal(65,30)", "1.5", "number", "decimal(38,10)", OBSERVED),
    ("decimal(65,30)", BIG, "number", "decimal(38,10)", VIOLATION),
    ("decimal(65,30)", "0.000000000000000000000000000001", "number", "decimal(38,10)", VIOLATION),
    ("float", "1.5", "float", "double", FITS),
    ("double", "2.25", "double", "double", FITS),
    ("datetime", "'2026-01-01 10:00:00'", "timestamp_ntz", "timestamp_ntz", FITS),
    ("datetime(6)", "'2026-01-01 10:00:00.123456'", "timestamp_ntz", "timestamp_ntz", FITS),
    ("timestamp(3)", "'2026-01-01 10:00:00.123'", "timestamp_tz", "timestamp_tz", FITS),
    ("date", "'2026-02-03'", "date", "date", FITS),
    ("enum('a','bb','ccc')", "'bb'", "string(3)", "string(2)", OBSERVED),
    ("enum('a','bb','ccc')", "'ccc'", "string(3)", "string(2)", VIOLATION),
    ("set('x','yy')", "'x,yy'", "string(4)", "string(4)", FITS),
    ("json", "'{\"a\": 1}'", "string", "string", FITS),
    ("varchar(20) character set utf8mb4", "'héllo ✓'", "string(20)", "string(7)", OBSERVED),
    ("varchar(20) character set latin1", "'héllo'", "string(20)", "string(5)", OBSERVED),
    ("char(3)", "'abc'", "string(3)", "string(3)", FITS),
    ("longtext", "'long'", "string", "string", FITS),
    ("varbinary(10)", "'xy'", "binary", "binary", FITS),
]


@pytest.fixture(scope="module")
def database() -> Iterator[FreshSchema]:
    with fresh_mariadb() as fresh:
        engine = create_engine(fresh.url)
        with engine.begin() as connection:
            for i, (ddl, value, *_) in enumerate(TYPES):
                connection.execute(text(f"CREATE TABLE t{i:02d} (c {ddl})"))
                connection.execute(text(f"INSERT INTO t{i:02d} VALUES ({value})"))
            connection.execute(text("CREATE TABLE clock (c time)"))
        engine.dispose()
        yield fresh


@pytest.mark.parametrize(
    ("index", "ddl", "platform", "target", "verdict"),
    [
        (i, ddl, platform, target, verdict)
        for i, (ddl, _, platform, target, verdict) in enumerate(TYPES)
    ],
    ids=[f"{ddl}={value[:12]}->{target}" for ddl, value, _, target, _ in TYPES],
)
def test_a_mariadb_type_maps_exactly_and_gets_its_verdict(
    database: FreshSchema,
    index: int,
    ddl: str,
    platform: str,
    target: str,
    verdict: PrecisionVerdict,
) -> None:
    engine = create_catalog_engine(database.url)
    catalog = SqlCatalog(engine)
    subject = next(ref for ref in catalog.datasets() if ref.name.endswith(f".t{index:02d}"))
    schema = catalog.schema(subject)
    assert [str(c.type) for c in schema.columns] == [platform], ddl
    profile = SqlProfiler(engine, catalog).profile(subject, schema)
    finding = check_column(schema.columns[0], Column("c", parse_type(target)), profile.columns[0])
    assert finding.verdict is verdict, finding.detail
    engine.dispose()


def test_a_type_without_a_platform_type_is_refused_by_column(database: FreshSchema) -> None:
    engine = create_catalog_engine(database.url)
    catalog = SqlCatalog(engine)
    clock = next(ref for ref in catalog.datasets() if ref.name.endswith(".clock"))
    with pytest.raises(UnsupportedType, match=r"\.clock\.c: MariaDB/MySQL type TIME"):
        catalog.schema(clock)
    engine.dispose()


def test_a_decimal_profile_counts_digits_as_written_not_as_padded(database: FreshSchema) -> None:
    engine = create_catalog_engine(database.url)
    catalog = SqlCatalog(engine)
    subject = next(ref for ref in catalog.datasets() if ref.name.endswith(".t16"))  # 65,30: 1e34
    profile = SqlProfiler(engine, catalog).profile(subject, catalog.schema(subject)).columns[0]
    assert (profile.max_integer_digits, profile.max_scale) == (35, 0)
    assert profile.max_scale_value == BIG
    engine.dispose()


def test_metadata_harvest_reads_a_mariadb_database_by_url(
    database: FreshSchema, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    url = make_url(database.url).set(drivername="mariadb").render_as_string(False)
    result = CliRunner().invoke(cli, ["--url", store, "harvest", url, "--profile", "--json"])
    assert result.exit_code == 1, result.stderr  # the TIME table fails, the others harvest
    said = {row["dataset"]: row for row in json.loads(result.stdout)["datasets"]}
    where = f"mysql://127.0.0.1:3306::{database.name}"
    assert said[f"{where}.t00"]["drift"] == "new"
    assert "MariaDB/MySQL type TIME" in said[f"{where}.clock"]["error"]
    latest = CliRunner().invoke(
        cli, ["--url", store, "latest", "schema_snapshot", f"{where}.t00", "--json"]
    )
    assert json.loads(latest.stdout)["payload"]["schema"]["columns"][0]["type"] == "decimal(20,0)"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql+mysqldb://root@127.0.0.1/test", "driver 'mysqldb' is not supported"),
        ("mariadb://root@127.0.0.1:3306", "no database; write mariadb://USER@HOST:3306/DATABASE"),
    ],
)
def test_a_mariadb_url_the_harvest_cannot_use_is_named(url: str, said: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--url", f"sqlite:///{tmp_path / 'm.db'}", "harvest", url])
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
