"""Commit time and planning time of an Iceberg target as runs accumulate, with and without
maintenance, in one run.

    ./pants run bench/iceberg_commits.py -- [--runs 300] [--rows 1000] [--keep 10]

Each "run" of an append pipeline is what the runtime does around Spark: load the table
(what a run does when it plans), plan the files of its current snapshot (what a run reads
back), then commit one new Parquet file as a snapshot (the files are written once with
pyarrow beforehand, microsecond timestamps as Spark writes them). Two tables, in a SQLite
catalog in a temporary directory:
  - without maintenance: manifests never merged, snapshots never expired;
  - with maintenance (what the platform does): manifests merged on append, and
    `ingestion maintain` after every run: compaction (a partition's small files merged once
    it holds 8), then expiry (keep the newest --keep) and the unreferenced files removed.
Printed: the median load+plan and commit times over the runs around 10, 100 and 300.
Goal: with maintenance, 300 runs within 1.5x of 10 runs (flat).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.iceberg.compaction import apply_compaction, plan_compaction
from adapters.iceberg.maintenance import apply_maintenance, plan_maintenance
from adapters.iceberg.tables import IcebergTable, open_catalog

_WINDOW = 5  # runs either side of a checkpoint whose times are taken together


def sample(path: Path, rows: int, first: int) -> None:
    ids = pa.array(range(first, first + rows), pa.int64())
    pq.write_table(
        pa.table(
            {
                "order_id": ids,
                "amount": pa.array([i % 1000 for i in range(rows)], pa.float64()),
                "updated_at": pa.array(
                    [datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=i) for i in range(rows)],
                    pa.timestamp("us", tz="UTC"),
                ),
            }
        ),
        path,
    )


def series(
    root: Path, catalog_url: str, runs: int, rows: int, keep: int, maintained: bool
) -> list[tuple[float, float]]:
    """(load and plan seconds, commit seconds) of each run."""
    name = "bench.maintained" if maintained else "bench.plain"
    location = root / name
    times = []
    for run in range(runs):
        file = location / "data" / f"run-{run:04d}" / "part-0.parquet"
        file.parent.mkdir(parents=True, exist_ok=True)
        sample(file, rows, run * rows)
        start = time.perf_counter()
        table = IcebergTable(open_catalog(catalog_url), name, str(location))
        table.files()
        planned = time.perf_counter() - start
        start = time.perf_counter()
        table.commit([file.as_uri()], replace=False, summary={"dataplatform.run-id": f"run-{run}"})
        if run == 0 and not maintained:  # the table as it would be without the platform's upkeep
            assert table.table is not None
            with table.table.transaction() as tx:
                tx.set_properties({"commit.manifest-merge.enabled": "false"})
        committed = time.perf_counter() - start
        if maintained:
            apply_compaction(table, plan_compaction(table))
            plan = plan_maintenance(
                table,
                keep=keep,
                older_than=timedelta(0),
                grace=timedelta(hours=1),
                now=datetime.now(UTC),
            )
            apply_maintenance(table, plan)
        times.append((planned, committed))
    return times


def around(times: list[tuple[float, float]], run: int) -> tuple[float, float]:
    window = times[max(0, run - _WINDOW) : run + _WINDOW]
    return (
        statistics.median(t[0] for t in window) * 1000,
        statistics.median(t[1] for t in window) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--keep", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        url = f"sqlite:///{root / 'catalog.db'}"
        plain = series(root, url, args.runs, args.rows, args.keep, maintained=False)
        kept = series(root, url, args.runs, args.rows, args.keep, maintained=True)
    checkpoints = [c for c in (10, 100, 300) if c <= args.runs]
    print(
        f"{args.runs} append runs of {args.rows} rows each, SQLite catalog; median ms of runs around each"
    )
    print(
        f"  {'runs':>5} {'plain: load+plan':>17} {'commit':>8} {'maintained: load+plan':>22} {'commit':>8}"
    )
    for c in checkpoints:
        p, k = around(plain, c - 1), around(kept, c - 1)
        print(f"  {c:>5} {p[0]:17.1f} {p[1]:8.1f} {k[0]:22.1f} {k[1]:8.1f}")
    first, last = around(kept, checkpoints[0] - 1), around(kept, checkpoints[-1] - 1)
    ratios = (last[0] / first[0], last[1] / first[1])
    met = max(ratios) <= 1.5
    print(
        f"\ngoal: with maintenance, {checkpoints[-1]} runs within 1.5x of {checkpoints[0]}: "
        f"load+plan {ratios[0]:.2f}x, commit {ratios[1]:.2f}x, {'met' if met else 'MISSED'}"
    )
    plain_ratios = (around(plain, checkpoints[-1] - 1)[0] / around(plain, checkpoints[0] - 1)[0],)
    print(f"without maintenance: load+plan {plain_ratios[0]:.2f}x")


if __name__ == "__main__":
    main()
