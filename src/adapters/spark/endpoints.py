"""Spark endpoints: where datasets are read from and written to, chosen by ``kind``.

Kinds: ``parquet``, ``csv``, ``json`` (a file or a directory), ``jdbc`` (PostgreSQL;
SQLite, where Spark has no dialect: tables are created through SQLAlchemy, read types are
fixed with ``customSchema``, and decimals are stored as text, never as REAL) and
``iceberg`` (a table of a SQL catalog, read at a snapshot: ``adapters.spark.iceberg_read``).

Within ``adapters/spark`` the unit is the DataFrame; outside, endpoints are seen through
the ``Catalog``, ``Profiler`` and ``Probe`` ports, which speak domain types.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import cattrs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sqlalchemy import Column as SqlColumn
from sqlalchemy import MetaData, Table, create_engine

from adapters.spark import mariadb_jdbc
from adapters.spark.session import SparkSessionProvider, driver_of_url, require_driver
from adapters.spark.types import schema_from_spark, schema_to_spark
from adapters.sql.dialects.sqlite import sqlite_schema
from adapters.sql.source_probe import engine_for_jdbc
from adapters.sql.types import to_sql
from domain.dataset import DatasetRef
from domain.identity import file_ref, iceberg_ref
from domain.ingestion.spec import SourceSpec
from domain.schema import DecimalType, Schema
from domain.schema.types import DateType, TimestampType

KINDS = ("parquet", "csv", "json", "jdbc", "iceberg")


@attrs.frozen
class EndpointConfig:
    """One dataset's endpoint, as written in a TOML file's ``[[datasets]]`` table."""

    name: str
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    path: str | None = None
    url: str | None = None  # jdbc:postgresql://host:5432/db or jdbc:sqlite:/path/file.db
    table: str | None = None
    user: str | None = None
    password: str | None = None
    namespace: str | None = None
    options: dict[str, str] = attrs.field(factory=dict)
    # iceberg: the SQL catalog, and the snapshot read (an id, an instant, a run's commit)
    catalog: str | None = None
    snapshot: int | None = None
    as_of: str | None = None
    committed_by: str | None = None
    zero_dates: str = "refuse"  # MariaDB/MySQL zero dates: refuse | null

    @property
    def driver(self) -> str | None:
        if self.kind != "jdbc" or not self.url:
            return None
        return driver_of_url(self.url)

    def subject(self) -> DatasetRef:
        if self.namespace:
            return DatasetRef(self.namespace, self.name)
        if self.kind == "jdbc" and self.url:
            return SourceSpec(kind="jdbc", url=self.url, table=self.table or self.name).subject
        if self.kind == "iceberg":
            return iceberg_ref(self.catalog or "", self.table or self.name, None)
        return file_ref(str(Path(self.path or self.name).resolve()), None)


def endpoint_config(name: str, side: SourceSpec) -> EndpointConfig:
    """The endpoint of a pipeline's or a recon's side (a ``SourceSpec``)."""
    return EndpointConfig(
        name=name,
        kind=side.kind,
        path=side.path,
        url=side.url,
        table=side.table,
        user=side.user,
        password=side.password,
        namespace=side.namespace,
        options=dict(side.options),
        catalog=side.catalog,
        snapshot=side.snapshot,
        as_of=side.as_of,
        committed_by=side.committed_by,
        zero_dates=side.zero_dates,
    )


class EndpointConfigError(ValueError):
    """An endpoint file that cannot be used; names the file, the dataset and the key."""


@attrs.frozen
class _EndpointFile:
    datasets: list[EndpointConfig]
    spark: dict[str, Any] = attrs.field(factory=dict)


def load_endpoints(path: Path) -> tuple[list[EndpointConfig], dict[str, Any]]:
    """The ``[[datasets]]`` of a TOML endpoint file, and its optional ``[spark]`` table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as bad:
        raise EndpointConfigError(f"{path}: {bad}") from None
    converter = cattrs.Converter(forbid_extra_keys=True)
    try:
        parsed = converter.structure(data, _EndpointFile)
    except cattrs.BaseValidationError as invalid:
        reasons = []
        for line in cattrs.transform_error(invalid, path="$"):
            message, _, where = line.rpartition(" @ ")
            where = where.replace("$.datasets[", "datasets[")
            reasons.append(f"{where}: {message}")
        raise EndpointConfigError(
            f"{path}: {'; '.join(reasons)} (kind is one of {', '.join(KINDS)})"
        ) from None
    base = path.parent
    datasets = []
    for index, endpoint in enumerate(parsed.datasets):
        where = f"{path}: datasets[{index}] ({endpoint.name})"
        if endpoint.kind == "jdbc" and not (endpoint.url and endpoint.table):
            raise EndpointConfigError(f"{where}: a jdbc dataset needs url and table")
        if endpoint.kind == "iceberg" and not (endpoint.catalog and endpoint.table):
            raise EndpointConfigError(
                f"{where}: an iceberg dataset needs catalog (a SQL catalog URL) and table"
            )
        if endpoint.kind not in ("jdbc", "iceberg") and not endpoint.path:
            raise EndpointConfigError(f"{where}: a {endpoint.kind} dataset needs path")
        if endpoint.path and not Path(endpoint.path).is_absolute():
            endpoint = attrs.evolve(endpoint, path=str((base / endpoint.path).resolve()))
        datasets.append(endpoint)
    return datasets, parsed.spark


