"""SparkSession from settings: local by default, any master by configuration.

Nothing here starts a JVM at import time; :meth:`SparkSessionProvider.session` does, once.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JARS_VARIABLE = "DATAPLATFORM_JDBC_JARS"

# Where Debian's packages put the JDBC drivers, and the package that provides each.
DEBIAN_JARS = {
    "postgresql": (Path("/usr/share/java/postgresql.jar"), "libpostgresql-jdbc-java"),
    "sqlite": (
        Path("/usr/share/java/sqlite-jdbc.jar"),
        "libxerial-sqlite-jdbc-java libxerial-sqlite-jdbc-jni",
    ),
    # MariaDB Connector/J: MariaDB and MySQL servers alike.
    "mariadb": (Path("/usr/share/java/mariadb-java-client.jar"), "libmariadb-java"),
}

# On every master: the apps draw their own progress, and SQL renders instants in UTC.
CLIENT_DEFAULTS: Mapping[str, str] = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # Spark's warnings carry JVM stack traces (a missing path, say); the apps say what
    # failed in one line. A pipeline's [spark] table may set it back to WARN or INFO.
    "spark.log.level": "ERROR",
}

# Small and quick for one machine: no UI, one shuffle partition per core.
LOCAL_DEFAULTS: Mapping[str, str] = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.pythonUDF.arrow.enabled": "false",
}


# The class each driver registers, to ask the session whether it can load it.
DRIVER_CLASSES: Mapping[str, str] = {
    "postgresql": "org.postgresql.Driver",
    "sqlite": "org.sqlite.JDBC",
    "mariadb": "org.mariadb.jdbc.Driver",
}


def driver_of_url(url: str) -> str:
    """The JDBC driver (a key of DEBIAN_JARS) a ``jdbc:`` URL needs."""
    if url.startswith("jdbc:sqlite:"):
        return "sqlite"
    if url.startswith(("jdbc:mariadb:", "jdbc:mysql:")):
        return "mariadb"  # MariaDB's Connector/J reads MySQL servers too
    return "postgresql"


class MissingJdbcDriver(RuntimeError):
    """A JDBC driver jar that could not be found; the message says how to get it."""


def require_driver(
    spark: SparkSession,
    driver: str,
    classes: Mapping[str, str] = DRIVER_CLASSES,
    debian: Mapping[str, tuple[Path, str]] | None = None,
) -> None:
    """Raise :class:`MissingJdbcDriver` naming the fix unless ``spark`` can load ``driver``."""
    class_name = classes.get(driver)
    jvm = getattr(spark, "_jvm", None)
    if class_name is None or jvm is None:  # an unknown driver, or a Spark Connect session
        return
    if jvm.org.apache.spark.util.Utils.classIsLoadable(class_name):
        return
    # Raises with the install command when the jar is absent.
    jar = jdbc_jar(driver, SparkSettings(), debian=DEBIAN_JARS if debian is None else debian)
    raise MissingJdbcDriver(
        f"the {driver} JDBC driver ({jar}) is not loaded in this Spark session: it was started "
        f"before the driver was asked for; add {jar} to spark.jars"
    )


@attrs.frozen
class SparkSettings:
    """How to reach Spark. ``master`` is ``local[*]``, ``spark://host:7077``, ``yarn``,
    ``k8s://...``; ``jars`` maps a JDBC driver (postgresql, sqlite) to its jar."""

    master: str = "local[*]"
    app_name: str = "dataplatform"
    jars: Mapping[str, str] = attrs.field(factory=dict)
    conf: Mapping[str, str] = attrs.field(factory=dict)
    # Where the driver's own log goes (log4j, appended to LOG_FILE there) instead of the
    # terminal; None leaves Spark's console logging as it is.
    log_dir: str | None = None


LOG_FILE = "spark.log"
_LOG4J = """# Written by the apps: Spark's own log lines go to a file, not the user's terminal.
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{ISO8601}} %p %c{{1}}: %m%n%ex
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
"""


def in_utc(conf: dict[str, str]) -> None:
    """Run the driver's and the executors' JVMs in UTC (in ``conf``): JDBC drivers turn a
    zone-less DATETIME into a java.sql.Timestamp in the JVM's zone, so a machine's zone
    would shift every wall-clock value read. Spark SQL's session zone is UTC already."""
    for side in ("driver", "executor"):
        key = f"spark.{side}.extraJavaOptions"
        earlier = conf.get(key, "")
        if "-Duser.timezone=" not in earlier:
            conf[key] = f"{earlier} -Duser.timezone=UTC".strip()


