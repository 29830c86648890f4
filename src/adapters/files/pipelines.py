"""Pipeline files (TOML) -> PipelineSpec, with every error naming the file, the key and
the fix (``orders.toml: mode: expected one of full, append, scd1, scd2; got 'upsertt'``).

    name = "orders"
    mode = "full"                      # full | append | scd1 | scd2
    keys = ["order_id"]                # append, scd1: what makes a row the same (composite ok)
    sequence = "changed_seq"           # scd1: the business order of a key's changes

    [source]                           # any endpoint of the registry
    kind = "parquet"                   # parquet | csv | json | jdbc | iceberg
    path = "data/orders"               # relative to this file; {home} is the platform home
    # url = "jdbc:postgresql://host:5432/db", table = "public.orders", user = "etl"  # jdbc
    # password_env = "ORDERS_DB_PASSWORD"      # or password_file = "secrets/orders"; with
    #                                          # neither, ~/.pgpass (PGPASSFILE) is read
    # dataset = "postgres://host:5432::db.public.orders"   # required when table is a query
    # table = "sales.orders"             # iceberg (catalog as for a target; snapshot = ID or
    #                                    # as_of = "2024-05-01T00:00:00Z" to read an older one)

    [source.columns]                   # declared types, applied on read (CSV: else all text);
    amount = "decimal(10,2)"           # a value that does not parse is a rejected row, named
    updated_at = "timestamp_tz"

    [target]
    kind = "iceberg"                   # iceberg | postgresql | sqlite (parquet: deprecated)
    table = "sales.orders"             # iceberg: namespace.name; postgresql, sqlite: a table
    partition_by = ["status", "day(ordered_at)"]   # iceberg: columns, day/month/year(ts)
    # catalog = "postgresql://user@host:5432/db"   # iceberg: the SQL catalog (default: a
    #                                              # SQLite one, {home}/iceberg/catalog.db)
    # location = "s3a://bucket/orders"     # iceberg: its files (default: under {home}/iceberg)

    [target.maintenance]               # iceberg: what `ingestion maintain` keeps
    keep_snapshots = 10                # the newest snapshots, whatever their age
    older_than = "7d"                  # and every snapshot younger than this
    after_each_run = false             # true: maintain after every successful run
    # url = "postgresql://user@host:5432/db"   # postgresql
    # path = "warehouse.db"                    # sqlite: the database file

    [watermark]                        # mode append: the column runs advance by (none: an
                                       # iceberg source into an iceberg target, by snapshot)
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
from urllib.parse import parse_qs, urlsplit

import attrs
import cattrs

from adapters.files.secrets import LITERAL_WARNING, Secret, password_of, pgpass_password
from adapters.files.toml_edge import SpecFile, explain, read_toml, toml_converter
from domain.ingestion.durations import Maintenance
from domain.ingestion.spec import (
    Deletes,
    Mode,
    NullCursor,
    PipelineSpec,
    SourceSpec,
    TargetSpec,
    Watermark,
)
from domain.schema import DataType, parse_type
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
    password: str | None = attrs.field(default=None, repr=False)
    password_env: str | None = None
    password_file: str | None = None
    namespace: str | None = None
    dataset: str | None = None
    options: dict[str, str] = attrs.field(factory=dict)
    columns: dict[str, str] = attrs.field(factory=dict)
    catalog: str | None = None  # iceberg: the SQL catalog (default: the home's)
    snapshot: int | None = None  # iceberg: read this snapshot (an id)
    as_of: str | None = None  # iceberg: read the snapshot current at this instant
    zero_dates: str = "refuse"  # MariaDB/MySQL: refuse | null


@attrs.frozen
class _Target:
    kind: str
    path: str | None = None
    partition_by: list[str] = attrs.field(factory=list)
    url: str | None = None
    table: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    catalog: str | None = None
    location: str | None = None
    maintenance: Maintenance = Maintenance()


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


PipelineFile = SpecFile[PipelineSpec]


def _home(home: Path | None) -> str:
    return str(home or Path("~/.dataplatform").expanduser().absolute())


def _resolved(base: Path, path: str | None, home: Path | None) -> str | None:
    if path is None or "://" in path:
        return path
    if "{home}" in path:
        path = path.replace("{home}", _home(home))
    candidate = Path(path).expanduser()
    return str(candidate if candidate.is_absolute() else (base / candidate).resolve())


def _url_password(where: str, url: str | None) -> Secret:
    """The password written into a database URL (``user:pw@`` or ``?password=``): it
    works, with the literal password warning."""
    if not url or "://" not in url:
        return Secret(None)
    parts = urlsplit(url.removeprefix("jdbc:"))
    found = parts.password or parse_qs(parts.query).get("password", [None])[0]
    return Secret(found, LITERAL_WARNING.format(where=f"{where}.url") if found else "")


def _pgpass(url: str | None, user: str | None) -> str | None:
    """For a PostgreSQL URL without a password: the ~/.pgpass (PGPASSFILE) line's."""
    if not url or not url.removeprefix("jdbc:").startswith(("postgresql", "postgres:")):
        return None
    parts = urlsplit(url.removeprefix("jdbc:"))
    query = parse_qs(parts.query)
    return pgpass_password(
        parts.hostname,
        parts.port,
        parts.path.lstrip("/") or None,
        user or parts.username or query.get("user", [None])[0] or "postgres",
    )


