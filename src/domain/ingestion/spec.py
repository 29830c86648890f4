"""A pipeline: where rows come from, where they go, and how a run loads them.

Values only; the TOML edge (``adapters/files/pipelines.py``) builds them and names the file,
the key and the fix for every problem.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import attrs

from domain.dataset import DatasetRef
from domain.identity import DatasetNameError, file_ref, iceberg_ref, sqlite_ref, url_ref
from domain.ingestion.durations import Maintenance, lag_amount
from domain.schema import DataType
from domain.schema.policy import DriftPolicy

LOAD_TIME = "loaded_at"  # SCD2 without a sequence: the run stamps its batch with it
# An SCD2 target's own columns beside the source's: a version's span, whether it is the open
# one, whether it is a delete's tombstone, and every change it stands for.
VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"
IS_DELETED, SEQUENCES = "is_deleted", "sequences"
HISTORY_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT, IS_DELETED, SEQUENCES)
SOURCE_KINDS = ("parquet", "csv", "json", "jdbc", "iceberg")
TARGET_KINDS = ("iceberg", "parquet", "postgresql", "sqlite")
DATABASE_TARGETS = ("postgresql", "sqlite")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
_ICEBERG_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\.[A-Za-z_][A-Za-z0-9_]{0,127}$")
# An Iceberg target's partition field: a column, or day/month/year of a timestamp or date.
_PARTITION = re.compile(r"^(?:(day|month|year)\(\s*([^()\s]+)\s*\)|([^()\s]+))$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Mode(enum.Enum):
    FULL = "full"
    APPEND = "append"
    SCD1 = "scd1"
    SCD2 = "scd2"


class NullCursor(enum.Enum):
    """What an incremental load does with rows whose watermark is NULL."""

    RAISE = "raise"
    INCLUDE = "include"
    EXCLUDE = "exclude"


def _pipeline_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"name: expected 1-128 letters, digits and '._-' starting with a letter or digit, "
            f"got {value!r}"
        )


def _one_of(*allowed: str):  # type: ignore[no-untyped-def]
    def check(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in allowed:
            expected = ", ".join(allowed)
            raise ValueError(f"{attribute.name}: expected one of {expected}; got {value!r}")

    return check


@attrs.frozen
class SourceSpec:
    """An endpoint of the registry (parquet, csv, json files; a jdbc table)."""

    kind: str = attrs.field(validator=_one_of(*SOURCE_KINDS))
    path: str | None = None
    url: str | None = None
    table: str | None = None
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    namespace: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    # The dataset this side is, as namespace::name: required when ``table`` is a query.
    dataset: str | None = None
    # Declared column types ([source.columns]), applied on read: a value that does not
    # parse is a rejected row, named, never a silent NULL.
    columns: tuple[tuple[str, DataType], ...] = ()
    home: str | None = None  # the platform home: files under it are named relative to it
    # An Iceberg table (``table``: namespace.name in the SQL ``catalog``), read at its current
    # snapshot, at ``snapshot`` (an id), ``as_of`` (an ISO instant) or the run ``committed_by``'s.
    catalog: str | None = None
    snapshot: int | None = None
    as_of: str | None = None
    committed_by: str | None = None
    # MariaDB/MySQL dates 0000-00-00: "refuse" the read (default) or read them as "null".
    zero_dates: str = attrs.field(default="refuse", validator=_one_of("refuse", "null"))

    def __attrs_post_init__(self) -> None:
        if self.kind == "jdbc" and not (self.url and self.table):
            raise ValueError("source: a jdbc source needs url and table")
        if self.kind == "iceberg":
            if not (self.catalog and _ICEBERG_TABLE.match(self.table or "")):
                raise ValueError(
                    "source: an iceberg source needs table (namespace.name, e.g. "
                    '"sales.orders") and catalog (the pipeline file defaults it to the home\'s)'
                )
            if sum(x is not None for x in (self.snapshot, self.as_of, self.committed_by)) > 1:
                raise ValueError("source: give one of snapshot and as_of, not both")
        elif self.kind != "jdbc" and not self.path:
            raise ValueError(f"source: a {self.kind} source needs path")
        if self.dataset is not None:
            try:
                DatasetRef.parse(self.dataset)
            except ValueError as invalid:
                raise ValueError(f"source: dataset: {invalid}") from None
        elif self.is_query and not self.namespace:
            raise ValueError(
                "source: a side that is a query names its dataset, e.g. "
                'dataset = "postgres://db:5432::sales.public.orders" (the table it stands for)'
            )

    @property
    def is_query(self) -> bool:
        """Whether ``table`` is a query (``(select ...) q``) rather than a table's name."""
        return self.kind == "jdbc" and (
            "(" in (self.table or "") or " " in (self.table or "").strip()
        )

    @property
    def subject(self) -> DatasetRef:
        """The dataset this side reads, in its one canonical spelling (domain.identity)."""
        if self.dataset is not None:
            return DatasetRef.parse(self.dataset)
        if self.namespace:
            return DatasetRef(self.namespace, self.table or self.path or "dataset")
        if self.kind == "iceberg":
            return iceberg_ref(self.catalog or "", self.table or "", self.home)
        if self.kind == "jdbc":
            try:
                return url_ref(self.url or "", self.table or "")
            except DatasetNameError:  # a database this module does not name (oracle, ...)
                location = (self.url or "").removeprefix("jdbc:").split("?", 1)[0]
                return DatasetRef(location.split("@")[-1], self.table or "")
        return file_ref(self.path or "", self.home)


