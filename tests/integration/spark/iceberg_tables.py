"""Iceberg tables as the tests read them back: with the runtime's own reader (Spark over
the snapshot's files) and with a second engine, DuckDB and its iceberg extension (from PyPI,
loaded from its file: nothing is fetched)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.table import Table
from pyspark.sql import DataFrame, SparkSession
from read_back import duckdb_select

import adapters.sql.run_access as run_access
from adapters.iceberg.tables import IcebergTable, open_catalog
from adapters.spark.iceberg_read import read_snapshot
from adapters.sql.target_urls import catalog_url

EXAMPLES = Path(__file__).parents[3] / "examples"


def iceberg_pipeline(
    directory: Path, example: str, identifier: str, target_extra: str = ""
) -> Path:
    """The example pipeline ``example`` writing the Iceberg table ``identifier``."""
    text = (EXAMPLES / "pipelines" / f"{example}.toml").read_text()
    # The [target] table, up to the next table, written anew.
    text = re.sub(
        r"^\[target\]\n.*?(?=^\[)",
        f'[target]\nkind = "iceberg"\ntable = "{identifier}"\n{target_extra}\n\n',
        text,
        count=1,
        flags=re.M | re.S,
    )
    text = text.replace("../datasets/", f"{EXAMPLES / 'datasets'}/").replace(
        'master = "local[*]"', 'master = "local[1]"'
    )
    path = directory / f"{example}.toml"
    path.write_text(text)
    return path


def pipeline_file(
    directory: Path,
    name: str,
    *,
    source: Path | str,
    target: str,
    mode: str = "full",
    keys: Sequence[str] = (),
    sequence: str | None = None,
    sections: Mapping[str, str] | None = None,
    file_name: str | None = None,
) -> Path:
    """A pipeline file: ``name`` in ``mode`` from the Parquet ``source`` (a path; or the
    body of its [source] table, a string holding ``kind =``) into ``target`` (the body of
    its [target] table), with more tables (``sections``: name -> body) and a one-core
    Spark; the one builder the tests share."""
    lines = [f'name = "{name}"', f'mode = "{mode}"']
    if keys:
        lines.append("keys = [" + ", ".join(f'"{k}"' for k in keys) + "]")
    if sequence is not None:
        lines.append(f'sequence = "{sequence}"')
    if isinstance(source, str) and "kind =" in source:
        lines += ["[source]", source, "[target]", target]
    else:
        lines += ["[source]", 'kind = "parquet"', f'path = "{source}"', "[target]", target]
    for table, body in (sections or {}).items():
        lines += [f"[{table}]", body]
    lines += ["[spark]", 'master = "local[1]"']
    path = directory / (file_name or f"{name}.toml")
    path.write_text("\n".join(lines) + "\n")
    return path


def home_catalog(home: Path) -> str:
    """The SQLite catalog of a platform home (what pipelines use without a catalog key)."""
    return f"sqlite:///{home / 'iceberg' / 'catalog.db'}"


def iceberg_target(catalog: str, identifier: str) -> str:
    """The body of a pipeline's [target] table writing ``identifier`` in ``catalog`` (its
    files where a pipeline puts them by default: the home's warehouse)."""
    return f'kind = "iceberg"\ntable = "{identifier}"\ncatalog = "{catalog}"'


def subject(catalog: str, identifier: str) -> str:
    """How a person names the table to ``metadata`` and recon: the home's catalog relative
    to the home (``~``), a PostgreSQL catalog by its server and database."""
    if catalog.startswith("sqlite:"):
        assert catalog.endswith("/iceberg/catalog.db"), "a home's catalog"
        return f"iceberg://~/iceberg/catalog.db::{identifier}"
    server = catalog.split("@", 1)[1].split("?", 1)[0]
    return f"iceberg://{server}::{identifier}"


def _opened(catalog: str, identifier: str) -> IcebergTable:
    return IcebergTable(open_catalog(catalog_url(catalog)), identifier, "")


def table(catalog: str, identifier: str) -> Table:
    found = _opened(catalog, identifier).table
    assert found is not None, f"no iceberg table {identifier} in {catalog}"
    return found


def runs(catalog: str, identifier: str) -> list[str | None]:
    """The runs whose snapshots the table holds (the summaries' run ids), oldest first."""
    return [
        None if s.summary is None else s.summary.get("dataplatform.run-id")
        for s in table(catalog, identifier).snapshots()
    ]


def table_exists(catalog: str, identifier: str) -> bool:
    return _opened(catalog, identifier).table is not None


def spark_read(
    spark: SparkSession, catalog: str, identifier: str, snapshot: int | None = None
) -> DataFrame:
    """The table (at ``snapshot``, else the current one) as the runtime reads it."""
    return read_snapshot(spark, _opened(catalog, identifier), snapshot)


def duckdb_rows(
    catalog: str, identifier: str, select: str, snapshot: int | None = None
) -> list[tuple[Any, ...]]:
    """``select`` (its FROM clause is ``t``) over the table as DuckDB reads it."""
    return duckdb_select(table(catalog, identifier).metadata_location, select, snapshot)


def parquet_variant(pipeline: Path, directory: Path, folder: str | None = None) -> Path:
    """``pipeline`` (an example writing an Iceberg table) writing a versioned Parquet
    directory ``{home}/warehouse/<folder>`` instead (the deprecated layout, which targets
    made before Iceberg still use); the file written in ``directory``."""
    name = folder or pipeline.stem
    text = re.sub(
        r'^kind = "iceberg"\ntable = "[^"]*"\n(partition_by = [^\n]*\n)?',
        lambda m: f'kind = "parquet"\npath = "{{home}}/warehouse/{name}"\n' + (m.group(1) or ""),
        pipeline.read_text(),
        count=1,
        flags=re.M,
    ).replace('master = "local[*]"', 'master = "local[1]"')
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


@contextmanager
def legacy_parquet_targets() -> Iterator[None]:
    """Runs in this process may make a new versioned Parquet target, as the code before
    Iceberg targets did: for the tests of that deprecated layout, which still writes the
    targets made before (every new one is refused: ``run_access.parquet_problem``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_access, "parquet_problem", lambda spec: None)
        yield
