"""Properties and examples of schema diffs, type-change classification and drift policies."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.schema import (
    Column,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    Schema,
    StringType,
    TimestampType,
)
from domain.schema.checks import column_changes
from domain.schema.diff import ColumnChangeKind, TypeChange, classify, diff
from domain.schema.drift import ActionKind, evaluate
from domain.schema.policy import DriftPolicy, NewColumns, Nullability, RemovedColumns, TypeChanges
from strategies import column_names, data_types, schemas

policies = st.builds(
    DriftPolicy,
    st.sampled_from(NewColumns),
    st.sampled_from(RemovedColumns),
    st.sampled_from(TypeChanges),
    st.sampled_from(Nullability),
)


@st.composite
def schema_pairs(draw: st.DrawFn) -> tuple[Schema, Schema]:
    """Two schemas sharing some columns (possibly retyped, re-nulled, reordered)."""
    old = draw(schemas)
    columns = list(old.columns)
    kept = [c for c in columns if draw(st.booleans())]
    changed = [
        Column(c.name, draw(data_types) if draw(st.booleans()) else c.type, draw(st.booleans()))
        for c in kept
    ]
    taken = {c.name.lower() for c in columns}
    added = draw(
        st.lists(
            st.builds(
                Column,
                column_names.filter(lambda n: n.lower() not in taken),
                data_types,
                st.booleans(),
            ),
            max_size=3,
            unique_by=lambda c: c.name.lower(),
        )
    )
    new_columns = draw(st.permutations(changed + added))
    if not new_columns:
        new_columns = [Column("only", IntegerType(32))] if "only" not in taken else [columns[0]]
    return old, Schema.from_columns(new_columns)


# A chain of types, each a widening of the one before.
WIDENING_CHAINS: list[list[DataType]] = [
    [
        IntegerType(8),
        IntegerType(16),
        IntegerType(32),
        IntegerType(64),
        DecimalType(19, 0),
        DecimalType(25, 4),
    ],
    [IntegerType(16), FloatType(), DoubleType()],
    [IntegerType(32), DoubleType()],
    [DecimalType(5, 2), DecimalType(7, 3), DecimalType(30, 10), DecimalType(38, 10)],
    [StringType(10), StringType(200), StringType()],
    [DateType(), TimestampType(with_timezone=False)],
]


@given(schemas)
def test_diff_of_a_schema_with_itself_is_empty(schema: Schema) -> None:
    assert diff(schema, schema).is_empty


@given(schema_pairs())
def test_applying_a_diff_to_old_yields_new(pair: tuple[Schema, Schema]) -> None:
    old, new = pair
    assert diff(old, new).apply(old) == new


@given(schema_pairs())
def test_diff_order_is_deterministic(pair: tuple[Schema, Schema]) -> None:
    old, new = pair
    assert diff(old, new) == diff(old, new)
    kinds = [c.kind for c in diff(old, new).changes]
    removed = [i for i, k in enumerate(kinds) if k is ColumnChangeKind.REMOVED]
    assert removed == list(range(len(kinds) - len(removed), len(kinds)))  # removals come last


chains: st.SearchStrategy[list[DataType]] = st.sampled_from(WIDENING_CHAINS).flatmap(
    lambda chain: st.lists(st.sampled_from(range(len(chain))), min_size=2, max_size=5).map(
        lambda ix: [chain[i] for i in sorted(ix)]
    )
)


@given(chains)
def test_a_chain_of_widenings_is_a_widening(chain: list[DataType]) -> None:
    for a, b in itertools.pairwise(chain):
        assert classify(a, b) <= TypeChange.WIDENING
    assert classify(chain[0], chain[-1]) <= TypeChange.WIDENING


@given(
    st.integers(1, 38).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, p))),
    st.integers(0, 10),
    st.integers(0, 10),
)
def test_decimal_widening_never_reports_loss(
    ps: tuple[int, int], more_integer: int, more_scale: int
) -> None:
    precision, scale = ps
    wider_precision = precision + more_integer + more_scale
    if wider_precision <= 38:
        assert (
            classify(
                DecimalType(precision, scale), DecimalType(wider_precision, scale + more_scale)
            )
            <= TypeChange.WIDENING
        )


@given(schema_pairs())
def test_evolve_everywhere_allows_every_diff(pair: tuple[Schema, Schema]) -> None:
    old, new = pair
    assert evaluate(diff(old, new), DriftPolicy.evolve_everything()).allowed


@given(schema_pairs(), policies)
def test_violations_name_their_column_and_aspect(
    pair: tuple[Schema, Schema], policy: DriftPolicy
) -> None:
    old, new = pair
    decision = evaluate(diff(old, new), policy)
    assert decision.allowed == (not decision.violations)
    for violation in decision.violations:
        assert violation.aspect in ("new_columns", "removed_columns", "type_changes", "nullability")
        assert violation.explanation and "\n" not in violation.explanation


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (IntegerType(32), IntegerType(64), TypeChange.WIDENING),
        (IntegerType(64), IntegerType(32), TypeChange.NARROWING),
        (FloatType(), DoubleType(), TypeChange.WIDENING),
        (DoubleType(), FloatType(), TypeChange.NARROWING),
        (DecimalType(38, 10), DecimalType(18, 2), TypeChange.NARROWING),
        (DecimalType(10, 2), DecimalType(12, 4), TypeChange.WIDENING),
        (DecimalType(10, 2), DecimalType(12, 5), TypeChange.NARROWING),  # loses an integer digit
        (IntegerType(64), DecimalType(18, 0), TypeChange.NARROWING),
        (IntegerType(64), DoubleType(), TypeChange.NARROWING),
        (DecimalType(9, 0), IntegerType(32), TypeChange.WIDENING),
        (StringType(20), StringType(10), TypeChange.NARROWING),
        (StringType(), StringType(10), TypeChange.NARROWING),
        (TimestampType(False), TimestampType(True), TypeChange.INCOMPATIBLE),
        (TimestampType(True), TimestampType(False), TypeChange.NARROWING),
        (IntegerType(32), StringType(), TypeChange.INCOMPATIBLE),
    ],
)
def test_classification_table(old: DataType, new: DataType, expected: TypeChange) -> None:
    assert classify(old, new) is expected


def test_naive_timestamps_widen_only_when_the_policy_names_a_zone() -> None:
    assert (
        classify(TimestampType(False), TimestampType(True), naive_timezone="Europe/Berlin")
        is TypeChange.WIDENING
    )


def test_renames_come_only_from_the_policy() -> None:
    old = Schema.from_columns([Column("cust", StringType())])
    new = Schema.from_columns([Column("customer", StringType())])
    assert [c.kind for c in diff(old, new).changes] == [
        ColumnChangeKind.ADDED,
        ColumnChangeKind.REMOVED,
    ]
    renamed = diff(old, new, renames={"cust": "customer"})
    assert [c.kind for c in renamed.changes] == [ColumnChangeKind.RENAMED]
    assert renamed.apply(old) == new


def test_widen_only_policy_decides_and_lists_actions() -> None:
    old = Schema.from_columns(
        [
            Column("id", IntegerType(32), False),
            Column("amount", DecimalType(10, 2)),
            Column("note", StringType(50)),
        ]
    )
    new = Schema.from_columns(
        [
            Column("id", IntegerType(64), False),
            Column("amount", DecimalType(12, 2)),
            Column("note", StringType(20)),
            Column("region", StringType()),
        ]
    )
    decision = evaluate(
        diff(old, new),
        DriftPolicy(type_changes=TypeChanges.WIDEN_ONLY, new_columns=NewColumns.DISCARD),
    )
    assert not decision.allowed
    assert [str(v) for v in decision.violations] == [
        "note: string(50) -> string(20) is narrowing: text longer than 20 characters would be cut (type_changes=widen_only)"
    ]
    assert [(a.kind, a.column) for a in decision.actions] == [
        (ActionKind.CAST, "id"),
        (ActionKind.CAST, "amount"),
        (ActionKind.DROP_NEW_COLUMN, "region"),
    ]


@given(schema_pairs())
def test_every_change_has_a_severity_and_the_record_says_the_same(
    pair: tuple[Schema, Schema],
) -> None:
    """A change shows its type change, or info where no type changes; the drift record's
    change shows the same (`metadata diff` and the dashboard read one or the other)."""
    found = diff(*pair)
    for change, recorded in zip(found.changes, column_changes(found), strict=True):
        assert change.severity in ("info", "widening", "narrowing", "incompatible")
        assert (change.severity == "info") == (change.change is TypeChange.SAME)
        assert recorded.severity == change.severity
