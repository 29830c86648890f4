from __future__ import annotations

import pytest
from hypothesis import given

from domain.dataset import DatasetRef, RunId
from strategies import dataset_refs


@given(dataset_refs)
def test_dataset_ref_round_trips_through_its_string_form(ref: DatasetRef) -> None:
    assert DatasetRef.parse(str(ref)) == ref


def test_string_form_keeps_ipv6_namespaces_whole() -> None:
    ref = DatasetRef.parse("postgres://[::1]:5432::sales.public.orders")
    assert ref == DatasetRef("postgres://[::1]:5432", "sales.public.orders")


@pytest.mark.parametrize(
    ("namespace", "name", "field"),
    [
        ("", "orders", "namespace"),
        ("file", "", "name"),
        ("file", "a::b", "name"),
        ("a b", "x", "namespace"),
    ],
)
def test_dataset_ref_rejects_bad_parts_naming_the_field(
    namespace: str, name: str, field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        DatasetRef(namespace, name)


def test_parse_without_separator_explains_the_form() -> None:
    with pytest.raises(ValueError, match="namespace::name"):
        DatasetRef.parse("orders")


def test_run_id_validates_and_generates() -> None:
    assert RunId.new() != RunId.new()
    with pytest.raises(ValueError, match="run_id"):
        RunId("has space")
    with pytest.raises(ValueError, match="run_id"):
        RunId("")


@pytest.mark.parametrize(
    "make",
    [
        lambda long: RunId(long + " "),
        lambda long: DatasetRef.parse(long),
        lambda long: DatasetRef("file", long + "::x"),
        lambda long: DatasetRef(long + " ", "x"),
    ],
)
def test_a_long_bad_value_is_shown_cut_short_not_whole(make: object) -> None:
    """An error about a 5,000-character value (a pasted file, a runaway URL) names its
    start, not all of it: a message, not a screenful."""
    with pytest.raises(ValueError) as raised:
        make("x" * 5000)  # type: ignore[operator]
    assert "xxx..." in str(raised.value) and len(str(raised.value)) < 250, str(raised.value)
