"""Per-dataset schema contracts: what a writer may do when the source schema drifts.

In the spirit of dlt's schema contracts, each aspect has its own mode:

- ``new_columns``: ``evolve`` (add them to the target), ``freeze`` (refuse the write),
  ``discard`` (write without them)
- ``removed_columns``: ``evolve`` (keep the target column, fill nulls), ``freeze``
- ``type_changes``: ``evolve`` (any change), ``widen_only`` (only changes that lose no
  value), ``freeze`` (none)
- ``nullability``: ``evolve``, ``freeze``

``renames`` maps old column names to new ones (renames are never guessed);
``naive_timezone`` says which zone timestamps without one are in, which is what lets
timestamp_ntz widen to timestamp_tz.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from domain.dataset import DatasetRef


class NewColumns(enum.Enum):
    EVOLVE = "evolve"
    FREEZE = "freeze"
    DISCARD = "discard"


class RemovedColumns(enum.Enum):
    EVOLVE = "evolve"
    FREEZE = "freeze"


class TypeChanges(enum.Enum):
    EVOLVE = "evolve"
    WIDEN_ONLY = "widen_only"
    FREEZE = "freeze"


class Nullability(enum.Enum):
    EVOLVE = "evolve"
    FREEZE = "freeze"


class PrecisionMode(enum.Enum):
    """What a precision guardrail does with values that do not fit the target."""

    BLOCK = "block"
    WARN = "warn"
    WIDEN = "widen"


def _zone(instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"{attribute.name}: {value!r} is not an IANA time zone; use a name like UTC or "
            f"Europe/Berlin"
        ) from None


def _renames(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class DriftPolicy:
    new_columns: NewColumns = NewColumns.EVOLVE
    removed_columns: RemovedColumns = RemovedColumns.EVOLVE
    type_changes: TypeChanges = TypeChanges.WIDEN_ONLY
    nullability: Nullability = Nullability.EVOLVE
    precision: PrecisionMode = PrecisionMode.BLOCK
    renames: Mapping[str, str] = attrs.field(factory=dict, converter=_renames, eq=False, hash=False)
    naive_timezone: str | None = attrs.field(default=None, validator=_zone)

    @classmethod
    def evolve_everything(cls) -> DriftPolicy:
        return cls(NewColumns.EVOLVE, RemovedColumns.EVOLVE, TypeChanges.EVOLVE, Nullability.EVOLVE)

    def describe(self) -> str:
        return (
            f"new_columns={self.new_columns.value} removed_columns={self.removed_columns.value} "
            f"type_changes={self.type_changes.value} nullability={self.nullability.value} "
            f"precision={self.precision.value}"
        )


def _datasets(value: Mapping[DatasetRef, DriftPolicy]) -> Mapping[DatasetRef, DriftPolicy]:
    return MappingProxyType(dict(value))


@attrs.frozen
class PolicyBook:
    """A default policy and per-dataset overrides."""

    default: DriftPolicy = DriftPolicy()
    datasets: Mapping[DatasetRef, DriftPolicy] = attrs.field(factory=dict, converter=_datasets)

    def policy_for(self, subject: DatasetRef) -> DriftPolicy:
        return self.datasets.get(subject, self.default)
