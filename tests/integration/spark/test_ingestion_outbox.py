"""With an asynchronous metadata transport, a database target's run commits its records
into the target database's own outbox, in the transaction that commits its data: a run
killed (SIGKILL) right after that commit still delivers its records through the relay, and
a run killed inside the transaction leaves neither data nor records.

The kills are real: the app's DATAPLATFORM_KILL_AT makes its process SIGKILL itself at
"applied" (inside the apply transaction) or "committed" (after it).
"""

from __future__ import annotations

import json
from pathlib import Path

from integration.spark.apps_cli import ingestion, killed_ingestion, metadata
from pyspark.sql import SparkSession
from pyspark.sql import types as T
from sqlalchemy import create_engine, text

from services import postgres_schema, postgres_url

ASYNC = {"DATAPLATFORM_METADATA_TRANSPORT": "outbox"}
SCHEMA = T.StructType(
    [T.StructField("id", T.LongType(), False), T.StructField("seq", T.LongType(), False)]
)


def _land(spark: SparkSession, source: Path, first: int, rows: int) -> None:
    data = [(i, i) for i in range(first, first + rows)]
    spark.createDataFrame(data, SCHEMA).write.mode("overwrite").parquet(str(source))


def _pipeline(tmp_path: Path, source: Path, target: str) -> Path:
    spec = tmp_path / "orders.toml"
    spec.write_text(
        'name = "orders-db"\nmode = "append"\nkeys = ["id"]\n'
        f'[source]\nkind = "parquet"\npath = "{source}"\n'
        f"[target]\n{target}\n"
        '[watermark]\ncolumn = "seq"\n'
        '[spark]\nmaster = "local[1]"\n'
    )
    return spec


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _marker(url: str, commits: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    text(f"SELECT run_id FROM {commits} ORDER BY id DESC LIMIT 1")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _volume(home: Path, subject: str) -> dict[str, object] | None:
    found = metadata(home, "latest", "ingestion_volume", subject, "--json")
    if found.exit_code != 0:
        return None
    return dict(json.loads(found.stdout))


def _relay(home: Path, outbox: str) -> dict[str, object]:
    """Drain the configured outbox (the run events) and the target's; what the relay did."""
    done = metadata(home, "relay", "--outbox", outbox, "--json", env=ASYNC)
    assert done.exit_code == 0, done.output
    return dict(json.loads(done.stdout))


def _target_outbox(home: Path, outbox: str) -> tuple[int, int]:
    """(backlog, delivered) of the target database's outbox."""
    found = metadata(home, "outbox", "status", "--outbox", outbox, "--json", env=ASYNC)
    assert found.exit_code == 0, found.output
    status = json.loads(found.stdout)[1]
    return int(status["backlog"]), int(status["delivered"])


def _the_records_follow_the_data(
    spark: SparkSession,
    tmp_path: Path,
    home: Path,
    target: str,
    url: str,
    table: str,
    commits: str,
    subject: str,
) -> None:
    source = tmp_path / "source"
    spec = _pipeline(tmp_path, source, target)
    _land(spark, source, 1, 5)
    first = ingestion(home, "run", str(spec), "--json", env=ASYNC)
    assert first.exit_code == 0, first.output
    outbox = json.loads(first.stdout)["records_outbox"]
    assert outbox is not None
    assert _volume(home, subject) is None  # waiting in the target's outbox, not stored yet
    assert _target_outbox(home, outbox) == (3, 0)  # snapshot, volume, runtime
    _relay(home, outbox)
    assert _target_outbox(home, outbox) == (0, 3)
    assert _volume(home, subject)["payload"]["rows_written"] == 5  # type: ignore[index]

    # Killed inside the apply transaction: neither the rows nor the records exist.
    _land(spark, source, 6, 4)
    assert killed_ingestion(home, spec, "applied", **ASYNC) == -9
    assert _count(url, table) == 5
    assert _count(url, "metadata_outbox") == 3
    # Killed after the commit, before anything else: the rows and the records exist.
    assert killed_ingestion(home, spec, "committed", **ASYNC) == -9
    assert _count(url, table) == 9
    assert _count(url, "metadata_outbox") == 5  # volume and runtime (the schema is as before)
    assert _target_outbox(home, outbox) == (2, 3)
    killed_run = _marker(url, commits)
    relayed = _relay(home, outbox)
    print(f"relay after the killed run: {relayed}")
    assert relayed["duplicates"] == 0
    assert _target_outbox(home, outbox) == (0, 5)
    volume = _volume(home, subject)
    assert volume is not None and volume["run_id"] == killed_run
    assert volume["payload"]["rows_written"] == 4  # type: ignore[index]
    assert _relay(home, outbox)["delivered"] == 0  # delivered once, then nothing waits


def test_a_sqlite_target_run_killed_after_its_commit_still_delivers_its_records(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    database = tmp_path / "warehouse.db"
    _the_records_follow_the_data(
        spark,
        tmp_path,
        home,
        f'kind = "sqlite"\npath = "{database}"\ntable = "orders"',
        f"sqlite:///{database}",
        "orders",
        "_dataplatform_commits",
        f"sqlite://{database}::orders",
    )


def test_a_postgresql_target_run_killed_after_its_commit_still_delivers_its_records(
    spark: SparkSession, postgresql_jdbc: None, tmp_path: Path, home: Path
) -> None:
    with postgres_schema(postgres_url()) as url:
        schema = url.split("search_path%3D")[-1].split("&")[0]
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        _the_records_follow_the_data(
            spark,
            tmp_path,
            home,
            f'kind = "postgresql"\nurl = "{plain}"\ntable = "{schema}.orders"',
            url,
            f'"{schema}".orders',
            f'"{schema}"._dataplatform_commits',
            f"postgres://127.0.0.1:5432::test.{schema}.orders",
        )
