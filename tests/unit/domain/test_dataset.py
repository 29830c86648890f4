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
