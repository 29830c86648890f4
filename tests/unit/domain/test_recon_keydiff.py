"""The key diff's classification of pulled rows (``domain.recon.keydiff``), shared by the
engines that compare outside Spark: every key lands in exactly one category, by the rule
its rows on each side decide."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from domain.recon.compare import Alignment, Comparison, Kind
from domain.recon.keydiff import CATEGORIES, by_key, classify

ALIGNMENT = Alignment(
    keys=(Comparison("id", "id", Kind.DECIMAL, precision=18),),
    columns=(Comparison("amount", "amount", Kind.TEXT), Comparison("note", "note", Kind.TEXT)),
)

# A side: key -> its rows, each (amount, note); the row hash is the row itself.
rows = st.lists(
    st.tuples(st.sampled_from(["1", "2"]), st.sampled_from(["a", "b"])), min_size=1, max_size=2
)
sides = st.dictionaries(st.integers(0, 20), rows, max_size=12)


def pulled(side: dict[int, list[tuple[str, str]]]) -> list[tuple[object, ...]]:
    return [(key, "|".join(row), *row) for key, found in side.items() for row in found]


@given(source=sides, target=sides)
def test_every_key_lands_in_the_one_category_its_rows_decide(
    source: dict[int, list[tuple[str, str]]], target: dict[int, list[tuple[str, str]]]
) -> None:
    found = classify(
        ALIGNMENT, by_key(ALIGNMENT, pulled(source)), by_key(ALIGNMENT, pulled(target))
    )
    placed = {(int(k[0]), category) for k, category, _ in found.listed()}
    expected = set()
    for key in source.keys() | target.keys():
        a, b = source.get(key), target.get(key)
        if b is None:
            expected.add((key, "missing"))
        elif a is None:
            expected.add((key, "extra"))
        elif len(a) > 1 or len(b) > 1:
            expected.add((key, "duplicate"))
        elif a != b:
            expected.add((key, "changed"))
    assert placed == expected
    assert set(found.keys) == set(CATEGORIES)
    for category in CATEGORIES:
        assert found.keys[category] == sorted(found.keys[category])
    assert found.duplicates == (
        sum(len(source[k]) > 1 for k, c in placed if c == "duplicate"),
        sum(len(target[k]) > 1 for k, c in placed if c == "duplicate"),
    )


def test_a_changed_key_names_the_columns_that_differ_and_the_diff_counts_them() -> None:
    source = by_key(ALIGNMENT, [(1, "x", "1", "a"), (2, "y", "1", "a"), (3, "z", "1", "a")])
    target = by_key(ALIGNMENT, [(1, "x", "1", "a"), (2, "w", "2", "b"), (3, "v", "1", "b")])
    found = classify(ALIGNMENT, source, target)
    assert found.keys["changed"] == [(2,), (3,)]
    assert found.changed_columns == {(2,): ["amount", "note"], (3,): ["note"]}
    diff = found.key_diff("by hand", ["id"], samples=1, nulls=(0, 2))
    assert (diff.missing, diff.extra, diff.changed) == (0, 0, 2)
    assert diff.by_column == (("amount", 1), ("note", 2))
    assert diff.null_key_target == 2
    assert [(c, json.loads(k)) for c, k in diff.samples] == [("changed", {"id": 2})]


def test_keys_duplicated_alike_on_both_sides_count_though_not_pulled() -> None:
    found = classify(ALIGNMENT, {}, {}, duplicated=({(7,)}, {(7,), (8,)}))
    assert found.keys["duplicate"] == [(7,), (8,)]
    assert found.duplicates == (1, 2)


def test_null_key_parts_sort_first() -> None:
    source = by_key(ALIGNMENT, [(None, "x", "1", "a"), (5, "y", "1", "a")])
    found = classify(ALIGNMENT, source, {})
    assert found.keys["missing"] == [(None,), (5,)]
