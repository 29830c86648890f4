"""Reconciliation on Spark: planted differences of every kind found exactly, equal values
across types and engines compared equal, results recorded through the gateway."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.spark.recon import SparkReconEngine
from adapters.spark.session import SparkSessionProvider
from domain.dataset import RunId
from domain.ingestion.spec import SourceSpec
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import ReconResult, ReconStatus
from domain.recon.run import PRODUCER, ReconReport, ReconRun
from domain.recon.spec import ColumnRule, ReconSpec, Thresholds
from domain.runs.lifecycle import RunLifecycle


def _now() -> datetime:
    return datetime.now(UTC)


def recon(
    sessions: SparkSessionProvider, spec: ReconSpec, gateway: MetadataGateway | None = None
) -> ReconReport:
    gateway = gateway or MetadataGateway(InMemoryMetadataRepository())
    use_case = ReconRun(SparkReconEngine(sessions), gateway, _now)
    lifecycle = RunLifecycle(gateway, spec.subject, RunId.new(), PRODUCER, _now)
    return use_case.run(spec, lifecycle)


def parquet(
    spark: SparkSession, path: Path, rows: list[tuple[Any, ...]], schema: str
) -> SourceSpec:
    spark.createDataFrame(rows, schema).write.mode("overwrite").parquet(str(path))
    return SourceSpec(kind="parquet", path=str(path))


def result(report: ReconReport, check: str) -> ReconResult:
    return next(r for r in report.results if r.check == check)


def sampled(report: ReconReport, category: str) -> list[dict[str, Any]]:
    return [json.loads(k) for c, k in result(report, "key_diff").samples if c == category]


def test_equal_tables_pass_every_check(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    rows = [(i, f"name {i}", Decimal(i) / 4) for i in range(1, 51)]
    schema = "id long, name string, amount decimal(10,2)"
    spec = ReconSpec(
        name="same",
        source=parquet(spark, tmp_path / "a", rows, schema),
        target=parquet(spark, tmp_path / "b", rows, schema),
        keys=("id",),
    )
    gateway = MetadataGateway(InMemoryMetadataRepository())
    report = recon(sessions, spec, gateway)
    assert report.passed, [r.detail for r in report.results if r.status is not ReconStatus.PASSED]
    recorded = gateway.history(RecordKind.RECON_RESULT, spec.subject).records
    assert {r.payload.check for r in recorded if isinstance(r.payload, ReconResult)} == {
        "schema",
        "row_count",
        "aggregates",
        "row_hash",
        "three_way",
        "baseline",
        "key_diff",
    }


def test_planted_differences_are_found_exactly(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    schema = "id long, name string, amount decimal(10,2)"
    source = [(i, f"n{i}", Decimal(i)) for i in range(1, 101)]
    target = [r for r in source if r[0] not in (5, 6)]  # deleted
    target = [(i, n, a + 1 if i == 10 else a) for i, n, a in target]  # updated amount
    target = [(i, None if i == 11 else n, a) for i, n, a in target]  # type: ignore[misc]
    target += [(1000, "new", Decimal(1))]  # inserted
    spec = ReconSpec(
        name="planted",
        source=parquet(spark, tmp_path / "a", source, schema),
        target=parquet(spark, tmp_path / "b", target, schema),
        keys=("id",),
    )
    report = recon(sessions, spec)
    diff = report.diff
    assert (diff.missing, diff.extra, diff.changed) == (2, 1, 2)
    assert dict(diff.by_column) == {"amount": 1, "name": 1}
    assert sampled(report, "missing") == [{"id": 5}, {"id": 6}]
    assert sampled(report, "extra") == [{"id": 1000}]
    assert sampled(report, "changed") == [{"id": 10}, {"id": 11}]
    assert result(report, "key_diff").status is ReconStatus.FAILED
    assert result(report, "row_count").status is ReconStatus.FAILED
    assert result(report, "row_hash").status is ReconStatus.FAILED
    assert not report.passed


def test_equal_values_across_types_compare_equal(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    """Decimal scale, -0.00, floats within tolerance, NaN, timestamps of other precision
    and zone kind, trimmed text: equal; NULL vs '' and separators inside values: not."""
    source = parquet(
        spark,
        tmp_path / "a",
        [
            (
                1,
                Decimal("1.50"),
                0.1 + 0.2,
                datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
                " x ",
                "a,b",
            ),
            (
                2,
                Decimal("-0.00"),
                math.nan,
                datetime(2024, 1, 1, 12, 0, 0, 999600, tzinfo=UTC),
                "y",
                "",
            ),
            (
                3,
                Decimal("2.00"),
                1e300,
                datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=UTC),
                "z",
                "c",
            ),
        ],
        "id long, amount decimal(10,2), ratio double, at timestamp, label string, tags string",
    )
    target = parquet(
        spark,
        tmp_path / "b",
        [
            (1, Decimal("1.5000"), 0.3, datetime(2024, 1, 1, 12, 0, 0, 123000), "X", "a,b"),
            (2, Decimal("0.0000"), math.nan, datetime(2024, 1, 1, 12, 0, 1, 0), "Y", ""),
            (3, Decimal("2.0000"), 1e300 * (1 + 1e-12), datetime(1970, 1, 1, 0, 0, 0, 0), "z", "c"),
        ],
        "id long, amount decimal(14,4), ratio double, at timestamp_ntz, label string, tags string",
    )
    spec = ReconSpec(
        name="normalised",
        source=source,
        target=target,
        keys=("id",),
        rules=(
            ("ratio", ColumnRule(absolute=Decimal("1e-9"), relative=Decimal("1e-9"))),
            ("label", ColumnRule(trim=True, ignore_case=True)),
        ),
    )
    report = recon(sessions, spec)
    assert report.passed, [r.detail for r in report.results if r.status is not ReconStatus.PASSED]
    assert "at as UTC instant at ms" in result(report, "schema").detail

    # NULL is not '', and a separator inside a value cannot shift a column boundary.
    shifted = parquet(
        spark,
        tmp_path / "c",
        [
            (1, Decimal("1.50"), 0.3, datetime(2024, 1, 1, 12, 0, 0, 123000), "x", "a"),
            (2, Decimal("0"), math.nan, datetime(2024, 1, 1, 12, 0, 1), "y", None),
            (3, Decimal("2"), 1e300, datetime(1970, 1, 1), "z", "c"),
        ],
        "id long, amount decimal(10,2), ratio double, at timestamp, label string, tags string",
    )
    report = recon(
        sessions,
        ReconSpec(name="shifted", source=source, target=shifted, keys=("id",), rules=spec.rules),
    )
    assert sampled(report, "changed") == [{"id": 1}, {"id": 2}]
    assert dict(report.diff.by_column) == {"tags": 2}


def test_composite_keys_never_concatenate_and_null_parts_pair(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    schema = "a string, b string, d date, v long"
    source = [
        ("ab", "c", date(2024, 1, 1), 1),
        (None, "x", date(2024, 1, 2), 2),
        ("k", "k", None, 3),
    ]
    target = [
        ("a", "bc", date(2024, 1, 1), 1),
        (None, "x", date(2024, 1, 2), 2),
        ("k", "k", None, 3),
    ]
    report = recon(
        sessions,
        ReconSpec(
            name="composite",
            source=parquet(spark, tmp_path / "a", source, schema),
            target=parquet(spark, tmp_path / "b", target, schema),
            keys=("a", "b", "d"),
        ),
    )
    assert sampled(report, "missing") == [{"a": "ab", "b": "c", "d": "2024-01-01"}]
    assert sampled(report, "extra") == [{"a": "a", "b": "bc", "d": "2024-01-01"}]
    assert report.diff.changed == 0
    assert (report.diff.null_key_source, report.diff.null_key_target) == (2, 2)


def test_duplicates_empty_sides_and_thresholds(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    schema = "id string, v long"
    source = parquet(spark, tmp_path / "a", [("u1", 1), ("u1", 2), ("u2", 3)], schema)
    empty = parquet(spark, tmp_path / "b", [], schema)
    report = recon(sessions, ReconSpec(name="dups", source=source, target=source, keys=("id",)))
    assert (report.diff.duplicate_source, report.diff.duplicate_target) == (1, 1)
    assert sampled(report, "duplicate") == [{"id": "u1"}]
    assert result(report, "key_diff").status is ReconStatus.FAILED

    report = recon(
        sessions,
        ReconSpec(
            name="empty",
            source=parquet(spark, tmp_path / "c", [("u2", 3)], schema),
            target=empty,
            keys=("id",),
            thresholds=Thresholds(missing=1, row_count=1),
        ),
    )
    assert report.diff.missing == 1
    assert result(report, "key_diff").status is ReconStatus.PASSED
    assert result(report, "row_count").status is ReconStatus.PASSED


def test_drift_is_reported_before_the_rows(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    source = parquet(spark, tmp_path / "a", [(1, "x", 5)], "id long, name string, gone long")
    target = parquet(spark, tmp_path / "b", [(1, "x", 7)], "id long, name string, extra long")
    report = recon(sessions, ReconSpec(name="drift", source=source, target=target, keys=("id",)))
    schema = result(report, "schema")
    assert schema.status is ReconStatus.FAILED
    assert (
        "only in the source: gone" in schema.detail and "only in the target: extra" in schema.detail
    )
    assert result(report, "key_diff").status is ReconStatus.PASSED  # common columns agree


def test_a_missing_key_column_names_the_side(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path
) -> None:
    source = parquet(spark, tmp_path / "a", [(1, "x")], "id long, name string")
    with pytest.raises(ValueError, match="key 'order_id' is not a column of the source"):
        recon(sessions, ReconSpec(name="bad", source=source, target=source, keys=("order_id",)))