@attrs.frozen
class TargetSpec:
    """Where the rows land: an Iceberg table (``table`` as ``namespace.name`` in the SQL
    ``catalog``, its files under ``location``), a versioned Parquet directory (deprecated),
    or a table of a PostgreSQL database (``url``, ``table`` as ``schema.table`` or
    ``table``) or of a SQLite file (``path``, ``table``)."""

    kind: str = attrs.field(validator=_one_of(*TARGET_KINDS))
    path: str | None = None
    partition_by: tuple[str, ...] = ()
    url: str | None = None
    table: str | None = None
    # The platform home: a target under it is named relative to it (a moved home keeps
    # its history).
    home: str | None = None
    # A database target's password when it is not in the URL (password_env, password_file,
    # ~/.pgpass): never shown.
    password: str | None = attrs.field(default=None, repr=False)
    # An Iceberg target: its SQL catalog (a SQLAlchemy URL) and where its files live.
    catalog: str | None = None
    location: str | None = None
    maintenance: Maintenance = Maintenance()

    def __attrs_post_init__(self) -> None:
        if self.kind == "iceberg":
            self._check_iceberg()
        if self.kind == "parquet" and not self.path:
            raise ValueError("target: a parquet target needs path")
        if self.kind == "sqlite" and not (self.path and self.table):
            raise ValueError(
                "target: a sqlite target needs path (the database file) and table, e.g. "
                'path = "warehouse.db", table = "orders"'
            )
        if self.kind == "postgresql":
            if not (self.url and self.table):
                raise ValueError(
                    "target: a postgresql target needs url and table, e.g. url = "
                    '"postgresql://user@host:5432/db", table = "public.orders"'
                )
            parts = urlsplit(self.url)
            if parts.scheme.split("+")[0] not in ("postgresql", "postgres") or not parts.path[1:]:
                raise ValueError(
                    f"target: url {self.url!r} is not a PostgreSQL URL; write "
                    f"postgresql://user@host:5432/database"
                )
        if self.is_database:
            if not _TABLE.match(self.table or ""):
                raise ValueError(
                    f"target: table {self.table!r} is not a table name; write letters, digits "
                    f"and '_' (and one '.' after the schema), e.g. public.orders"
                )
            if self.partition_by:
                raise ValueError(
                    "target: partition_by is for parquet targets; partition a database "
                    "table in the database"
                )

    def _check_iceberg(self) -> None:
        if not (self.catalog and self.location):
            raise ValueError(
                "target: an iceberg target needs catalog and location (the pipeline file "
                "defaults them to the platform home)"
            )
        if not _ICEBERG_TABLE.match(self.table or ""):
            raise ValueError(
                f"target: table {self.table!r} is not an Iceberg table name; write "
                "namespace.name in letters, digits and '_', e.g. table = \"sales.orders\""
            )
        scheme = self.catalog.split(":", 1)[0]
        if scheme.split("+", 1)[0] not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                f"target: catalog is not a SQL catalog URL (its scheme is {scheme!r}); write "
                "sqlite:///path/catalog.db or postgresql://user@host:5432/database"
            )
        for field in self.partition_by:
            if _PARTITION.match(field) is None:
                raise ValueError(
                    f"target: partition_by {field!r} is not a partition field; write a "
                    'column ("region") or day, month or year of a timestamp ("day(ordered_at)")'
                )

    @property
    def partition_fields(self) -> tuple[tuple[str | None, str], ...]:
        """An Iceberg target's partition fields as (transform or None, column)."""
        fields = []
        for text in self.partition_by:
            match = _PARTITION.match(text)
            assert match is not None
            fields.append((match.group(1), match.group(2) or match.group(3)))
        return tuple(fields)

    @property
    def is_database(self) -> bool:
        return self.kind in DATABASE_TARGETS

    @property
    def is_iceberg(self) -> bool:
        return self.kind == "iceberg"

    @property
    def schema_and_table(self) -> tuple[str | None, str]:
        """(schema, table) of a database target; the schema is None when not given."""
        schema, _, table = (self.table or "").rpartition(".")
        return schema or None, table

    @property
    def subject(self) -> DatasetRef:
        """The target in its one canonical spelling (domain.identity): the subject of the
        metadata records, whichever runtime writes them."""
        if self.kind == "postgresql":
            return url_ref(self.url or "", self.table or "")
        if self.kind == "sqlite":
            return sqlite_ref(self.path or "", self.schema_and_table[1])
        if self.kind == "iceberg":
            return iceberg_ref(self.catalog or "", self.table or "", self.home)
        return file_ref(self.path or "", self.home)


