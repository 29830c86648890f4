"""Drift decisions: may a write with the new schema go ahead, and what must the writer do?"""

from __future__ import annotations

import enum

import attrs

from domain.schema.diff import ColumnChangeKind, ColumnDiff, SchemaDiff, TypeChange
from domain.schema.policy import DriftPolicy, NewColumns, Nullability, RemovedColumns, TypeChanges


class ActionKind(enum.Enum):
    ADD_COLUMN = "add_column"
    DROP_NEW_COLUMN = "drop_new_column"
    FILL_NULLS = "fill_nulls"
    CAST = "cast"
    RENAME = "rename"
    ALTER_NULLABILITY = "alter_nullability"


@attrs.frozen
class WriterAction:
    """A step a writer must take to apply the change: e.g. cast ``amount`` to decimal(20,2)."""

    kind: ActionKind
    column: str
    type: str | None = None

    def __str__(self) -> str:
        return f"{self.kind.value} {self.column}" + (f" -> {self.type}" if self.type else "")


@attrs.frozen
class Violation:
    """A change the policy refuses, with one line a person reads to know why."""

    column: str
    aspect: str
    explanation: str

    def __str__(self) -> str:
        return f"{self.column}: {self.explanation}"


@attrs.frozen
class DriftDecision:
    allowed: bool
    actions: tuple[WriterAction, ...]
    violations: tuple[Violation, ...]
    diff: SchemaDiff


def evaluate(diff: SchemaDiff, policy: DriftPolicy) -> DriftDecision:
    """Judge every change of ``diff`` under ``policy``; allowed when nothing is violated."""
    actions: list[WriterAction] = []
    violations: list[Violation] = []
    for change in diff.changes:
        _judge(change, policy, actions, violations)
    return DriftDecision(not violations, tuple(actions), tuple(violations), diff)


def _judge(
    change: ColumnDiff,
    policy: DriftPolicy,
    actions: list[WriterAction],
    violations: list[Violation],
) -> None:
    name = change.column
    match change.kind:
        case ColumnChangeKind.ADDED:
            assert change.new is not None
            if policy.new_columns is NewColumns.EVOLVE:
                actions.append(WriterAction(ActionKind.ADD_COLUMN, name, str(change.new.type)))
            elif policy.new_columns is NewColumns.DISCARD:
                actions.append(WriterAction(ActionKind.DROP_NEW_COLUMN, name))
            else:
                violations.append(
                    Violation(
                        name,
                        "new_columns",
                        f"new column {change.new} is refused (new_columns=freeze)",
                    )
                )
        case ColumnChangeKind.REMOVED:
            if policy.removed_columns is RemovedColumns.EVOLVE:
                actions.append(WriterAction(ActionKind.FILL_NULLS, name))
            else:
                violations.append(
                    Violation(
                        name,
                        "removed_columns",
                        f"column {name} is gone from the source (removed_columns=freeze)",
                    )
                )
        case ColumnChangeKind.RENAMED:
            assert change.old is not None
            actions.append(WriterAction(ActionKind.RENAME, change.old.name, name))
        case ColumnChangeKind.RETYPED:
            assert change.old is not None and change.new is not None
            old, new = change.old.type, change.new.type
            refused = policy.type_changes is TypeChanges.FREEZE or (
                policy.type_changes is TypeChanges.WIDEN_ONLY
                and change.change > TypeChange.WIDENING
            )
            if refused:
                violations.append(
                    Violation(
                        name,
                        "type_changes",
                        f"{old} -> {new} is {change.change.label}: {change.detail} "
                        f"(type_changes={policy.type_changes.value})",
                    )
                )
            else:
                actions.append(WriterAction(ActionKind.CAST, name, str(new)))
        case ColumnChangeKind.NULLABILITY:
            assert change.new is not None
            if policy.nullability is Nullability.FREEZE:
                violations.append(
                    Violation(name, "nullability", f"{change.detail} (nullability=freeze)")
                )
            else:
                actions.append(
                    WriterAction(
                        ActionKind.ALTER_NULLABILITY,
                        name,
                        "null" if change.new.nullable else "not null",
                    )
                )
        case ColumnChangeKind.REORDERED:
            pass  # writers map columns by name; order is information only
