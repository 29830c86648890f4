"""Hostile pipelines end in one line naming the input and the fix, before or without any
write: keys naming a column the source lacks, Parquet files whose column types conflict,
a target under a kernel file system."""

from __future__ import annotations

from pathlib import Path

from integration.spark.apps_cli import ingestion, said
from pyspark.sql import SparkSession


def _pipeline(tmp_path: Path, source: Path, extra: str = "", target: str = "") -> Path:
    spec = tmp_path / "p.toml"
    spec.write_text(
        f'name = "hostile"\nmode = "scd1"\nkeys = ["order_id"]\n{extra}'
        f'[source]\nkind = "parquet"\npath = "{source}"\n'
        f'[target]\nkind = "iceberg"\ntable = "hostile.orders"\n'
        + (f'location = "{target}"\n' if target else "")
        + '[spark]\nmaster = "local[1]"\n',
        encoding="utf-8",
    )
    return spec


def test_keys_the_source_lacks_are_named_before_anything_is_written(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    source = tmp_path / "orders"
    spark.createDataFrame([(1, "a")], "orderid long, name string").write.parquet(str(source))
    for command in ("plan", "run"):
        result = ingestion(home, command, str(_pipeline(tmp_path, source)))
        assert result.exit_code == 2, (command, result.stderr)
        assert said(result) == [
            "error: hostile: keys 'order_id' not in the source, whose columns are orderid, "
            "name; fix the pipeline's names"
        ], result.stderr
    assert not (home / "iceberg" / "warehouse").exists()


def test_parquet_files_whose_types_conflict_name_the_column_and_the_file(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    source = tmp_path / "mixed"
    spark.createDataFrame([(1, 10)], "order_id long, amount long").write.parquet(str(source / "a"))
    spark.createDataFrame([(2, "x")], "order_id long, amount string").write.parquet(
        str(source / "b")
    )
    spec = _pipeline(tmp_path, source, extra="", target="")
    spec.write_text(
        spec.read_text().replace(f'path = "{source}"', f'path = "{source}/*"'), encoding="utf-8"
    )
    result = ingestion(home, "run", str(spec))
    assert result.exit_code == 1, result.stderr
    lines = said(result)
    assert len(lines) == 1 and "amount" in lines[0] and ".parquet" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "iceberg" / "warehouse").exists()


def test_a_target_under_proc_is_refused_before_spark_reads_anything(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    source = tmp_path / "orders"
    spark.createDataFrame([(1, "a")], "order_id long, name string").write.parquet(str(source))
    result = ingestion(home, "run", str(_pipeline(tmp_path, source, target="/proc/warehouse")))
    assert result.exit_code == 2, result.stderr
    assert said(result) == [
        "error: hostile: target hostile.orders (iceberg): /proc/warehouse is under /proc, a "
        "kernel file system; write the target elsewhere"
    ], result.stderr