def _lag(instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        lag_amount(value)


@attrs.frozen
class Watermark:
    """The column incremental loads advance by; ``lag`` re-reads that much before the
    committed watermark (late rows), without loading any row twice."""

    column: str
    lag: str | None = attrs.field(default=None, validator=_lag)
    null_cursor: NullCursor = NullCursor.RAISE


@attrs.frozen
class Deletes:
    """How a batch says a key is gone: a marker ``column`` holding ``value``, or, with
    ``missing_keys``, by not holding the key at all (the batch is a full extract)."""

    column: str | None = None
    value: str = "true"
    missing_keys: bool = False

    def __attrs_post_init__(self) -> None:
        if (self.column is None) == (not self.missing_keys):
            raise ValueError(
                "deletes: give either column (and value) for a marker, or missing_keys = true "
                "when every batch is a full extract"
            )


@attrs.frozen
class PipelineSpec:
    """One pipeline; ``policy`` is the target's drift and precision policy."""

    name: str = attrs.field(validator=_pipeline_name)
    source: SourceSpec
    target: TargetSpec
    mode: Mode = Mode.FULL
    keys: tuple[str, ...] = ()
    policy: DriftPolicy = DriftPolicy()
    watermark: Watermark | None = None
    sequence: str | None = None
    deletes: Deletes | None = None

    @property
    def change_order(self) -> str | None:
        """The column that orders a key's changes: ``sequence``, or for SCD2 without one
        the load time each run stamps on its batch (``loaded_at``)."""
        if self.mode is Mode.SCD2 and self.sequence is None:
            return LOAD_TIME
        return self.sequence

    def __attrs_post_init__(self) -> None:
        if self.mode in (Mode.SCD1, Mode.SCD2) and not self.keys:
            raise ValueError(
                f'keys: mode {self.mode.value} needs the key columns, e.g. keys = ["order_id"] '
                "(composite keys: list them all)"
            )
        if self.deletes is not None and self.deletes.missing_keys and self.mode is not Mode.SCD1:
            raise ValueError(
                "deletes.missing_keys: only mode scd1 reads each batch as a full extract; "
                "use a marker column for scd2"
            )
        if self.mode is Mode.APPEND and self.watermark is None and not self.by_snapshot:
            raise ValueError(
                "watermark: mode append needs a [watermark] table with the column it advances "
                'by, e.g. [watermark] column = "updated_at" (or, from an iceberg table into '
                "an iceberg target, none: each run reads what snapshots appended since the last)"
            )

    @property
    def by_snapshot(self) -> bool:
        """An Iceberg source read by snapshot: the rows appended since the last run's."""
        return self.watermark is None and self.source.kind == "iceberg" and self.target.is_iceberg

    def missing_columns(self, columns: Sequence[str]) -> str | None:
        """What the pipeline names that the source (with ``columns``) lacks, as one line
        naming the keys and the fix, or None: checked before any job runs."""
        present = {name.lower() for name in columns}
        named = [
            *(("keys", k) for k in self.keys),
            *((("sequence", self.sequence),) if self.sequence else ()),
            *((("watermark.column", self.watermark.column),) if self.watermark else ()),
            *(
                (("deletes.column", self.deletes.column),)
                if self.deletes is not None and self.deletes.column
                else ()
            ),
        ]
        missing = [(key, name) for key, name in named if name.lower() not in present]
        if not missing:
            return None
        said = ", ".join(f"{key} {name!r}" for key, name in missing)
        return (
            f"{self.name}: {said} not in the source, whose columns are "
            f"{', '.join(columns)}; fix the pipeline's names"
        )
