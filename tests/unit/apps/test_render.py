"""What the metadata CLI prints for people."""

from __future__ import annotations

from apps.metadata.render import schema_table
from domain.metadata import ColumnProfile, DatasetProfile
from domain.schema import Column, IntegerType, Schema


def test_an_approximate_distinct_count_never_shows_more_than_the_values_counted() -> None:
    """HyperLogLog++ may count 1,003 distinct values among 1,000 rows; print 1,000."""
    schema = Schema.from_columns([Column("id", IntegerType(64)), Column("n", IntegerType(32))])
    profile = DatasetProfile(
        1000,
        (
            ColumnProfile("id", nulls=0, approx_distinct=1003),
            ColumnProfile("n", nulls=990, approx_distinct=12),
        ),
    )
    rows = {line.split()[0]: line.split() for line in schema_table(schema, profile).splitlines()}
    assert rows["id"][3] == "~1,000" and rows["n"][3] == "~10"
