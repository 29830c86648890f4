"""The key diff's verdict on rows an engine pulled: each key classified as missing (only in
the source), extra (only in the target), changed (in both, with other values) or duplicate
(on several rows of a side), with the columns that changed and sample keys.

An engine that compares inside a database or in Python pulls, per side, each row's key
values, its row hash and its compared values' texts; ``classify`` judges them. Spark
classifies inside its own plan, in the same four ``CATEGORIES``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from domain.recon.checks import KeyDiff, key_text
from domain.recon.compare import Alignment

CATEGORIES = ("missing", "extra", "changed", "duplicate")

Key = tuple[Any, ...]
# A side's pulled rows by key: each row's hash followed by its compared values' texts.
Pulled = Mapping[Key, Sequence[Sequence[Any]]]


def by_key(alignment: Alignment, rows: Iterable[Sequence[Any]]) -> dict[Key, list[Sequence[Any]]]:
    """Rows of ``(key parts..., row hash, value texts...)`` grouped by their key, its parts
    as the checks compare them."""
    width = len(alignment.keys)
    grouped: dict[Key, list[Sequence[Any]]] = {}
    for row in rows:
        key = tuple(c.value(v) for c, v in zip(alignment.keys, row[:width], strict=True))
        grouped.setdefault(key, []).append(row[width:])
    return grouped


def sortable(key: Key) -> tuple[tuple[bool, Any], ...]:
    """Keys in order, NULL parts first (a key column holds one kind of value)."""
    return tuple((v is not None, "" if v is None else v) for v in key)


@attrs.frozen
class Classified:
    """Each category's keys (sorted), the columns each changed key differs in, and the keys
    duplicated on each side."""

    keys: Mapping[str, list[Key]]
    changed_columns: Mapping[Key, list[str]]
    by_column: tuple[tuple[str, int], ...]
    duplicates: tuple[int, int]

    def listed(self) -> Iterator[tuple[Key, str, list[str]]]:
        """Every classified key: the key, its category and the columns that changed."""
        for category, found in self.keys.items():
            for key in found:
                yield key, category, self.changed_columns.get(key, [])

    def key_diff(
        self, method: str, names: Sequence[str], samples: int, nulls: tuple[int, int]
    ) -> KeyDiff:
        return KeyDiff(
            method=method,
            missing=len(self.keys["missing"]),
            extra=len(self.keys["extra"]),
            changed=len(self.keys["changed"]),
            duplicate_source=self.duplicates[0],
            duplicate_target=self.duplicates[1],
            null_key_source=nulls[0],
            null_key_target=nulls[1],
            by_column=self.by_column,
            samples=tuple(
                (category, key_text(names, list(key)))
                for category, found in self.keys.items()
                for key in found[:samples]
            ),
        )


def classify(
    alignment: Alignment,
    source: Pulled,
    target: Pulled,
    duplicated: tuple[set[Key], set[Key]] = (set(), set()),
) -> Classified:
    """Judge the pulled rows of both sides; ``duplicated`` adds keys a side holds twice that
    were not pulled (duplicated alike on both sides, their segments agreed)."""
    keys: dict[str, list[Key]] = {c: [] for c in CATEGORIES}
    by_column: Counter[str] = Counter()
    changed_columns: dict[Key, list[str]] = {}
    duplicates = [0, 0]
    for key in source.keys() | target.keys():
        a, b = source.get(key), target.get(key)
        if b is None:
            keys["missing"].append(key)
        elif a is None:
            keys["extra"].append(key)
        elif len(a) > 1 or len(b) > 1:
            keys["duplicate"].append(key)
            duplicates[0] += len(a) > 1
            duplicates[1] += len(b) > 1
        elif a[0][0] != b[0][0]:
            keys["changed"].append(key)
            names = [
                c.source for j, c in enumerate(alignment.columns) if a[0][1 + j] != b[0][1 + j]
            ]
            changed_columns[key] = names
            by_column.update(names)
    for key in (duplicated[0] | duplicated[1]) - source.keys() - target.keys():
        keys["duplicate"].append(key)
        duplicates[0] += key in duplicated[0]
        duplicates[1] += key in duplicated[1]
    order = [c.source for c in alignment.columns]
    return Classified(
        keys={category: sorted(found, key=sortable) for category, found in keys.items()},
        changed_columns=changed_columns,
        by_column=tuple(sorted(by_column.items(), key=lambda kv: order.index(kv[0]))),
        duplicates=(duplicates[0], duplicates[1]),
    )
