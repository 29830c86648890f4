"""The profiler's Parquet footer path: what footers answer equals what a scan computes."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from adapters.spark import parquet_footers
from adapters.spark.parquet_footers import parquet_footer_statistics
from adapters.spark.profiler import profile_frame
from domain.metadata.payloads import DatasetProfile

SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType(), False),
        T.StructField("wide", T.DecimalType(38, 10), True),
        T.StructField("price", T.DecimalType(18, 2), True),
        T.StructField("small", T.DecimalType(9, 3), True),
        T.StructField("name", T.StringType(), True),
        T.StructField("day", T.DateType(), True),
        T.StructField("flag", T.BooleanType(), True),
        T.StructField("qty", T.ShortType(), True),
        T.StructField("score", T.DoubleType(), True),
        T.StructField("at", T.TimestampType(), True),
    ]
)


def _decimal(precision: int, scale: int) -> st.SearchStrategy[Decimal | None]:
    # From the unscaled integer: Decimal arithmetic would round 38 digits to 28.
    unscaled = st.integers(-(10**precision) + 1, 10**precision - 1)
    return st.none() | unscaled.map(lambda u: Decimal(f"{u}E-{scale}"))


AT = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)
ROW = st.tuples(
    st.integers(-(2**63), 2**63 - 1),
    _decimal(38, 10),
    _decimal(18, 2),
    _decimal(9, 3),
    st.none() | st.text(max_size=12),
    st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.none() | st.booleans(),
    st.none() | st.integers(-(2**15), 2**15 - 1),
    st.none() | st.floats(allow_infinity=True, allow_nan=True),
    st.none()
    | st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)),
)


def _write(
    spark: SparkSession, rows: Sequence[tuple[object, ...]], files: int, path: Path
) -> DataFrame:
    spark.createDataFrame(rows, SCHEMA).repartition(files).write.mode("overwrite").parquet(
        str(path)
    )
    return spark.read.parquet(str(path))


def _same(scanned: DatasetProfile, footed: DatasetProfile) -> None:
    assert footed.row_count == scanned.row_count
    for left, right in zip(scanned.columns, footed.columns, strict=True):
        assert right == left, left.name


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(ROW, max_size=40), files=st.integers(1, 4))
def test_footers_answer_what_a_scan_computes(
    spark: SparkSession, tmp_path: Path, rows: list[tuple[object, ...]], files: int
) -> None:
    frame = _write(spark, rows, files, tmp_path / "data")
    known = parquet_footer_statistics(frame)
    assert known is not None and known.rows == len(rows)
    _same(profile_frame(frame), profile_frame(frame, known=known))


def test_footers_know_counts_and_ordered_extremes_but_not_floats_or_timestamps(
    spark: SparkSession, tmp_path: Path
) -> None:
    rows = [
        (
            1,
            Decimal("-4821133.1200000000"),
            Decimal("12.50"),
            None,
            "Zyx",
            None,
            True,
            7,
            math.nan,
            None,
        ),
        (2, None, Decimal("-0.01"), None, "Aalto", dt.date(2024, 5, 1), False, -3, 1.5, AT),
        (3, Decimal("0E-10"), None, None, None, dt.date(1999, 1, 2), None, None, None, None),
    ]
    frame = _write(spark, rows, 2, tmp_path / "data")
    known = parquet_footer_statistics(frame)
    assert known is not None and known.rows == 3
    wide, name, small = known.columns["wide"], known.columns["name"], known.columns["small"]
    assert (wide.min_value, wide.max_value, wide.nulls) == (
        Decimal("-4821133.1200000000"),
        Decimal("0E-10"),
        1,
    )
    assert (name.min_value, name.max_value) == ("Aalto", "Zyx")
    assert small.nulls == 3 and small.min_max_known  # all null: nothing to scan for
    assert not known.columns["score"].min_max_known  # NaN is not in Parquet statistics
    assert not known.columns["at"].min_max_known  # INT96 carries no statistics
    profile = profile_frame(frame, known=known)
    score = {c.name: c for c in profile.columns}["score"]
    assert score.max_value == "nan"  # scanned: Spark orders NaN above every number


def test_partition_columns_are_scanned(spark: SparkSession, tmp_path: Path) -> None:
    rows = [(i, None, Decimal(i), None, f"n{i}", None, i % 2 == 0, i, None, None) for i in range(9)]
    spark.createDataFrame(rows, SCHEMA).write.partitionBy("flag").parquet(str(tmp_path / "p"))
    frame = spark.read.parquet(str(tmp_path / "p"))
    known = parquet_footer_statistics(frame)
    assert known is not None and "flag" not in known.columns and "qty" in known.columns
    _same(profile_frame(frame), profile_frame(frame, known=known))


def test_footer_profile_is_one_job_and_distinct_is_optional(
    spark: SparkSession, tmp_path: Path
) -> None:
    rows = [(i, None, Decimal(i), None, f"n{i % 3}", None, None, i, None, None) for i in range(30)]
    frame = _write(spark, rows, 3, tmp_path / "data")
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("footer-profile", "profile")
    try:
        known = parquet_footer_statistics(frame)
        profile = profile_frame(frame, known=known, distinct=False)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    assert len(tracker.getJobIdsForGroup("footer-profile")) == 1
    columns = {c.name: c for c in profile.columns}
    assert profile.row_count == 30
    assert all(c.approx_distinct is None for c in profile.columns)
    assert (columns["name"].max_length, columns["price"].max_integer_digits) == (2, 2)
    assert profile_frame(frame, known=known).columns[4].approx_distinct == 3


def test_more_file_columns_than_footers_are_worth_are_scanned(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [(i, None, Decimal(i), None, "x", None, None, i, None, None) for i in range(8)]
    frame = _write(spark, rows, 2, tmp_path / "data")
    assert parquet_footer_statistics(frame) is not None  # 2 files x 10 columns
    monkeypatch.setattr(parquet_footers, "MAX_FOOTER_COLUMNS", 19)
    assert parquet_footer_statistics(frame) is None
