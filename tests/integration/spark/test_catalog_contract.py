"""The Catalog (and Profiler) ports' contract, over every implementation: in memory, a SQL
schema read by SQLAlchemy's inspector (PostgreSQL, and a MariaDB database), and endpoints
read by Spark (the same tables through JDBC). It lives beside the Spark tests for their JVM.

Each catalog lists the same two tables in a stable order, gives their schemas with the
platform's types, refuses an unknown dataset naming it, and profiles a table's rows."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from adapters.memory.catalog import InMemoryCatalog
from adapters.spark.catalog import SparkCatalog
from adapters.spark.endpoints import endpoint_config
from adapters.spark.session import SparkSessionProvider
from adapters.sql.catalog import SqlCatalog, SqlProfiler
from domain.dataset import DatasetRef
from domain.ingestion.spec import SourceSpec
from domain.metadata.payloads import ColumnProfile, DatasetProfile
from domain.schema import Column, Schema
from domain.schema.types import DecimalType, IntegerType, StringType
from ports.catalog import Catalog, Profiler
from services import FreshSchema, fresh_mariadb, fresh_schema

ORDERS = Schema.from_columns(
    [
        Column("id", IntegerType(64), nullable=False),
        Column("amount", DecimalType(10, 2)),
        Column("note", StringType()),
    ]
)
CUSTOMERS = Schema.from_columns(
    [Column("id", IntegerType(64), nullable=False), Column("name", StringType())]
)


@pytest.fixture(scope="module")
def tables() -> Iterator[FreshSchema]:
    with fresh_schema() as schema:
        engine = create_engine(schema.server)
        with engine.begin() as connection:
            connection.execute(
                text(f'CREATE TABLE "{schema.name}".customers (id bigint PRIMARY KEY, name text)')
            )
            connection.execute(
                text(
                    f'CREATE TABLE "{schema.name}".orders (id bigint PRIMARY KEY, '
                    "amount numeric(10,2), note text)"
                )
            )
            connection.execute(
                text(
                    f"INSERT INTO \"{schema.name}\".orders VALUES (1, 1.25, 'a'), "
                    "(2, 20.50, NULL), (3, -3.00, 'c')"
                )
            )
        engine.dispose()
        yield schema


class Harness:
    """A catalog under test, its profiler, and how it names a table."""

    def __init__(self, catalog: Catalog, profiler: Profiler, names: dict[str, DatasetRef]) -> None:
        self.catalog = catalog
        self.profiler = profiler
        self.names = names


@pytest.fixture(scope="module")
def mariadb_tables() -> Iterator[FreshSchema]:
    with fresh_mariadb() as database:
        engine = create_engine(database.url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE customers (id bigint PRIMARY KEY, name text)"))
            connection.execute(
                text("CREATE TABLE orders (id bigint PRIMARY KEY, amount decimal(10,2), note text)")
            )
            connection.execute(
                text("INSERT INTO orders VALUES (1, 1.25, 'a'), (2, 20.50, NULL), (3, -3.00, 'c')")
            )
        engine.dispose()
        yield database


@pytest.fixture(params=["memory", "sql", "mariadb", "spark"])
def harness(request: pytest.FixtureRequest, tables: FreshSchema) -> Iterator[Harness]:
    if request.param == "memory":
        orders = DatasetRef.parse("memory://test::orders")
        customers = DatasetRef.parse("memory://test::customers")
        profile = DatasetProfile(
            3,
            (
                ColumnProfile("id", 0),
                ColumnProfile("amount", 0, min_value="-3.00", max_value="20.50"),
                ColumnProfile("note", 1),
            ),
        )
        held = InMemoryCatalog({customers: CUSTOMERS, orders: ORDERS}, {orders: profile})
        yield Harness(held, held, {"orders": orders, "customers": customers})
    elif request.param in ("sql", "mariadb"):
        where = tables if request.param == "sql" else request.getfixturevalue("mariadb_tables")
        engine = create_engine(where.server)
        inspected = SqlCatalog(engine, where.name)
        names = {ref.name.rsplit(".", 1)[-1]: ref for ref in inspected.datasets()}
        yield Harness(inspected, SqlProfiler(engine, inspected), names)
        engine.dispose()
    else:
        request.getfixturevalue("postgresql_jdbc")
        sessions: SparkSessionProvider = request.getfixturevalue("sessions")
        configs = [
            endpoint_config(
                name, SourceSpec(kind="jdbc", url=tables.jdbc(), table=f"{tables.name}.{name}")
            )
            for name in ("customers", "orders")
        ]
        endpoints = SparkCatalog(configs, sessions)
        names = {ref.name.rsplit(".", 1)[-1]: ref for ref in endpoints.datasets()}
        yield Harness(endpoints, endpoints, names)


def test_the_tables_are_listed_once_each_in_a_stable_order(harness: Harness) -> None:
    listed = list(harness.catalog.datasets())
    assert listed == list(harness.catalog.datasets())
    assert sorted(ref.name.rsplit(".", 1)[-1] for ref in listed) == ["customers", "orders"]


def test_a_tables_schema_has_the_platforms_types(harness: Harness) -> None:
    schema = harness.catalog.schema(harness.names["orders"])
    assert schema.names == ("id", "amount", "note")
    assert [c.type for c in schema.columns] == [c.type for c in ORDERS.columns]


def test_an_unknown_dataset_is_refused_naming_it(harness: Harness) -> None:
    orders = harness.names["orders"]
    unknown = DatasetRef(orders.namespace, orders.name.replace("orders", "nowhere"))
    with pytest.raises(Exception, match="nowhere"):
        harness.catalog.schema(unknown)


def test_a_profile_counts_the_rows_and_each_columns_nulls_and_range(harness: Harness) -> None:
    orders = harness.names["orders"]
    found = harness.profiler.profile(orders, ORDERS)
    assert found.row_count == 3
    columns = {c.name: c for c in found.columns}
    assert (columns["id"].nulls, columns["note"].nulls) == (0, 1)
    assert Decimal(columns["amount"].min_value or "nan") == Decimal("-3.00")
    assert Decimal(columns["amount"].max_value or "nan") == Decimal("20.50")
