"""Peak driver memory of a full-refresh run as the rows grow (1M vs 4M): flat, since no
step collects the data on the driver.

    ./pants run bench/driver_memory.py -- [--rows 1000000 --rows 4000000] [--target iceberg|postgresql]

Each size runs in a fresh process (its own Spark session, ``local[2]``, driver heap capped
at 1g): it writes ROWS x 6 columns of Parquet, then runs the pipeline once into the target
and reports the peak resident memory of the Python driver and the peak heap used in the
driver's JVM (in local mode the executors share it: that figure is an upper bound of the
driver's). Printed side by side with the ratio of the largest size to the smallest; a
collect of the data would grow both with the rows (and exceed the 1g heap at 4M rows).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any


def measure(rows: int, target_kind: str, url: str) -> dict[str, float]:
    """Run in this process: one full refresh of ``rows`` rows; the peaks."""
    from timing import ingestion_runner, write_sample

    from adapters.spark.session import SparkSessionProvider, SparkSettings
    from domain.ingestion.spec import PipelineSpec, SourceSpec, TargetSpec

    sessions = SparkSessionProvider(
        SparkSettings(
            master="local[2]",
            app_name="bench-driver-memory",
            conf={"spark.driver.memory": "1g"},
        ),
        ("postgresql",),
    )
    spark = sessions.session()
    with tempfile.TemporaryDirectory() as directory:
        source = str(Path(directory) / "source.parquet")
        write_sample(spark, rows, source)
        jvm: Any = spark._jvm
        pools = jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
        for pool in pools:
            pool.resetPeakUsage()
        baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        table = f"memory_{uuid.uuid4().hex[:8]}"
        target = (
            TargetSpec(
                kind="iceberg",
                table="memory.orders",
                catalog=f"sqlite:///{Path(directory) / 'catalog.db'}",
                location=str(Path(directory) / "lake"),
            )
            if target_kind == "iceberg"
            else TargetSpec(kind="postgresql", url=url, table=table)
        )
        spec = PipelineSpec("memory", SourceSpec(kind="parquet", path=source), target)
        written = ingestion_runner(sessions)(spec)
        assert written == rows, written
        heap = sum(
            pool.getPeakUsage().getUsed() for pool in pools if str(pool.getType()) == "Heap memory"
        )
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if target_kind == "postgresql":
            import psycopg

            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"DROP TABLE IF EXISTS {table}")
                connection.execute("DROP TABLE IF EXISTS _dataplatform_commits")
    sessions.stop()
    return {
        "rows": rows,
        "python_peak_mb": peak_rss / 1024,
        "python_growth_mb": (peak_rss - baseline_rss) / 1024,
        "jvm_heap_peak_mb": heap / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument("--target", choices=["iceberg", "postgresql"], default="iceberg")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, 4_000_000]
    if args.child:
        print(json.dumps(measure(sizes[0], args.target, args.url)))
        return
    results = []
    for rows in sizes:
        done = subprocess.run(
            [
                sys.executable,
                *sys.argv[:1],
                "--child",
                "--rows",
                str(rows),
                "--target",
                args.target,
                "--url",
                args.url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"the {rows:,}-row run failed:\n{done.stderr[-2000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"full refresh into {args.target}, local[2], driver heap capped at 1g")
    print(f"  {'rows':>10} {'Python peak MB':>15} {'grew in run MB':>15} {'JVM heap peak MB':>17}")
    for r in results:
        print(
            f"  {r['rows']:>10,} {r['python_peak_mb']:15.0f} {r['python_growth_mb']:15.0f} "
            f"{r['jvm_heap_peak_mb']:17.0f}"
        )
    first, last = results[0], results[-1]
    print(
        f"\n{last['rows'] / first['rows']:.0f}x the rows: Python driver peak "
        f"{last['python_peak_mb'] / first['python_peak_mb']:.2f}x, JVM heap peak "
        f"{last['jvm_heap_peak_mb'] / first['jvm_heap_peak_mb']:.2f}x"
    )


if __name__ == "__main__":
    main()