class SparkEndpoint(Protocol):
    config: EndpointConfig

    def read(self) -> DataFrame: ...

    def write(self, frame: DataFrame, mode: str) -> None: ...


class FileEndpoint:
    """parquet, csv or json files at a path (a file or a directory of parts)."""

    def __init__(self, config: EndpointConfig, spark: SparkSession) -> None:
        self.config = config
        self.spark = spark

    def _options(self) -> dict[str, str]:
        # CSV files have a header line unless the endpoint says otherwise.
        defaults = {"header": "true"} if self.config.kind == "csv" else {}
        return {**defaults, **self.config.options}

    def read(self) -> DataFrame:
        return (
            self.spark.read.options(**self._options())
            .format(self.config.kind)
            .load(self.config.path)
        )

    def write(self, frame: DataFrame, mode: str) -> None:
        frame.write.mode(mode).options(**self._options()).format(self.config.kind).save(
            self.config.path
        )


class JdbcEndpoint:
    """A table through JDBC. SQLite gets the help Spark lacks (see the module docstring)."""

    def __init__(self, config: EndpointConfig, spark: SparkSession) -> None:
        self.config = config
        self.spark = spark
        self.notes: tuple[str, ...] = ()  # what the last read changed, by policy, named

    def _options(self) -> dict[str, str]:
        # Before Spark is asked: a missing driver is one line saying what to install,
        # not a ClassNotFoundException from deep inside the JVM.
        require_driver(self.spark, self.config.driver or "postgresql")
        options = {
            "url": self.config.url or "",
            "dbtable": self.config.table or "",
            **self.config.options,
        }
        if self.config.user:
            options["user"] = self.config.user
        if self.config.password:
            options["password"] = self.config.password
        if self.config.driver == "sqlite":
            options["driver"] = "org.sqlite.JDBC"
        elif self.config.driver == "mariadb":
            options["url"] = mariadb_jdbc.spark_url(options["url"])
            options.setdefault("driver", mariadb_jdbc.DRIVER_CLASS)
        else:
            options.setdefault("driver", "org.postgresql.Driver")
        return options

    def _checked_mariadb(self, options: dict[str, str]) -> dict[str, str]:
        """``options`` with the types Spark needs told, after refusing a MariaDB/MySQL table
        whose read would change values (see mariadb_jdbc)."""
        engine = engine_for_jdbc(self.config.url or "", self.config.user, self.config.password)
        assert engine is not None
        table = self.config.table or ""
        custom, self.notes = mariadb_jdbc.checked(
            engine, table, f"{self.config.name}: {table}", self.config.zero_dates
        )
        return {**options, "customSchema": custom} if custom else options

    def _sqlite_path(self) -> str:
        return (self.config.url or "").removeprefix("jdbc:sqlite:")

    def sql_schema(self) -> Schema:
        """The table's schema as SQLite declares it (Spark misreads BIGINT and decimals)."""
        engine = create_engine(f"sqlite:///{self._sqlite_path()}")
        try:
            return sqlite_schema(engine, self.config.table or "", self.config.table or "table")
        finally:
            engine.dispose()

    def read(self) -> DataFrame:
        options = self._options()
        if self.config.driver == "sqlite":
            schema = self.sql_schema()
            # Read decimals, dates and timestamps as text and cast them in Spark (SQLite keeps
            # '2024-01-01' as text, which its JDBC driver cannot parse as a date); give
            # integers their declared width.
            as_text = (DecimalType, DateType, TimestampType)
            spark_types = {
                c.name: schema_to_spark(Schema.from_columns([c])).fields[0].dataType
                for c in schema.columns
            }
            custom = ", ".join(
                f"`{c.name}` "
                f"{'STRING' if isinstance(c.type, as_text) else spark_types[c.name].simpleString()}"
                for c in schema.columns
            )
            options["customSchema"] = custom
            frame = self.spark.read.format("jdbc").options(**options).load()
            for column in schema.columns:
                if isinstance(column.type, as_text):
                    frame = frame.withColumn(
                        column.name, F.col(f"`{column.name}`").cast(spark_types[column.name])
                    )
            return frame
        if self.config.driver == "mariadb":
            options = self._checked_mariadb(options)
        return self.spark.read.format("jdbc").options(**options).load()

    def read_partitioned(self, predicates: Sequence[str], fetch_size: int) -> DataFrame:
        """The table read by one task per predicate (PostgreSQL; SQLite reads whole)."""
        if self.config.driver == "sqlite" or len(predicates) < 2:
            return self.read()
        options = self._options()
        if self.config.driver == "mariadb":
            options = self._checked_mariadb(options)
        url, table = options.pop("url"), options.pop("dbtable")
        options["fetchsize"] = str(fetch_size)
        return self.spark.read.jdbc(url, table, predicates=list(predicates), properties=options)

    def write(self, frame: DataFrame, mode: str) -> None:
        options = self._options()
        if self.config.driver == "sqlite":
            self._create_sqlite_table(frame, replace=mode == "overwrite")
            decimals = [f.name for f in frame.schema.fields if f.dataType.typeName() == "decimal"]
            # Decimals go in as exact text: SQLite keeps long ones as text and turns short ones
            # into REAL only when that is lossless; Spark would send every one as a double.
            for name in decimals:
                frame = frame.withColumn(name, F.col(name).cast("string"))
            frame.write.format("jdbc").options(**options).mode("append").save()
            return
        options.setdefault("batchsize", "10000")
        frame.write.format("jdbc").options(**options).mode(mode).save()

    def _create_sqlite_table(self, frame: DataFrame, *, replace: bool) -> None:
        schema = schema_from_spark(frame.schema, where=self.config.table or "table")
        engine = create_engine(f"sqlite:///{self._sqlite_path()}")
        try:
            metadata = MetaData()
            table = Table(
                self.config.table or "",
                metadata,
                *(SqlColumn(c.name, to_sql(c.type), nullable=c.nullable) for c in schema.columns),
            )
            if replace:
                table.drop(engine, checkfirst=True)
            table.create(engine, checkfirst=True)
        finally:
            engine.dispose()


ENDPOINT_KINDS: Mapping[str, Callable[[EndpointConfig, SparkSession], SparkEndpoint]] = {
    "parquet": FileEndpoint,
    "csv": FileEndpoint,
    "json": FileEndpoint,
    "jdbc": JdbcEndpoint,
}


def open_endpoint(config: EndpointConfig, sessions: SparkSessionProvider) -> SparkEndpoint:
    """The endpoint for ``config``, from the registry of kinds."""
    if config.kind == "iceberg":  # pyiceberg is loaded when a table is read, not before
        from adapters.spark.iceberg_read import IcebergEndpoint

        return IcebergEndpoint(config, sessions.session())
    return ENDPOINT_KINDS[config.kind](config, sessions.session())


def drivers_of(configs: Sequence[EndpointConfig]) -> tuple[str, ...]:
    return tuple(sorted({c.driver for c in configs if c.driver}))
