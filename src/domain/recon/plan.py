"""Where a reconciliation computes, and how its key diff is cut, each decision explained
in a sentence (the recon planner; pure).

- Both sides tables of one PostgreSQL database, no column compared within a tolerance:
  the database computes everything (aggregates, and the key diff by segment checksums with
  the hashing pushed down to it; PostgreSQL's native 64-bit ``hashtextextended``), no Spark.
- Otherwise (other engines, two databases, files, float tolerances): both sides are read in
  Spark and the diff is a join on the keys.
- Segments: buckets of the key's hash, about ``ROWS_PER_SEGMENT`` rows each; a differing
  segment is split ``FAN_OUT`` ways until it holds at most ``LEAF_ROWS`` rows, whose keys and
  row hashes are then pulled; when most segments differ (dense differences), splitting
  further costs more than pulling, so the differing segments are pulled at once.
"""

from __future__ import annotations

import enum
from urllib.parse import urlsplit

import attrs

from domain.recon.spec import ReconSpec

ROWS_PER_SEGMENT = 32
FAN_OUT = 16
LEAF_ROWS = 64
MAX_SEGMENTS = 2**20
DENSE_SHARE = 0.5


class Method(enum.Enum):
    SQL = "sql"
    SPARK = "spark"


@attrs.frozen
class Segments:
    """How the SQL diff cuts the key space: ``count`` buckets first, then ``fan_out`` ways
    per differing bucket until a bucket holds at most ``leaf_rows`` rows."""

    count: int
    fan_out: int = FAN_OUT
    leaf_rows: int = LEAF_ROWS
    dense_share: float = DENSE_SHARE

    def __attrs_post_init__(self) -> None:
        if self.count < 1 or self.fan_out < 2 or self.leaf_rows < 1:
            raise ValueError(
                f"segments: count >= 1, fan_out >= 2 and leaf_rows >= 1, got {self.count}, "
                f"{self.fan_out}, {self.leaf_rows}"
            )


def database_of(url: str | None) -> tuple[str, str, int, str] | None:
    """(engine, host, port, database) of a ``jdbc:postgresql://`` URL; None otherwise."""
    if not url or not url.startswith("jdbc:postgresql://"):
        return None
    parts = urlsplit(url.removeprefix("jdbc:"))
    return ("postgresql", parts.hostname or "localhost", parts.port or 5432, parts.path.lstrip("/"))


def method(spec: ReconSpec) -> tuple[Method, str]:
    """Where ``spec`` computes, and why."""
    source = database_of(spec.source.url) if spec.source.kind == "jdbc" else None
    target = database_of(spec.target.url) if spec.target.kind == "jdbc" else None
    if source is None or target is None:
        kinds = f"{_kind(spec.source.kind, spec.source.url)} and {_kind(spec.target.kind, spec.target.url)}"
        return Method.SPARK, (
            f"the sides are {kinds}: both are read in Spark and the key diff joins (key, row "
            f"hash) pulls on the keys"
        )
    if source != target:
        return Method.SPARK, (
            "the sides are two PostgreSQL databases: both are read in Spark (a portable hash) "
            "and joined on the keys"
        )
    if spec.source_latest is not None:
        return Method.SPARK, (
            f"the source is a change log read as its latest row per key by "
            f"{spec.source_latest}: both sides are read in Spark and joined on the keys"
        )
    declared = [name for side in (spec.source, spec.target) for name, _ in side.columns]
    if declared:
        return Method.SPARK, (
            f"{', '.join(declared)} have declared types ([source.columns], [target.columns]), "
            f"applied as the sides are read: both are read in Spark and joined on the keys"
        )
    tolerant = [name for name, rule in spec.rules if rule.absolute or rule.relative]
    if tolerant:
        return Method.SPARK, (
            f"{', '.join(tolerant)} compare within a tolerance, which a row hash cannot: both "
            f"sides are read in Spark and compared column by column"
        )
    return Method.SQL, (
        f"both sides are tables of one PostgreSQL database ({source[3]}): the database "
        f"computes the aggregates and the key diff by segment checksums of its native 64-bit "
        f"hash, bisecting the segments that differ; no Spark"
    )


def _kind(kind: str, url: str | None) -> str:
    if kind != "jdbc":
        return f"{kind} files"
    return "a SQLite table" if (url or "").startswith("jdbc:sqlite:") else "a JDBC table"


def segments(rows: int) -> Segments:
    """About ``ROWS_PER_SEGMENT`` rows per first-level segment, a power of two."""
    count = 1
    while count * ROWS_PER_SEGMENT < rows and count < MAX_SEGMENTS:
        count *= 2
    return Segments(count)


def explain(found: Segments, rows: int) -> str:
    return (
        f"{rows:,} rows cut into {found.count:,} segments of the key hash (~{max(1, rows // found.count)} "
        f"rows each), differing ones split {found.fan_out} ways down to {found.leaf_rows} rows"
    )
