"""Pipeline files (TOML) -> PipelineSpec, with every error naming the file, the key and
the fix (``orders.toml: mode: expected one of full, append, scd1, scd2; got 'upsertt'``).

    name = "orders"
    mode = "full"                      # full | append | scd1 | scd2
    keys = ["order_id"]                # append, scd1: what makes a row the same (composite ok)
    sequence = "changed_seq"           # scd1: the business order of a key's changes

    [source]                           # any endpoint of the registry
    kind = "parquet"                   # parquet | csv | json | jdbc
    path = "data/orders"               # relative to this file; {home} is the platform home

    [target]
    kind = "parquet"                   # parquet | postgresql | sqlite
    path = "warehouse/orders"          # parquet: a directory; sqlite: the database file
    partition_by = ["status"]          # parquet only
    # url = "postgresql://user@host:5432/db"   # postgresql
    # table = "public.orders"                  # postgresql, sqlite

    [watermark]                        # mode append: the column runs advance by
    column = "updated_at"
    lag = "1h"                         # re-read late rows (a duration, or a number)
    null_cursor = "raise"              # raise | include | exclude

    [deletes]                          # rows marked so remove their key
    column = "op"
    value = "D"                        # or: missing_keys = true (scd1, full extracts)

    [policy]                           # the drift and precision policy of the target
    removed_columns = "freeze"

    [spark]                            # optional: master, conf
    master = "local[*]"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import cattrs

from adapters.files.toml_edge import explain, read_toml, toml_converter
from domain.ingestion.spec import (
    Deletes,
    Mode,
    NullCursor,
    PipelineSpec,
    SourceSpec,
    TargetSpec,
    Watermark,
)
from domain.schema.policy import DriftPolicy


class PipelineFileError(ValueError):
    """A pipeline file that cannot be used; the message names the file, the key and the fix."""


@attrs.frozen
class SourceTable:
    """A [source] table (a recon's [source] and [target] too): an endpoint of the registry."""

    kind: str
    path: str | None = None
    url: str | None = None
    table: str | None = None
    user: str | None = None
    password: str | None = None
    namespace: str | None = None
    dataset: str | None = None
    options: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class _Target:
    kind: str
    path: str | None = None
    partition_by: list[str] = attrs.field(factory=list)
    url: str | None = None
    table: str | None = None


@attrs.frozen
class _Watermark:
    column: str
    lag: str | None = None
    null_cursor: NullCursor = NullCursor.RAISE


@attrs.frozen
class _Deletes:
    column: str | None = None
    value: str = "true"
    missing_keys: bool = False


@attrs.frozen
class SparkTable:
    """The optional [spark] table: master and conf."""

    master: str = "local[*]"
    conf: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class _PipelineFile:
    name: str
    source: SourceTable
    target: _Target
    mode: Mode = Mode.FULL
    keys: list[str] = attrs.field(factory=list)
    policy: dict[str, Any] = attrs.field(factory=dict)
    watermark: _Watermark | None = None
    sequence: str | None = None
    deletes: _Deletes | None = None
    spark: SparkTable = SparkTable()


@attrs.frozen
class PipelineFile:
    """A pipeline file as read: the spec and the Spark settings it asks for."""

    path: Path
    spec: PipelineSpec
    spark_master: str
    spark_conf: dict[str, str]


def _home(home: Path | None) -> str:
    return str(home or Path("~/.dataplatform").expanduser().absolute())


def _resolved(base: Path, path: str | None, home: Path | None) -> str | None:
    if path is None or "://" in path:
        return path
    if "{home}" in path:
        path = path.replace("{home}", _home(home))
    candidate = Path(path).expanduser()
    return str(candidate if candidate.is_absolute() else (base / candidate).resolve())


def source_spec(base: Path, side: SourceTable, home: Path | None) -> SourceSpec:
    """The endpoint a [source] table names; relative paths are relative to ``base``."""
    return SourceSpec(
        kind=side.kind,
        path=_resolved(base, side.path, home),
        url=side.url,
        table=side.table,
        user=side.user,
        password=side.password,
        namespace=side.namespace,
        options=tuple(sorted(side.options.items())),
        dataset=side.dataset,
        home=_home(home),
    )


def load_pipeline(path: Path, home: Path | None = None) -> PipelineFile:
    """The pipeline in ``path``; relative paths in it are relative to the file, and
    ``{home}`` stands for the platform's home (``home``)."""
    data = read_toml(path, "pipeline", PipelineFileError)
    try:
        parsed = toml_converter().structure(data, _PipelineFile)
    except cattrs.BaseValidationError as invalid:
        raise PipelineFileError(
            f"{path}: {'; '.join(explain(invalid, empty='the file'))}"
        ) from None
    base = path.parent.resolve()
    try:
        policy = toml_converter().structure(parsed.policy, DriftPolicy)
    except cattrs.BaseValidationError as invalid:
        raise PipelineFileError(f"{path}: {'; '.join(explain(invalid, 'policy'))}") from None
    except ValueError as invalid:
        raise PipelineFileError(f"{path}: policy.{invalid}") from None

    def build(table: str, make: Any) -> Any:
        """The value ``make`` builds; its refusal names the file and the table."""
        try:
            return make()
        except ValueError as invalid:
            reason = str(invalid).removeprefix(f"{table}: ")
            raise PipelineFileError(
                f"{path}: {table}.{reason}" if table else f"{path}: {reason}"
            ) from None

    source = build("source", lambda: source_spec(base, parsed.source, home))
    target = build(
        "target",
        lambda: TargetSpec(
            kind=parsed.target.kind,
            path=_resolved(base, parsed.target.path, home),
            partition_by=tuple(parsed.target.partition_by),
            url=parsed.target.url,
            table=parsed.target.table,
            home=_home(home),
        ),
    )
    deletes, watermark = parsed.deletes, parsed.watermark
    if deletes is not None:
        deletes = build("", lambda: Deletes(deletes.column, deletes.value, deletes.missing_keys))
    if watermark is not None:
        watermark = build(
            "", lambda: Watermark(watermark.column, watermark.lag, watermark.null_cursor)
        )
    spec = build(
        "",
        lambda: PipelineSpec(
            name=parsed.name,
            source=source,
            target=target,
            mode=parsed.mode,
            keys=tuple(parsed.keys),
            policy=policy,
            watermark=watermark,
            sequence=parsed.sequence,
            deletes=deletes,
        ),
    )
    return PipelineFile(path, spec, parsed.spark.master, dict(parsed.spark.conf))
