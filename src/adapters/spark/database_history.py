"""The stored history an SCD2 run into a database target rebuilds: the target's rows of the
keys the batch touches, read through JDBC (a join with the staged batch, inside the
database) and typed as the batch is."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from adapters.spark import strategies
from adapters.spark.session import SparkSessionProvider, require_driver
from adapters.sql.target.stage import Stage
from adapters.sql.target.table import SqlTarget
from adapters.sql.target_urls import jdbc_url
from domain.ingestion.spec import PipelineSpec
from domain.schema import Schema


def stored_history(
    sessions: SparkSessionProvider,
    spec: PipelineSpec,
    target: SqlTarget,
    batch_stage: Stage,
    frame: DataFrame,
    schema: Schema,
) -> DataFrame:
    """The stored history of the keys in ``batch_stage`` (the staged batch ``frame`` of
    ``schema``), with the batch's column types and the history columns."""
    assert spec.change_order is not None
    stored_schema = target.schema()
    same = " AND ".join(_same_key(k, stored_schema, schema) for k in spec.keys)
    names = None
    if spec.target.kind == "sqlite":
        # SQLite keeps what it is given: read text, cast to the types it stands for.
        names = [] if stored_schema is None else [c.name for c in stored_schema.columns]
    stored = _read_query(
        sessions,
        spec,
        f"SELECT t.* FROM {target.quoted(target.table_name)} t WHERE EXISTS "
        f"(SELECT 1 FROM {batch_stage.qualified} b WHERE {same})",
        as_text=names,
    )
    sequence_type = frame.schema[spec.change_order].dataType
    if names is not None:
        stored = stored.select(
            *(F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in frame.schema.fields),
            F.col(strategies.VALID_FROM).cast(sequence_type).alias(strategies.VALID_FROM),
            F.col(strategies.VALID_TO).cast(sequence_type).alias(strategies.VALID_TO),
            F.col(strategies.IS_CURRENT).cast("boolean").alias(strategies.IS_CURRENT),
            F.col(strategies.IS_DELETED).cast("boolean").alias(strategies.IS_DELETED),
            F.col(strategies.SEQUENCES),
        )
    return stored.withColumn(
        strategies.SEQUENCES,
        F.transform(
            F.from_json(F.col(strategies.SEQUENCES), T.ArrayType(T.StringType())),
            lambda x: x.cast(sequence_type),
        ),
    ).select(
        *(F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in frame.schema.fields),
        *(F.col(c) for c in strategies.HISTORY_COLUMNS),
    )


def _same_key(key: str, stored: Schema | None, batch: Schema) -> str:
    """The SQL that pairs a stored row with a batch row on ``key``; a key whose type the
    batch changes (type_changes = "evolve") is compared as text, which both types print
    to, so the history is found before the target's column is retyped."""
    old = None if stored is None else stored.column(key)
    new = batch.column(key)
    if old is not None and new is not None and old.type != new.type:
        return f'CAST(t."{key}" AS TEXT) = CAST(b."{key}" AS TEXT)'
    return f't."{key}" = b."{key}"'


def _read_query(
    sessions: SparkSessionProvider, spec: PipelineSpec, query: str, as_text: list[str] | None = None
) -> DataFrame:
    url, properties = jdbc_url(spec.target)
    spark = sessions.session()
    driver = "sqlite" if spec.target.kind == "sqlite" else "postgresql"
    require_driver(spark, driver)
    reader = (
        spark.read.format("jdbc")
        .option("url", url)
        .option("query", query)
        .option("driver", "org.sqlite.JDBC" if driver == "sqlite" else "org.postgresql.Driver")
        .option("fetchsize", "10000")
    )
    for key, value in properties.items():
        reader = reader.option(key, value)
    if as_text:
        reader = reader.option("customSchema", ", ".join(f"`{n}` STRING" for n in as_text))
    return reader.load()
