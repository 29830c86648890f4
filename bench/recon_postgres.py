"""Reconciliation against its floors, figure beside baseline in one run.

    ./pants run bench/recon_postgres.py -- [--rows 2000000] [--share 0.001] [--dense 0.10]
        [--master local[2]] [--repeat 3] [--url postgresql://postgres@127.0.0.1:5432/test]
        [--no-spark]

Builds, in a schema of its own (dropped at the end), ``a``: ROWS x 5 columns (bigint id,
numeric(18,2), text, timestamptz, int) and ``b``: a copy with SHARE of the rows differing,
scattered (a third updated, a third deleted, a third inserted); ``c``: the same with DENSE.
Times, REPEAT times each, interleaved, after a warm-up:
  - PostgreSQL vs PostgreSQL key diff (segment checksums inside the database, no Spark)
    against the floor: one aggregate of PostgreSQL's native 64-bit row hash
    (``hashtextextended``) per table, both at once; ``count(*)`` of both printed beside.
    Goal <= 2x the floor.
  - aggregate checks (one pass per side: rows, nulls, sum, min, max per column and the row
    hash) against one bare aggregate query per side (the same measures, no hash), both at
    once. Goal <= 1.2x.
  - the same pair with DENSE differences: how the planner's choice holds up.
  - Parquet (``a`` written by Spark) vs PostgreSQL ``b`` in Spark: aggregates + key diff
    against reading both sides completely in Spark. Goal <= 2x. The Spark session's start
    is printed apart (a cluster pays it once per app).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Engine, create_engine
from timing import median_times, spark_sessions

from adapters.sql.recon.engine import SqlReconEngine
from domain.ingestion.spec import SourceSpec
from domain.recon.checks import KeyDiff
from domain.recon.compare import align
from domain.recon.plan import method
from domain.recon.spec import ReconSpec

COLUMNS = ("id", "amount", "name", "at", "qty")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--share", type=float, default=0.001)
    parser.add_argument("--dense", type=float, default=0.10)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-spark", action="store_true", help="skip the Parquet figure")
    parser.add_argument("--no-sql", action="store_true", help="only the Parquet figure")
    return parser.parse_args()


def both(url: str, queries: tuple[str, str]) -> None:
    """The two queries at once, on two connections (as the recon queries its sides)."""

    def one(sql: str) -> object:
        with psycopg.connect(url) as connection:
            return connection.execute(sql).fetchall()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(one, q) for q in queries]:
            future.result()


def build(db: psycopg.Connection, schema: str, rows: int, share: float, name: str) -> int:
    """``name``: a copy of ``a`` with ``share`` of the rows differing; returns how many."""
    differing = max(3, int(rows * share))
    step = max(3, rows // differing)
    db.execute(f"CREATE TABLE {schema}.{name} AS SELECT * FROM {schema}.a")
    third = differing // 3
    db.execute(
        f"UPDATE {schema}.{name} SET amount = amount + 1 WHERE id % {step} = 1 AND id <= {third * step}"
    )
    db.execute(f"DELETE FROM {schema}.{name} WHERE id % {step} = 2 AND id <= {third * step}")
    db.execute(
        f"INSERT INTO {schema}.{name} SELECT id + {rows}, amount, name, at, qty FROM {schema}.a "
        f"WHERE id <= {differing - 2 * third}"
    )
    db.execute(f"ALTER TABLE {schema}.{name} ADD PRIMARY KEY (id)")
    db.execute(f"ANALYZE {schema}.{name}")
    return third * 2 + differing - 2 * third


def spec(url: str, schema: str, target: str) -> ReconSpec:
    jdbc = "jdbc:" + url.replace("postgresql+psycopg://", "postgresql://")
    user, _, rest = jdbc.removeprefix("jdbc:postgresql://").partition("@")
    jdbc = f"jdbc:postgresql://{rest}?user={user}"
    return ReconSpec(
        name="bench",
        source=SourceSpec(kind="jdbc", url=jdbc, table=f"{schema}.a"),
        target=SourceSpec(kind="jdbc", url=jdbc, table=f"{schema}.{target}"),
        keys=("id",),
    )


def row_text(alias: str = "") -> str:
    return " || ',' || ".join(
        f"coalesce(length({alias}{c}::text)::text || ':' || {alias}{c}::text, '~')" for c in COLUMNS
    )


def measure(
    url: str, engine: Engine, schema: str, target: str, planted: int, repeat: int
) -> tuple[dict[str, float], KeyDiff]:
    """The SQL recon of ``a`` against ``target`` beside its floors."""
    pair = spec(url, schema, target)
    recon = SqlReconEngine(engine)
    alignment = align(pair, *recon.schemas(pair))
    recon.aggregates(pair, alignment)  # rows known to the diff (as in a run)
    result = recon.diff(pair, alignment, None)
    assert result.missing + result.extra + result.changed == planted, result
    floor = (
        f"SELECT sum(hashtextextended({row_text()}, 0)::numeric) FROM {schema}.a",
        f"SELECT sum(hashtextextended({row_text()}, 0)::numeric) FROM {schema}.{target}",
    )
    measures = ", ".join(f"count(*) - count({c}), min({c}), max({c})" for c in COLUMNS)
    bare = (
        f"SELECT count(*), {measures}, sum(amount), sum(qty), sum(id) FROM {schema}.a",
        f"SELECT count(*), {measures}, sum(amount), sum(qty), sum(id) FROM {schema}.{target}",
    )
    counts = (f"SELECT count(*) FROM {schema}.a", f"SELECT count(*) FROM {schema}.{target}")
    times = median_times(
        {
            "count": lambda: both(url, counts),
            "floor": lambda: both(url, floor),
            "diff": lambda: recon.diff(pair, alignment, None),
            "bare": lambda: both(url, bare),
            "aggregates": lambda: recon.aggregates(pair, alignment),
        },
        repeat,
    )
    return times, result


def main() -> None:
    args = arguments()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = args.url
    db = psycopg.connect(url, autocommit=True)
    db.execute(f"CREATE SCHEMA {schema}")
    server = db.execute("SHOW server_version").fetchone()
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, PostgreSQL "
        f"{server[0] if server else '?'}; {args.rows:,} rows x 5 columns"
    )
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=2)
    try:
        db.execute(
            f"CREATE TABLE {schema}.a AS SELECT g::bigint AS id, "
            f"(g % 1000003 / 100.0)::numeric(18,2) AS amount, 'customer-' || (g % 50000) AS name, "
            f"timestamptz '2024-05-01' + g * interval '1 second' AS at, (g % 1000)::int AS qty "
            f"FROM generate_series(1, {args.rows}) g"
        )
        db.execute(f"ALTER TABLE {schema}.a ADD PRIMARY KEY (id)")
        db.execute(f"ANALYZE {schema}.a")
        sparse = build(db, schema, args.rows, args.share, "b")
        dense = build(db, schema, args.rows, args.dense, "c")
        print(
            f"planted: {sparse:,} differing keys in b ({args.share:.1%}), {dense:,} in c ({args.dense:.0%})"
        )

        figures = [
            (target, planted, *measure(url, engine, schema, target, planted, args.repeat))
            for target, planted in (("b", sparse), ("c", dense))
            if not args.no_sql
        ]
        print()
        print(f"plan: {method(spec(url, schema, 'b'))[1]}")
        print("| figure | baseline s | recon s | ratio | goal |")
        print("|---|---|---|---|---|")
        for target, planted, times, result in figures:
            share = args.share if target == "b" else args.dense
            print(
                f"| key diff, {share:.1%} differing ({planted:,} keys; count(*) of both "
                f"{times['count']:.2f} s) | floor {times['floor']:.2f} | {times['diff']:.2f} | "
                f"**{times['diff'] / times['floor']:.2f}x** | 2.0x |"
            )
            if target == "b":
                print(
                    f"| aggregates (one pass per side, with the row hash) | bare aggregate "
                    f"{times['bare']:.2f} | {times['aggregates']:.2f} | "
                    f"**{times['aggregates'] / times['bare']:.2f}x** | 1.2x |"
                )
            print(f"  ({target}) {result.method}")
        if not args.no_spark:
            spark_figure(args, url, schema, sparse)
    finally:
        engine.dispose()
        db.execute(f"DROP SCHEMA {schema} CASCADE")
        db.close()


def spark_figure(args: argparse.Namespace, url: str, schema: str, planted: int) -> None:
    from pyspark.sql import functions as F

    from adapters.memory.metadata import InMemoryMetadataRepository
    from adapters.spark.recon import SparkReconEngine
    from domain.dataset import RunId
    from domain.metadata.gateway import MetadataGateway
    from domain.recon.run import PRODUCER, ReconRun
    from domain.runs.lifecycle import RunLifecycle

    sessions = spark_sessions(args, "bench-recon", ("postgresql",))
    start = time.perf_counter()
    spark = sessions.session()
    started = time.perf_counter() - start
    pg = spec(url, schema, "b")
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "a.parquet")
        reader = spark.read.format("jdbc").options(
            url=pg.source.url, dbtable=f"{schema}.a", driver="org.postgresql.Driver"
        )
        reader.load().write.parquet(path)
        pair = ReconSpec(
            name="bench-spark",
            source=SourceSpec(kind="parquet", path=path),
            target=pg.target,
            keys=("id",),
        )
        gateway = MetadataGateway(InMemoryMetadataRepository())

        def recon() -> None:
            lifecycle = RunLifecycle(
                gateway, pair.subject, RunId.new(), PRODUCER, lambda: time_now()
            )
            report = ReconRun(SparkReconEngine(sessions), gateway, time_now).run(pair, lifecycle)
            assert report.diff.missing + report.diff.extra + report.diff.changed == planted

        def read_both() -> None:
            spark.read.parquet(path).write.format("noop").mode("overwrite").save()
            spark.read.format("jdbc").options(
                url=pg.target.url, dbtable=f"{schema}.b", driver="org.postgresql.Driver"
            ).load().write.format("noop").mode("overwrite").save()

        times = median_times({"read": read_both, "recon": recon}, args.repeat)
    print(
        f"| Parquet vs PostgreSQL in Spark ({args.master}; session started in {started:.1f} s, "
        f"paid once per app), aggregates + key diff | reading both sides {times['read']:.2f} | "
        f"{times['recon']:.2f} | **{times['recon'] / times['read']:.2f}x** | 2.0x |"
    )
    _ = F
    sessions.stop()


def time_now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    main()
