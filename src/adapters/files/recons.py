"""Recon files (TOML) -> ReconSpec, every error naming the file, the key and the fix; and
the spec of a pipeline's last committed run (``recon run --pipeline``).

    name = "orders-check"
    keys = ["order_id"]                # composite: list them all
    select = ["amount", "status"]      # optional: only these source columns
    samples = 10                       # sample keys kept per category

    [source]                           # any endpoint: parquet | csv | json | jdbc
    kind = "jdbc"
    url = "jdbc:postgresql://127.0.0.1:5432/shop"
    table = "public.orders"

    [target]
    kind = "parquet"
    path = "warehouse/orders"          # relative to this file; {home} is the platform home

    [columns]                          # source column = target column, where names differ
    amount = "amount_usd"

    [rules.amount]                     # per source column
    absolute = 0.01                    # numbers: equal within this
    relative = 0                       # ... or within this share of the larger value
    # trim = true, ignore_case = true  # text

    [thresholds]                       # differences each check tolerates (default 0)
    missing = 0
    extra = 0
    changed = 0
    row_count = 0
    baseline_change = 0.2              # row count against recent runs (a relative change)

    [scope]                            # optional: only rows of a watermark window
    column = "updated_at"
    since = "2024-01-01T00:00:00Z"     # inclusive
    upto = "2024-02-01T00:00:00Z"      # inclusive

    [spark]
    master = "local[*]"
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import cattrs

from adapters.files.pipelines import PipelineFile, SourceTable, SparkTable, source_spec
from adapters.files.toml_edge import SpecFile, explain, read_toml, toml_converter
from domain.ingestion.plan import SNAPSHOTS
from domain.ingestion.spec import (
    HISTORY_COLUMNS,
    IS_CURRENT,
    LOAD_TIME,
    Mode,
    SourceSpec,
    TargetSpec,
)
from domain.recon.spec import ColumnRule, ReconSpec, Rows, Scope, Thresholds


class ReconFileError(ValueError):
    """A recon file that cannot be used; the message names the file, the key and the fix."""


@attrs.frozen
class _Rule:
    absolute: Any = 0
    relative: Any = 0
    trim: bool = False
    ignore_case: bool = False


@attrs.frozen
class _Thresholds:
    missing: int = 0
    extra: int = 0
    changed: int = 0
    row_count: int = 0
    baseline_change: Any = None


@attrs.frozen
class _Scope:
    column: str
    since: str | None = None
    upto: str | None = None


@attrs.frozen
class _ReconFile:
    name: str
    keys: list[str]
    source: SourceTable
    target: SourceTable
    select: list[str] = attrs.field(factory=list)
    samples: int = 10
    columns: dict[str, str] = attrs.field(factory=dict)
    rules: dict[str, _Rule] = attrs.field(factory=dict)
    thresholds: _Thresholds = _Thresholds()
    scope: _Scope | None = None
    spark: SparkTable = SparkTable()


ReconFile = SpecFile[ReconSpec]


def _number(value: object, where: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{where}: expected a number such as 0.01, got {value!r}") from None


def load_recon(path: Path, home: Path | None = None) -> ReconFile:
    """The recon in ``path``; relative paths in it are relative to the file."""
    data = read_toml(path, "recon", ReconFileError)
    try:
        parsed = toml_converter().structure(data, _ReconFile)
    except cattrs.BaseValidationError as invalid:
        raise ReconFileError(f"{path}: {'; '.join(explain(invalid, empty='the file'))}") from None
    base = path.parent.resolve()
    warnings: list[str] = []
    try:
        source = source_spec(base, parsed.source, home, "source", warnings)
    except ValueError as invalid:
        raise ReconFileError(f"{path}: {invalid}") from None
    try:
        target = source_spec(base, parsed.target, home, "target", warnings)
    except ValueError as invalid:
        raise ReconFileError(f"{path}: {str(invalid).replace('source:', 'target:', 1)}") from None
    try:
        rules = tuple(
            (
                name,
                ColumnRule(
                    _number(rule.absolute, f"rules.{name}.absolute"),
                    _number(rule.relative, f"rules.{name}.relative"),
                    rule.trim,
                    rule.ignore_case,
                ),
            )
            for name, rule in sorted(parsed.rules.items())
        )
        t = parsed.thresholds
        change = t.baseline_change
        thresholds = Thresholds(
            t.missing,
            t.extra,
            t.changed,
            t.row_count,
            None if change is None else _number(change, "thresholds.baseline_change"),
        )
        scope = parsed.scope
        spec = ReconSpec(
            name=parsed.name,
            source=source,
            target=target,
            keys=tuple(parsed.keys),
            columns=tuple(sorted(parsed.columns.items())),
            select=tuple(parsed.select),
            rules=rules,
            thresholds=thresholds,
            scope=None if scope is None else Scope(scope.column, scope.since, scope.upto),
            samples=parsed.samples,
        )
    except ValueError as invalid:
        raise ReconFileError(f"{path}: {invalid}") from None
    return ReconFile(
        path,
        spec,
        parsed.spark.master,
        dict(parsed.spark.conf),
        tuple(f"{path}: {warning}" for warning in warnings),
    )


def target_endpoint(target: TargetSpec, run: str | None = None) -> SourceSpec:
    """A pipeline's target as an endpoint to read (the committed version of a Parquet target
    is what its path links to; an Iceberg table is read at the snapshot ``run`` committed,
    so a later run cannot change what is checked)."""
    if target.kind == "iceberg":
        return SourceSpec(
            kind="iceberg",
            catalog=target.catalog,
            table=target.table,
            password=target.password,
            committed_by=run,
            home=target.home,
        )
    if target.kind == "postgresql":
        parts = urlsplit(target.url or "")
        host = parts.hostname or "localhost"
        return SourceSpec(
            kind="jdbc",
            url=f"jdbc:postgresql://{host}:{parts.port or 5432}{parts.path}",
            table=target.table,
            user=parts.username,
            password=target.password or parts.password,
        )
    if target.kind == "sqlite":
        return SourceSpec(kind="jdbc", url=f"jdbc:sqlite:{target.path}", table=target.table)
    return SourceSpec(kind="parquet", path=target.path, home=target.home)


def pipeline_recon(
    pipeline: PipelineFile,
    *,
    window: tuple[str, str | None, str | None] | None,
    baseline_change: Decimal | None = Decimal("0.5"),
    run: str | None = None,
) -> ReconSpec:
    """What ``recon run --pipeline`` checks: the pipeline's source against its target, on
    the pipeline's keys, scoped to its last run's watermark ``window`` (column, after, upto:
    the rows at or after ``after`` less the pipeline's lag, as the run read them) when the run
    was incremental. An Iceberg target is read at the snapshot ``run`` committed.

    SCD1 and SCD2 targets hold one row per key (SCD2: the current version), so the source is
    read as a change log, its latest row per key by the pipeline's sequence, less the keys
    its delete marker removed; an SCD2 target is compared on its current versions, its
    history columns (and the load time it stamps without a sequence) being its own.
    ValueError names what the pipeline lacks."""
    spec = pipeline.spec
    if not spec.keys:
        raise ValueError(
            f'{pipeline.path}: keys: recon pairs rows by key; add keys = ["..."] to the pipeline'
        )
    scope, source = None, spec.source
    if window is not None and window[0] == SNAPSHOTS:
        # Read by snapshot, the run's target holds every row of the source up to the
        # snapshot it read (its watermark): the source is read there, whole.
        read = None if window[2] is None else int(window[2])
        source = attrs.evolve(source, snapshot=read, as_of=None, committed_by=None)
    elif window is not None:
        column, after, upto = window
        scope = Scope(column, after, upto, spec.watermark.lag if spec.watermark else None)
    source_rows: tuple[Rows, ...] = ()
    target_rows: tuple[Rows, ...] = ()
    target_own: tuple[str, ...] = ()
    merged = spec.mode in (Mode.SCD1, Mode.SCD2)
    if merged and spec.deletes and spec.deletes.column:
        source_rows = (Rows(spec.deletes.column, spec.deletes.value, negate=True),)
    if spec.mode is Mode.SCD2:
        target_rows = (Rows(IS_CURRENT, "true"),)
        target_own = HISTORY_COLUMNS + ((LOAD_TIME,) if spec.sequence is None else ())
    return ReconSpec(
        name=spec.name,
        source=source,
        target=target_endpoint(spec.target, run),
        keys=spec.keys,
        scope=scope,
        # A window's size is not a table's, nor are the rows an SCD run wrote: only a full
        # run's target is judged by the rows earlier runs wrote.
        thresholds=Thresholds(
            baseline_change=baseline_change if spec.mode is Mode.FULL and scope is None else None
        ),
        subject_override=spec.target.subject,
        pipeline=spec.name,
        # A merge keeps each key's latest change (SCD2: as its current version); a source
        # stamped by the run's load time has no order of its own, so it is read as it is.
        source_latest=spec.sequence if merged else None,
        source_rows=source_rows,
        target_rows=target_rows,
        target_own=target_own,
    )
