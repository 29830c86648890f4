"""The one way an app loads its Spark part: by name, only when a command needs Spark.

The PEX files do not carry pyspark (~450 MB): it comes from the environment (the PEX falls
back to the interpreter's site-packages) or, on a cluster, from the Spark installation that
``SPARK_HOME`` names (spark-submit always sets it): its ``python/lib`` zips of pyspark and
py4j are put on the path, as spark-submit's own PYTHONPATH would (a PEX ignores PYTHONPATH).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import click

from apps.cli.app import fail
from apps.cli.errors import ExitCode

SPARK_MODULES = ("pyspark", "py4j")


def spark_home_paths(environ: Mapping[str, str]) -> list[str]:
    """The pyspark and py4j zips of the Spark installation ``SPARK_HOME`` names, if any."""
    home = environ.get("SPARK_HOME")
    if not home:
        return []
    # What spark-submit puts on a Python driver's PYTHONPATH (which a PEX does not read).
    lib = Path(home) / "python" / "lib"
    return [str(lib / "pyspark.zip"), *(str(p) for p in sorted(lib.glob("py4j-*-src.zip")))]


def spark_available() -> bool:
    """Whether pyspark can be imported here, ``$SPARK_HOME``'s put on the path if needed."""
    if importlib.util.find_spec("pyspark") is None:
        sys.path.extend(p for p in spark_home_paths(os.environ) if p not in sys.path)
        importlib.invalidate_caches()
    return importlib.util.find_spec("pyspark") is not None


def spark_module(module: str, needed_for: str) -> ModuleType:
    """Import ``module`` (which imports pyspark), ``$SPARK_HOME``'s pyspark if there is no
    other; without any, stop with one line that says how to provide it."""
    spark_available()
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in SPARK_MODULES:
            raise
        fail(
            f"{needed_for} needs {missing.name}, which this app does not carry: install "
            f"pyspark==4.3.0 into this Python (the PEX falls back to it), or set SPARK_HOME "
            f"to a Spark 4.3 installation (spark-submit sets it)"
        )


def spark_failure(failure: BaseException, ctx: click.Context | None) -> tuple[str, ExitCode] | None:
    """One line for a Spark that could not start its JVM (a translator of the app groups)."""
    if type(failure).__name__ != "PySparkRuntimeError" or "JAVA_GATEWAY_EXITED" not in str(failure):
        return None
    java = os.environ.get("JAVA_HOME")
    where = f"JAVA_HOME={java}" if java else "no JAVA_HOME, and `java` from PATH"
    return (
        f"Spark could not start its JVM ({where}): it needs a JDK 17 (set JAVA_HOME) and "
        f"`bash` on PATH; `java -version` should print 17",
        ExitCode.CHECK_FAILED,
    )


def with_spark_log(message: str, home: Path) -> str:
    """``message`` and where Spark's own log lines went (the apps keep them off the
    terminal, in ``<home>/logs/spark.log``), when Spark wrote any."""
    log = home / "logs" / "spark.log"
    try:
        written = log.stat().st_size > 0
    except OSError:
        written = False
    return f"{message} (Spark's own log: {log})" if written else message