def source_spec(
    base: Path,
    side: SourceTable,
    home: Path | None,
    where: str = "source",
    warnings: list[str] | None = None,
) -> SourceSpec:
    """The endpoint a [source] table names; relative paths are relative to ``base``; its
    password from password_env, password_file, the URL or ~/.pgpass (a literal one adds a
    warning to ``warnings``)."""
    secret = password_of(
        where, literal=side.password, env=side.password_env, file=side.password_file, base=base
    )
    if secret.password is None:
        secret = _url_password(where, side.url)
    if secret.warning and warnings is not None:
        warnings.append(secret.warning)
    password = secret.password
    if password is None and side.kind == "jdbc":
        password = _pgpass(side.url, side.user)
    if warnings is not None and side.kind == "csv" and not side.columns:
        guessed = side.options.get("inferSchema", "").lower() == "true"
        warnings.append(
            f"{where}: a csv source without [{where}.columns] is read "
            + ("with types Spark guesses (money as double)" if guessed else "as text, every column")
            + '; declare the types, e.g. [source.columns] amount = "decimal(10,2)", '
            'updated_at = "timestamp_tz"'
        )
    return SourceSpec(
        kind=side.kind,
        catalog=_catalog(base, side.catalog, home) if side.kind == "iceberg" else None,
        snapshot=side.snapshot,
        as_of=side.as_of,
        path=_resolved(base, side.path, home),
        url=side.url,
        table=side.table,
        user=side.user,
        password=password,
        namespace=side.namespace,
        options=tuple(sorted(side.options.items())),
        dataset=side.dataset,
        home=_home(home),
        columns=_declared(where, side.columns),
        zero_dates=side.zero_dates,
    )


def _declared(where: str, columns: dict[str, str]) -> tuple[tuple[str, DataType], ...]:
    """[source.columns] as (name, type) pairs; a type that does not parse names its key."""
    declared = []
    for name, text in columns.items():
        try:
            declared.append((name, parse_type(text.strip().lower())))
        except ValueError as invalid:
            raise ValueError(f"{where}.columns.{name}: {invalid}") from None
    return tuple(declared)


def _target_spec(base: Path, target: _Target, home: Path | None, warnings: list[str]) -> TargetSpec:
    secret = password_of(
        "target", literal=None, env=target.password_env, file=target.password_file, base=base
    )
    if secret.password is None:
        secret = _url_password("target", target.url or target.catalog)
        if secret.warning:
            warnings.append(secret.warning)
    password = secret.password
    if password is None and target.kind in ("postgresql", "iceberg"):
        password = _pgpass(target.catalog if target.kind == "iceberg" else target.url, None)
    catalog = location = None
    if target.kind == "iceberg":
        catalog, location = iceberg_places(
            base, target.table or "", home, target.catalog, target.location
        )
    return TargetSpec(
        kind=target.kind,
        path=_resolved(base, target.path, home),
        partition_by=tuple(target.partition_by),
        url=target.url,
        table=target.table,
        home=_home(home),
        password=password,
        catalog=catalog,
        location=location,
        maintenance=target.maintenance,
    )


def _catalog(base: Path, catalog: str | None, home: Path | None) -> str:
    """An Iceberg catalog's URL: the home's SQLite catalog by default; a relative SQLite
    path is relative to the file."""
    catalog = catalog or f"sqlite:///{Path(_home(home)) / 'iceberg' / 'catalog.db'}"
    if catalog.startswith("sqlite:///") and not catalog.startswith("sqlite:////"):
        relative = catalog.removeprefix("sqlite:///").replace("{home}", _home(home))
        catalog = f"sqlite:///{_resolved(base, relative, home)}"
    return catalog


def iceberg_places(
    base: Path, table: str, home: Path | None, catalog: str | None, location: str | None
) -> tuple[str, str]:
    """An Iceberg table's catalog URL and its files' location: by default a SQLite catalog
    and a warehouse under the platform home (a relative path is relative to ``base``)."""
    root = Path(_home(home)) / "iceberg"
    namespace, _, name = table.partition(".")
    placed = _resolved(base, location, home) or str(root / "warehouse" / namespace / name)
    return _catalog(base, catalog, home), placed


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
            named = not table or reason.startswith((f"{table}.", f"{table}:"))
            raise PipelineFileError(
                f"{path}: {reason}" if named else f"{path}: {table}.{reason}"
            ) from None

    warnings: list[str] = []
    source = build("source", lambda: source_spec(base, parsed.source, home, "source", warnings))
    target = build("target", lambda: _target_spec(base, parsed.target, home, warnings))
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
    return PipelineFile(
        path,
        spec,
        parsed.spark.master,
        dict(parsed.spark.conf),
        tuple(f"{path}: {warning}" for warning in warnings),
    )
