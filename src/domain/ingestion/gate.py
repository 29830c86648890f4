"""The gate before any write: the batch's schema against the target's (drift), and the
batch's observed values against the target's column types (precision).

A target keeps its column types: a batch whose column has another type that values can
carry over in (``decimal(38,18)`` from a JSON source into ``decimal(10,2)``; ``number``;
``int64`` into ``int32``) is written in the target's type when the batch's values fit it.
Whether they fit is the precision gate's question, asked of the values of this very batch:

- ``block`` refuses with the column, the largest offending value and the key of a row
  that holds it; nothing is written;
- ``widen`` writes the column in a type that holds the values (the target is altered in
  the write's own transaction, or its new version has the wider type);
- ``warn`` writes in the target's type and records the violation.

Everything else - added, removed, renamed columns, nullability, types values cannot carry
over in - is drift, judged by the dataset's drift policy. Both leave records:
``schema_drift`` and ``precision_check``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from domain.metadata.payloads import ColumnProfile
from domain.schema import Column, DataType, Schema
from domain.schema.checks import compare
from domain.schema.diff import TypeChange, classify
from domain.schema.drift import DriftDecision
from domain.schema.policy import DriftPolicy, PrecisionMode
from domain.schema.precision import PrecisionFinding, check_column, declared_fit


@attrs.frozen
class GateVerdict:
    """What the gate decided: the drift decision, one precision finding per judged
    column, the types the batch's columns are written in, and a refusal (or None)."""

    drift: DriftDecision
    judged: Schema  # the batch's schema as drift judged it (carried columns as stored)
    findings: tuple[PrecisionFinding, ...]
    types: Mapping[str, DataType]
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def summary(self) -> list[str]:
        """One line per verdict, for `ingestion plan`."""
        changes = self.drift.diff.changes
        if self.drift.violations:
            drift = "refused: " + "; ".join(str(v) for v in self.drift.violations)
        elif changes:
            drift = "allowed: " + "; ".join(
                f"{c.kind.value} {c.column}" + (f" ({c.detail})" if c.detail else "")
                for c in changes
            )
        else:
            drift = "no change"
        lines = [f"drift: {drift}"]
        for finding in self.findings:
            lines.append(
                f"precision {finding.target.name}: {finding.verdict.value} ({finding.detail})"
            )
        return lines


def carried_columns(target: Schema, batch: Schema) -> list[tuple[Column, Column]]:
    """(batch column, target column) pairs of the same name whose types differ but whose
    values can carry over: the precision gate's to judge, not drift's."""
    pairs = []
    for column in batch.columns:
        stored = target.column(column.name)
        if stored is None or stored.type == column.type:
            continue
        if classify(column.type, stored.type) is TypeChange.INCOMPATIBLE:
            continue
        pairs.append((column, stored))
    return pairs


def as_stored(batch: Schema, pairs: Sequence[tuple[Column, Column]]) -> Schema:
    """``batch`` with the carried columns in their target types (what drift judges)."""
    types = {b.name: t.type for b, t in pairs}
    return Schema.from_columns(
        [attrs.evolve(c, type=types[c.name]) if c.name in types else c for c in batch.columns]
    )


def judge(
    name: str,
    target: Schema,
    batch: Schema,
    policy: DriftPolicy,
    profile: Callable[[Sequence[str]], Mapping[str, ColumnProfile]],
    key_of: Callable[[str, str], str | None],
) -> GateVerdict:
    """The gate's verdict on writing ``batch`` into a target of schema ``target``.

    ``profile`` profiles columns of the batch (called once, only when some column's
    declared type does not vouch for its values); ``key_of(column, value)`` names the key
    of a row holding ``value``.
    """
    pairs = carried_columns(target, batch)
    judged = as_stored(batch, pairs)
    decision = compare(target, judged, policy)
    unsure = [b.name for b, t in pairs if not declared_fit(b.type, t.type)]
    profiles = profile(unsure) if unsure else {}
    findings = tuple(check_column(b, t, profiles.get(b.name), policy.precision) for b, t in pairs)
    types: dict[str, DataType] = {}
    refusals = []
    for finding in findings:
        column = finding.source.name
        if finding.blocking:
            value = finding.largest_offending_value
            key = None if value is None else key_of(column, value)
            where = "" if value is None else f"; largest offending value {value}"
            if key:
                where += f" (row {key})"
            refusals.append(
                f"column {column}: the batch's values do not fit the target's "
                f"{finding.target.type}{where}: {finding.detail}"
            )
        elif policy.precision is PrecisionMode.WIDEN and finding.proposed_type is not None:
            types[column] = finding.proposed_type
        else:
            types[column] = finding.target.type
    refusal = None
    if not decision.allowed:
        refusal = (
            f"{name}: the target's drift policy refuses this batch: "
            + "; ".join(str(v) for v in decision.violations)
            + "; nothing was written"
        )
    elif refusals:
        refusal = (
            f"{name}: the precision gate (precision = {policy.precision.value}) refuses this "
            f"batch: "
            + "; ".join(refusals)
            + "; nothing was written. Widen the target column, or set [policy] precision = "
            '"widen" to let runs widen it'
        )
    return GateVerdict(decision, judged, findings, types, refusal)