def log_to_file(log_dir: str, conf: dict[str, str]) -> Path:
    """Point the driver JVM's log4j at ``log_dir``/spark.log (in ``conf``, which the JVM is
    started with); returns the log's path."""
    folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / LOG_FILE
    config = folder / "log4j2.properties"
    config.write_text(_LOG4J.format(log=str(log).replace("\\", "/")), encoding="utf-8")
    option = f"-Dlog4j2.configurationFile=file:{config}"
    earlier = conf.get("spark.driver.extraJavaOptions", "")
    conf["spark.driver.extraJavaOptions"] = f"{earlier} {option}".strip()
    return log


def jdbc_jar(
    driver: str,
    settings: SparkSettings,
    environ: Mapping[str, str] | None = None,
    debian: Mapping[str, tuple[Path, str]] = DEBIAN_JARS,
) -> Path:
    """The jar of ``driver``: from settings, then DATAPLATFORM_JDBC_JARS
    (``postgresql=/path.jar,sqlite=/path.jar``), then Debian's location."""
    env = os.environ if environ is None else environ
    if driver in settings.jars:
        return _existing(Path(settings.jars[driver]), driver, "the settings' [spark.jars]")
    for entry in filter(None, env.get(JARS_VARIABLE, "").split(",")):
        name, _, location = entry.partition("=")
        if name.strip() == driver:
            return _existing(Path(location.strip()), driver, JARS_VARIABLE)
    if driver not in debian:
        raise MissingJdbcDriver(f"no JDBC driver known for {driver!r}; known: {', '.join(debian)}")
    path, package = debian[driver]
    if path.is_file():
        return path
    raise MissingJdbcDriver(
        f"the {driver} JDBC driver is not at {path}: install it with `apt-get install {package}`, "
        f"or point at a jar with {JARS_VARIABLE}={driver}=/path/to/driver.jar"
    )


def _existing(path: Path, driver: str, source: str) -> Path:
    if not path.is_file():
        raise MissingJdbcDriver(
            f"{source} names {path} for the {driver} JDBC driver, and there is no such file"
        )
    return path


def submitted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether spark-submit started this process (its JVM is already up and told us where):
    then spark-submit's ``--master`` and ``--conf`` decide, not the pipeline's ``[spark]
    master`` (which is the default for running the app directly)."""
    return "PYSPARK_GATEWAY_PORT" in (os.environ if environ is None else environ)


class SparkSessionProvider:
    """Builds the SparkSession on first use and hands the same one out after."""

    def __init__(self, settings: SparkSettings, drivers: tuple[str, ...] = ()) -> None:
        self._settings = settings
        self._drivers = drivers
        self._session: SparkSession | None = None
        self._created = False

    def session(self) -> SparkSession:
        if self._session is None:
            # Python workers take the interpreter from this variable only; without it UDFs
            # run in whatever `python3` is first on PATH.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            from pyspark.sql import SparkSession

            builder: Any = SparkSession.builder.appName(self._settings.app_name)
            conf = dict(CLIENT_DEFAULTS)
            if not submitted():
                builder = builder.master(self._settings.master)
                if self._settings.master.startswith("local"):
                    conf.update(LOCAL_DEFAULTS)
            conf.update(self._settings.conf)
            in_utc(conf)
            if self._settings.log_dir is not None:
                with contextlib.suppress(OSError):  # no log folder: the console, as before
                    log_to_file(self._settings.log_dir, conf)
            jars = []
            for driver in self._drivers:
                # A missing driver fails only the endpoints that need it (require_driver
                # says what to install); files and the other drivers still work.
                with contextlib.suppress(MissingJdbcDriver):
                    jars.append(str(jdbc_jar(driver, self._settings)))
            if jars:
                conf["spark.jars"] = ",".join(filter(None, [conf.get("spark.jars", ""), *jars]))
            for key, value in conf.items():
                builder = builder.config(key, value)
            self._created = SparkSession.getActiveSession() is None
            self._session = builder.getOrCreate()
        return self._session

    def stop(self) -> None:
        """Stop the session if this provider started it (a host's session is left running)."""
        if self._session is not None and self._created:
            self._session.stop()
        self._session = None
