"""Ingestion into PostgreSQL against hand-written SQL, figure beside baseline in one run.

    ./pants run bench/ingestion_postgres.py -- [--rows 2000000] [--batch 200000]
        [--master local[2]] [--repeat 3] [--url postgresql://postgres@127.0.0.1:5432/test]

Builds, in a schema of its own (dropped at the end):
  - ``source``: ROWS x 5 columns (bigint id, numeric(18,2), text, timestamptz, int);
  - ``batch``: BATCH keys, 3/4 of them changes to existing ids, 1/4 new ids.
Starts one Spark session (its start printed apart: a cluster pays it once per app), then
times, REPEAT times each, interleaved, after a warm-up of each:
  - full refresh: ``ingestion run`` (JDBC source read in partitions planned from the
    probe, binary COPY of each partition into a staging table, one transaction swapping it
    in with the commit marker) against a binary ``COPY (SELECT ...) TO STDOUT`` piped into
    ``COPY ... FROM STDIN`` of an empty copy of the table. Goal <= 3x.
  - SCD1 of the batch into a ROWS-row target: the run against ``COPY`` of the batch into a
    temporary table then one ``INSERT ... ON CONFLICT DO UPDATE``. Goal <= 1.5x.
  - SCD2 of the batch into a ROWS-row history: the run against ``COPY`` of the batch into a
    temporary table, one ``UPDATE`` closing the current versions, one ``INSERT`` of the new
    ones. Goal <= 1.5x.
Each SCD repetition starts from the same target (restored from a template, untimed).
Records and state go to in-memory stores: only the runtime's work is measured.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import uuid
from collections.abc import Callable

import psycopg
from timing import ingestion_runner, spark_sessions

from domain.ingestion.spec import Mode, PipelineSpec, SourceSpec, TargetSpec

COLUMNS = "id, amount, name, at, qty"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=200_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--only", choices=["full", "scd1", "scd2"], action="append", help="run only these"
    )
    return parser.parse_args()


def timed(
    works: dict[str, Callable[[], object]], repeat: int, reset: Callable[[], object]
) -> dict[str, float]:
    """Medians of interleaved runs after a warm-up; ``reset`` (untimed) before each."""
    times: dict[str, list[float]] = {label: [] for label in works}
    for round_ in range(repeat + 1):
        for label, work in works.items():
            reset()
            start = time.perf_counter()
            work()
            if round_:  # the first round warms up
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def copy_between(
    reader: psycopg.Connection, connection: psycopg.Connection, select: str, target: str
) -> int:
    """Binary COPY out of ``select`` (on ``reader``) piped into ``target`` (on
    ``connection``): the baseline of a data move."""
    rows = 0
    with reader.cursor() as out, connection.cursor() as into:
        with (
            out.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as source,
            into.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as sink,
        ):
            for chunk in source:
                sink.write(chunk)
        rows = int(into.rowcount)
    return rows


def main() -> None:
    args = arguments()
    only = set(args.only or ["full", "scd1", "scd2"])
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    db = psycopg.connect(args.url, autocommit=True)
    reader = psycopg.connect(args.url, autocommit=True)
    db.execute(f"CREATE SCHEMA {schema}")
    sessions = spark_sessions(args, "bench-ingestion-postgres", ("postgresql",))
    start = time.perf_counter()
    spark = sessions.session()
    started = time.perf_counter() - start
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, Spark "
        f"{spark.version}, {args.master}; PostgreSQL "
        f"{db.execute('SHOW server_version').fetchone()[0]}; Spark session started in "  # type: ignore[index]
        f"{started:.1f} s (paid once per app)"
    )
    try:
        build = time.perf_counter()
        db.execute(
            f"CREATE TABLE {schema}.source AS SELECT g::bigint AS id, "
            f"(g % 1000003 / 100.0)::numeric(18,2) AS amount, 'customer-' || (g % 50000) AS name, "
            f"timestamptz '2024-05-01' + g * interval '1 second' AS at, (g % 1000)::int AS qty "
            f"FROM generate_series(1, {args.rows}) g"
        )
        db.execute(f"ALTER TABLE {schema}.source ADD PRIMARY KEY (id)")
        changed, new = args.batch * 3 // 4, args.batch - args.batch * 3 // 4
        step = max(1, args.rows // changed)
        db.execute(
            f"CREATE TABLE {schema}.batch AS "
            f"SELECT id, amount + 1 AS amount, name, at + interval '1 day' AS at, qty + 1 AS qty, "
            f"2::bigint AS seq FROM {schema}.source WHERE id % {step} = 0 AND id <= {changed * step} "
            f"UNION ALL SELECT g, 1.00, 'new', timestamptz '2025-01-01', 1, 2::bigint "
            f"FROM generate_series({args.rows + 1}, {args.rows + new}) g"
        )
        db.execute(f"ANALYZE {schema}.source")
        db.execute(f"ANALYZE {schema}.batch")
        print(
            f"built source ({args.rows:,} rows x 5 columns) and batch ({changed:,} changed, "
            f"{new:,} new keys) in {time.perf_counter() - build:.1f} s"
        )
        jdbc = args.url.replace("postgresql://", "jdbc:postgresql://").split("@", 1)
        jdbc_url = "jdbc:postgresql://" + jdbc[1] if len(jdbc) == 2 else jdbc[0]
        run = ingestion_runner(sessions)

        def source(table: str) -> SourceSpec:
            return SourceSpec(kind="jdbc", url=jdbc_url, table=f"{schema}.{table}", user="postgres")

        def target(table: str) -> TargetSpec:
            return TargetSpec(kind="postgresql", url=args.url, table=f"{schema}.{table}")

        results: list[tuple[str, float, float, float]] = []
        if "full" in only:
            db.execute(f"CREATE TABLE {schema}.copied (LIKE {schema}.source)")
            full = PipelineSpec("full", source("source"), target("full"), Mode.FULL)

            def baseline() -> None:
                db.execute(f"TRUNCATE {schema}.copied")
                copy_between(
                    reader, db, f"SELECT {COLUMNS} FROM {schema}.source", f"{schema}.copied"
                )

            medians = timed(
                {"COPY piped": baseline, "ingestion full": lambda: run(full)},
                args.repeat,
                lambda: None,
            )
            results.append(("full refresh", medians["COPY piped"], medians["ingestion full"], 3.0))
        for mode in ("scd1", "scd2"):
            if mode not in only:
                continue
            results.append(scd(mode, reader, db, schema, args, run, source, target))
        print(f"\nmedians of {args.repeat} interleaved runs each (Spark session already started)")
        print(f"  {'figure':<14} {'baseline s':>10} {'ingestion s':>12} {'ratio':>7} {'goal':>6}")
        for label, base, ours, goal in results:
            ratio = ours / base
            print(
                f"  {label:<14} {base:10.2f} {ours:12.2f} {ratio:6.2f}x {goal:5.1f}x "
                f"{'met' if ratio <= goal else 'MISSED'}"
            )
    finally:
        sessions.stop()
        db.execute(f"DROP SCHEMA {schema} CASCADE")
        db.close()
        reader.close()


def scd(
    mode: str,
    reader: psycopg.Connection,
    db: psycopg.Connection,
    schema: str,
    args: argparse.Namespace,
    run: Callable[[PipelineSpec], int],
    source: Callable[[str], SourceSpec],
    target: Callable[[str], TargetSpec],
) -> tuple[str, float, float, float]:
    """One SCD figure: the run and the hand-written SQL, each from the same target."""
    ours, theirs = f"{mode}_run", f"{mode}_sql"
    spec = PipelineSpec(mode, source("batch"), target(ours), Mode(mode), ("id",), sequence="seq")
    # The starting target: the source as a run would have loaded it (seq 1).
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {schema}.source_seq AS SELECT *, 1::bigint AS seq "
        f"FROM {schema}.source"
    )
    if mode == "scd1":
        template = f"SELECT * FROM {schema}.source_seq"
        key = "(id)"
    else:
        template = (
            f"SELECT *, seq AS valid_from, NULL::bigint AS valid_to, true AS is_current, "
            f"false AS is_deleted, '[1]'::text AS sequences FROM {schema}.source_seq"
        )
        key = "(id, valid_from)"
    db.execute(f"CREATE TABLE {schema}.{mode}_template AS {template}")

    def reset() -> None:
        for table in (ours, theirs):
            db.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
            db.execute(f"CREATE TABLE {schema}.{table} AS TABLE {schema}.{mode}_template")
            db.execute(f"ALTER TABLE {schema}.{table} ADD PRIMARY KEY {key}")
        db.execute(f"DROP TABLE IF EXISTS {schema}._dataplatform_commits")

    def baseline() -> None:
        with db.transaction():
            db.execute(f"CREATE TEMPORARY TABLE incoming (LIKE {schema}.batch) ON COMMIT DROP")
            copy_between(reader, db, f"SELECT * FROM {schema}.batch", "incoming")
            if mode == "scd1":
                db.execute(
                    f"INSERT INTO {schema}.{theirs} SELECT * FROM incoming ON CONFLICT (id) DO "
                    f"UPDATE SET amount = EXCLUDED.amount, name = EXCLUDED.name, at = "
                    f"EXCLUDED.at, qty = EXCLUDED.qty, seq = EXCLUDED.seq"
                )
            else:
                db.execute(
                    f"UPDATE {schema}.{theirs} t SET valid_to = i.seq, is_current = false "
                    f"FROM incoming i WHERE t.id = i.id AND t.is_current"
                )
                db.execute(
                    f"INSERT INTO {schema}.{theirs} SELECT i.*, i.seq, NULL, true, false, "
                    f"'[' || i.seq || ']' FROM incoming i"
                )

    medians = timed({"sql": baseline, "run": lambda: run(spec)}, args.repeat, reset)
    goal = 1.5
    return (f"{mode} ({args.batch // 1000}k)", medians["sql"], medians["run"], goal)


if __name__ == "__main__":
    main()
