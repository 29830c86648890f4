"""One local Spark session for every Spark test of a batch (Pants batch_compatibility_tag)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from adapters.spark.session import SparkSessionProvider, SparkSettings
from services import unavailable


@pytest.fixture(scope="session")
def sessions() -> Iterator[SparkSessionProvider]:
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        unavailable("Java", "Spark needs a JDK 17 (set JAVA_HOME)")
    drivers = tuple(
        d
        for d, path in (
            ("postgresql", "/usr/share/java/postgresql.jar"),
            ("sqlite", "/usr/share/java/sqlite-jdbc.jar"),
        )
        if os.path.exists(path)
    )
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
