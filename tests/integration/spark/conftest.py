"""One local Spark session for every Spark test of a batch (Pants batch_compatibility_tag)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.spark.session import (
    DRIVER_CLASSES,
    MissingJdbcDriver,
    SparkSessionProvider,
    SparkSettings,
    jdbc_jar,
)
from services import postgres_schema, postgres_url, unavailable


@pytest.fixture(scope="session")
def sessions() -> Iterator[SparkSessionProvider]:
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        unavailable("Java", "Spark needs a JDK 17 (set JAVA_HOME)")
    # A driver whose jar is missing is left out; the tests that need it skip (or fail
    # under CI=true) through need_jdbc_driver.
    drivers = tuple(DRIVER_CLASSES)
    provider = SparkSessionProvider(
        SparkSettings(
            master="local[1]",
            app_name="tests",
            # Tests are short: a quick-starting JVM beats a fully optimising one.
            conf={
                "spark.sql.shuffle.partitions": "1",
                "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
            },
        ),
        drivers,
    )
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def spark(sessions: SparkSessionProvider):  # type: ignore[no-untyped-def]
    return sessions.session()


def need_jdbc_driver(driver: str) -> None:
    """Skip (fail under CI=true) with the install command when ``driver``'s jar is absent."""
    try:
        jdbc_jar(driver, SparkSettings())
    except MissingJdbcDriver as missing:
        unavailable(f"the {driver} JDBC driver", str(missing))


@pytest.fixture
def postgresql_jdbc() -> None:
    need_jdbc_driver("postgresql")


@pytest.fixture
def sqlite_jdbc() -> None:
    need_jdbc_driver("sqlite")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A platform home (DATAPLATFORM_HOME) for one test: its store, state and outputs."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, home: Path) -> Iterator[str]:
    """The SQL catalog of an Iceberg target: the home's SQLite file (where a pipeline
    without a catalog key commits), or a fresh schema of PostgreSQL (a shared catalog)."""
    if request.param == "sqlite":
        yield f"sqlite:///{home / 'iceberg' / 'catalog.db'}"
        return
    with postgres_schema(postgres_url()) as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")
