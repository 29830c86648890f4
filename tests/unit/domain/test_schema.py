from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.schema import Column, DecimalType, IntegerType, Schema, StringType, TimestampType
from strategies import data_types, schemas

BASE = Schema.from_columns(
    [
        Column("id", IntegerType(64), nullable=False),
        Column("amount", DecimalType(18, 2)),
        Column("placed_at", TimestampType(with_timezone=True)),
    ]
)


def test_duplicate_column_names_are_rejected_case_insensitively() -> None:
    with pytest.raises(ValueError, match="duplicate column name 'ID'"):
        Schema.from_columns([Column("id", IntegerType(64)), Column("ID", StringType())])


def test_blank_column_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="column name"):
        Column(" ", IntegerType(32))


@given(schemas)
def test_fingerprint_is_stable_for_equal_schemas(schema: Schema) -> None:
    rebuilt = Schema.from_columns(Column(c.name, c.type, c.nullable) for c in schema.columns)
    assert rebuilt.fingerprint == schema.fingerprint


@pytest.mark.parametrize(
    "changed",
    [
        # every aspect that matters: type parameters, nullability, name, order, time zone, a column
        Schema.from_columns(
            [BASE.columns[0], Column("amount", DecimalType(18, 3)), BASE.columns[2]]
        ),
        Schema.from_columns(
            [BASE.columns[0], Column("amount", DecimalType(19, 2)), BASE.columns[2]]
        ),
        Schema.from_columns([Column("id", IntegerType(64), nullable=True), *BASE.columns[1:]]),
        Schema.from_columns([Column("ID", IntegerType(64), nullable=False), *BASE.columns[1:]]),
        Schema.from_columns([BASE.columns[1], BASE.columns[0], BASE.columns[2]]),
        Schema.from_columns(
            [*BASE.columns[:2], Column("placed_at", TimestampType(with_timezone=False))]
        ),
        Schema.from_columns(BASE.columns[:2]),
    ],
)
def test_fingerprint_changes_when_anything_that_matters_changes(changed: Schema) -> None:
    assert changed.fingerprint != BASE.fingerprint


@given(schemas, st.data())
def test_fingerprint_changes_when_a_column_type_changes(
    schema: Schema, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(schema.columns) - 1))
    column = schema.columns[index]
    new_type = data.draw(data_types.filter(lambda t: t != column.type))
    columns = list(schema.columns)
    columns[index] = Column(column.name, new_type, column.nullable)
    assert Schema.from_columns(columns).fingerprint != schema.fingerprint


def test_column_lookup_ignores_case() -> None:
    assert BASE.column("AMOUNT") == BASE.columns[1]
    assert BASE.column("missing") is None
