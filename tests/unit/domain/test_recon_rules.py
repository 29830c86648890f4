"""Reconciliation's domain: how columns align and normalise, how each check judges."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.files.recons import ReconFileError, load_recon
from domain.ingestion.spec import SourceSpec
from domain.metadata.payloads import ReconStatus
from domain.recon import checks
from domain.recon.checks import ColumnAggregate, KeyDiff, SideAggregates
from domain.recon.compare import Kind, Precision, align, common_precision
from domain.recon.spec import Claim, ColumnRule, ReconSpec, Thresholds
from domain.schema import Column, Schema
from domain.schema.types import (
    DecimalType,
    DoubleType,
    IntegerType,
    NumberType,
    StringType,
    TimestampType,
)

SIDE = SourceSpec(kind="parquet", path="/data/x")


def spec(**fields: object) -> ReconSpec:
    return ReconSpec(name="r", source=SIDE, target=SIDE, keys=("id",), **fields)  # type: ignore[arg-type]


def schema(*columns: tuple[str, object]) -> Schema:
    return Schema.from_columns(Column(n, t) for n, t in columns)  # type: ignore[arg-type]


def test_numbers_compare_at_the_common_scale_and_floats_within_tolerance() -> None:
    source = schema(
        ("id", IntegerType(64)), ("amount", DecimalType(10, 2)), ("ratio", DoubleType())
    )
    target = schema(
        ("id", IntegerType(32)), ("amount", DecimalType(14, 4)), ("ratio", NumberType())
    )
    found = align(spec(rules=(("ratio", ColumnRule(absolute=Decimal("0.001"))),)), source, target)
    amount, ratio = found.columns
    assert (amount.kind, amount.precision, amount.scale) == (Kind.DECIMAL, 14, 4)
    assert ratio.kind is Kind.FLOAT and ratio.absolute == Decimal("0.001") and ratio.tolerant
    assert found.keys[0].kind is Kind.DECIMAL and not found.keys[0].tolerant
    assert found.retyped and not found.drifted


def test_drift_and_mapping() -> None:
    source = schema(("id", IntegerType(64)), ("amount", DecimalType(10, 2)), ("gone", StringType()))
    target = schema(
        ("id", IntegerType(64)), ("amount_usd", DecimalType(10, 2)), ("new", StringType())
    )
    found = align(spec(columns=(("amount", "amount_usd"),)), source, target)
    assert found.removed == ("gone",) and found.added == ("new",)
    assert [(c.source, c.target) for c in found.columns] == [("amount", "amount_usd")]
    result = checks.schema_check(found)
    assert result.status is ReconStatus.FAILED and "only in the source: gone" in result.detail


def test_bad_names_and_tolerances_on_text_are_refused() -> None:
    source = schema(("id", IntegerType(64)), ("name", StringType()))
    with pytest.raises(ValueError, match="key 'order_id' is not a column of the source"):
        align(ReconSpec(name="r", source=SIDE, target=SIDE, keys=("order_id",)), source, source)
    with pytest.raises(ValueError, match="rules.name: a tolerance applies to numbers"):
        align(spec(rules=(("name", ColumnRule(absolute=Decimal(1))),)), source, source)
    with pytest.raises(ValueError, match="keys: a reconciliation pairs rows"):
        ReconSpec(name="r", source=SIDE, target=SIDE, keys=())


def test_timestamps_take_the_coarser_precision() -> None:
    assert (
        common_precision(Precision.MICROSECONDS, Precision.MILLISECONDS) is Precision.MILLISECONDS
    )
    assert common_precision(None, None) is Precision.MICROSECONDS
    source = schema(("id", IntegerType(64)), ("at", TimestampType(True)))
    found = align(spec(), source, schema(("id", IntegerType(64)), ("at", TimestampType(False))))
    a = SideAggregates(
        1,
        {"at": ColumnAggregate(0, None, 1_000_123_456, 1_000_123_456, Precision.MICROSECONDS)},
        {},
    )
    b = SideAggregates(
        1,
        {"at": ColumnAggregate(0, None, 1_000_123_000, 1_000_123_000, Precision.MILLISECONDS)},
        {},
    )
    at = found.at(checks.units(a, b, found))
    assert at.columns[0].unit is Precision.MILLISECONDS
    assert checks.aggregates(a, b, at).status is ReconStatus.PASSED  # .123456 rounds to .123


def test_three_way_names_where_rows_went_missing() -> None:
    claim = Claim("run-1", rows_read=1000, rows_written=998, rows_rejected=2, whole=True)
    result = checks.three_way(1000, claim, 997)
    assert result.status is ReconStatus.FAILED
    assert (
        "source 1,000, ingestion run run-1 said 1,000 read, 998 written + 2 rejected, target 997"
        in result.detail
    )
    assert "the target holds -1 rows against what the run wrote" in result.detail
    lost = checks.three_way(1000, Claim("run-2", 1000, 990, 2, True), 990)
    assert "8 row(s) read were neither written nor rejected" in lost.detail
    assert (
        checks.three_way(1000, Claim("run-3", 1000, 998, 2, True), 998).status is ReconStatus.PASSED
    )


def test_baselines_flag_a_moved_row_count_and_pass_a_first_run() -> None:
    first = checks.baseline(100, [], Decimal("0.2"))
    assert first.status is ReconStatus.PASSED and "first run" in first.detail
    assert checks.baseline(110, [100, 100, 105], Decimal("0.2")).status is ReconStatus.PASSED
    moved = checks.baseline(50, [100, 100, 105], Decimal("0.2"))
    assert moved.status is ReconStatus.FAILED and "50.0%" in moved.detail


def test_key_diff_is_judged_by_its_thresholds() -> None:
    found = KeyDiff("m", missing=2, extra=0, changed=1, samples=(("missing", '{"id": 1}'),))
    assert checks.key_diff(found, Thresholds()).status is ReconStatus.FAILED
    assert checks.key_diff(found, Thresholds(missing=2, changed=1)).status is ReconStatus.PASSED
    assert checks.key_text(["a", "b"], ["x,y", None]) == '{"a": "x,y", "b": null}'


def test_recon_files_name_the_file_the_key_and_the_fix(tmp_path: Path) -> None:
    good = tmp_path / "r.toml"
    good.write_text(
        'name = "r"\nkeys = ["id"]\n[source]\nkind = "parquet"\npath = "a"\n'
        '[target]\nkind = "parquet"\npath = "b"\n[rules.amount]\nabsolute = 0.01\n'
        '[thresholds]\nbaseline_change = 0.2\n[scope]\ncolumn = "at"\nsince = "2024-01-01"\n'
    )
    loaded = load_recon(good).spec
    assert loaded.rule("amount").absolute == Decimal("0.01")
    assert loaded.thresholds.baseline_change == Decimal("0.2")
    assert loaded.source.path == str(tmp_path / "a")
    bad = tmp_path / "bad.toml"
    for text, message in (
        ('name = "r"\nkeys = ["id"]\n[source]\nkind = "parquet"\npath = "a"\n', "target: required"),
        ('name = "r"\nkeyz = ["id"]\n', "unknown key(s) 'keyz'"),
        (
            'name = "r"\nkeys = ["id"]\n[source]\nkind = "ftp"\npath = "a"\n[target]\nkind = "parquet"\npath = "b"\n',
            "kind: expected one of",
        ),
        (
            'name = "r"\nkeys = ["id"]\n[source]\nkind = "parquet"\npath = "a"\n[target]\nkind = "parquet"\npath = "b"\n[thresholds]\nmissing = -1\n',
            "thresholds.missing: expected a count >= 0",
        ),
    ):
        bad.write_text(text)
        with pytest.raises(ReconFileError, match=str(bad).replace(".", r"\.")) as raised:
            load_recon(bad)
        assert message in str(raised.value)
    (tmp_path / "latin1.toml").write_bytes('name = "caf\xe9"'.encode("latin-1"))
    with pytest.raises(ReconFileError, match="not UTF-8"):
        load_recon(tmp_path / "latin1.toml")


def test_the_planner_explains_where_a_recon_computes() -> None:
    from domain.recon.plan import Method, method, segments

    pg = SourceSpec(kind="jdbc", url="jdbc:postgresql://db:5432/shop", table="public.a")
    other_db = SourceSpec(kind="jdbc", url="jdbc:postgresql://db:5432/crm", table="public.a")
    same = ReconSpec(name="r", source=pg, target=pg, keys=("id",))
    assert method(same)[0] is Method.SQL
    assert method(ReconSpec(name="r", source=pg, target=other_db, keys=("id",)))[0] is Method.SPARK
    assert method(ReconSpec(name="r", source=pg, target=SIDE, keys=("id",)))[0] is Method.SPARK
    tolerant = ReconSpec(
        name="r",
        source=pg,
        target=pg,
        keys=("id",),
        rules=(("x", ColumnRule(relative=Decimal("0.01"))),),
    )
    chosen, reason = method(tolerant)
    assert chosen is Method.SPARK and "x compare within a tolerance" in reason
    assert segments(0).count == 1 and segments(2_000_000).count == 65536


def test_a_scd2_pipeline_is_checked_on_current_versions_and_latest_changes(
    tmp_path: Path,
) -> None:
    from adapters.files.pipelines import load_pipeline
    from adapters.files.recons import pipeline_recon
    from domain.recon.plan import Method, method

    examples = Path(__file__).parents[3] / "examples" / "pipelines"
    found = pipeline_recon(load_pipeline(examples / "customers-scd2.toml", tmp_path), window=None)
    assert found.source_latest == "changed_at" and found.scope is None
    assert found.describe_scope() == (
        "source: the latest row per key by changed_at; source op is not 'D'; "
        "target is_current = 'true'"
    )
    assert found.thresholds.baseline_change is None  # a merge's rows are not the target's
    assert method(found)[0] is Method.SPARK
    source = schema(("customer_id", IntegerType(64)), ("city", StringType()))
    target = schema(
        ("customer_id", IntegerType(64)),
        ("city", StringType()),
        ("valid_from", TimestampType(True)),
        ("is_current", StringType()),
    )
    aligned = align(found, source, target)
    assert not aligned.drifted and [c.source for c in aligned.columns] == ["city"]
    assert "the target's own columns, not compared: valid_from, is_current" in aligned.notes
    scd1 = pipeline_recon(load_pipeline(examples / "customers-scd1.toml", tmp_path), window=None)
    assert scd1.target_rows == () and scd1.target_own == () and scd1.source_latest == "changed_at"
