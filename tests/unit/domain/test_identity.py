"""One table, one reference: every way of writing its location gives the same one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dataset import DatasetRef
from domain.identity import DatasetNameError, canonical, file_ref, iceberg_ref, url_ref
from domain.ingestion.spec import SourceSpec, TargetSpec

identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9]{0,5}){0,2}", fullmatch=True),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda p: ".".join(map(str, p))),
    st.just("::1"),
)
secrets = st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _upper(text: str, flip: bool) -> str:
    return text.upper() if flip else text


@given(
    host=hosts,
    port=st.one_of(st.none(), st.integers(1, 65535)),
    database=identifiers,
    schema=st.one_of(st.none(), identifiers),
    table=identifiers,
    user=secrets,
    password=secrets,
    flip=st.booleans(),
)
def test_every_way_of_writing_a_postgresql_table_gives_one_reference(
    host: str,
    port: int | None,
    database: str,
    schema: str | None,
    table: str,
    user: str,
    password: str,
    flip: bool,
) -> None:
    server = _bracketed(host) + ("" if port is None else f":{port}")
    effective = port or 5432
    qualified = table if schema is None else f"{schema}.{table}"
    full_schema = schema or "public"
    expected = DatasetRef(
        f"postgres://{_bracketed(host)}:{effective}", f"{database}.{full_schema}.{table}"
    )
    ways = [
        url_ref(f"postgresql://{user}:{password}@{server}/{database}?sslmode=require", qualified),
        url_ref(f"postgresql+psycopg://{_upper(server, flip)}/{database}", qualified),
        url_ref(
            f"jdbc:postgresql://{server}/{database}?user={user}&password={password}",
            _upper(qualified, flip),
        ),
        url_ref(f"postgres://{server}/{database}", f"{database}.{full_schema}.{table}"),
        TargetSpec(
            kind="postgresql", url=f"postgresql://{server}/{database}", table=qualified
        ).subject,
        SourceSpec(
            kind="jdbc", url=f"jdbc:postgresql://{server}/{database}", table=qualified
        ).subject,
        # the spellings stores hold from before: a recon's and ingestion's
        canonical(DatasetRef(f"postgresql://{server}/{database}", f"{full_schema}.{table}")),
        canonical(DatasetRef(f"postgres://{server}", f"{database}.{full_schema}.{table}")),
    ]
    assert set(ways) == {expected}
    for way in ways:
        assert user not in str(way) or user in str(expected)  # credentials never count
        assert canonical(way) == way


@given(
    path=st.lists(identifiers, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)),
    table=identifiers,
)
def test_every_way_of_writing_a_sqlite_table_gives_one_reference(path: str, table: str) -> None:
    file = f"{path}.db"
    expected = DatasetRef(f"sqlite://{file}", table)
    ways = [
        url_ref(f"jdbc:sqlite:{file}", table),
        url_ref(f"sqlite:///{file}", f"main.{table}"),
        TargetSpec(kind="sqlite", path=file, table=table).subject,
        SourceSpec(kind="jdbc", url=f"jdbc:sqlite:{file}", table=table).subject,
        canonical(DatasetRef(f"sqlite:{file}", table)),  # a recon's, from before
        canonical(DatasetRef(f"sqlite://{file}", table)),
    ]
    assert set(ways) == {expected}


@given(
    home=st.lists(identifiers, min_size=1, max_size=3).map(lambda p: "/" + "/".join(p)),
    moved=st.lists(identifiers, min_size=1, max_size=3).map(lambda p: "/" + "/".join(p)),
    relative=st.lists(identifiers, min_size=1, max_size=3).map("/".join),
)
def test_a_file_under_the_home_keeps_its_name_when_the_home_moves(
    home: str, moved: str, relative: str
) -> None:
    here = file_ref(f"{home}/{relative}", home)
    assert here == DatasetRef("home", relative)
    assert file_ref(f"{moved}/{relative}", moved) == here
    assert TargetSpec(kind="parquet", path=f"{home}/{relative}", home=home).subject == here
    assert canonical(DatasetRef("file", f"{home}/{relative}"), home) == here


def test_a_file_outside_the_home_is_named_by_its_absolute_path() -> None:
    assert file_ref("/data/orders", "/srv/platform/.dataplatform") == DatasetRef(
        "file", "/data/orders"
    )
    assert (
        file_ref("/srv/platform/.dataplatform-old/x", "/srv/platform/.dataplatform").namespace
        == "file"
    )


def test_mysql_names_database_and_table() -> None:
    expected = DatasetRef("mysql://db:3306", "shop.orders")
    assert url_ref("jdbc:mariadb://db/shop", "orders") == expected
    assert url_ref("mysql+pymysql://root:pw@DB:3306/shop", "Orders") == expected
    assert canonical(DatasetRef("mysql://db:3306", "shop.orders")) == expected


def test_a_query_side_must_name_its_dataset() -> None:
    with pytest.raises(ValueError, match="dataset = "):
        SourceSpec(kind="jdbc", url="jdbc:postgresql://h/db", table="(select 1 as id) q")
    side = SourceSpec(
        kind="jdbc",
        url="jdbc:postgresql://h/db",
        table="(select 1 as id) q",
        dataset="postgres://h:5432::db.public.orders",
    )
    assert side.subject == DatasetRef("postgres://h:5432", "db.public.orders")
    with pytest.raises(ValueError, match="source: dataset:"):
        SourceSpec(kind="parquet", path="/x", dataset="orders")


def test_urls_that_name_no_table_say_how_to_write_one() -> None:
    with pytest.raises(DatasetNameError, match="not a database URL"):
        url_ref("http://example/x", "t")
    with pytest.raises(DatasetNameError, match="port is not a number"):
        url_ref("postgresql://h:port/db", "t")
    with pytest.raises(DatasetNameError) as error:
        url_ref("oracle://scott:tiger@h/db", "t")
    assert "tiger" not in str(error.value)


def test_references_it_does_not_know_stay_as_they_are() -> None:
    for ref in (
        DatasetRef("postgres://warehouse:5432", "sales.public.orders"),
        DatasetRef("s3://bucket", "orders"),
        DatasetRef("kafka://broker:9092", "orders"),
        DatasetRef("postgres://warehouse:5432", "orders"),
    ):
        assert canonical(ref) == ref


def test_an_iceberg_table_is_named_by_its_catalog_whichever_runtime_names_it() -> None:
    """A pipeline's Iceberg target, the same table as a recon or source side, and harvest's
    absolute spelling of it: one subject (its catalog relative to the home); a PostgreSQL
    catalog by host, port and database, credentials left out."""
    home = "/srv/platform"
    catalog = "sqlite:////srv/platform/iceberg/catalog.db"
    location = "/srv/platform/iceberg/warehouse/sales/orders"
    target = TargetSpec(
        kind="iceberg", table="Sales.Orders", catalog=catalog, location=location, home=home
    )
    side = SourceSpec(kind="iceberg", table="sales.orders", catalog=catalog, home=home)
    expected = DatasetRef("iceberg://~/iceberg/catalog.db", "sales.orders")
    assert target.subject == side.subject == expected
    absolute = iceberg_ref(catalog, "sales.orders", None)
    assert absolute.namespace == "iceberg:///srv/platform/iceberg/catalog.db"
    assert canonical(absolute, home) == expected
    shared = iceberg_ref(
        "postgresql+psycopg://etl:secret@DB.example:6543/lake", "sales.orders", home
    )
    assert shared == DatasetRef("iceberg://db.example:6543/lake", "sales.orders")
    with pytest.raises(ValueError, match="catalog is not a SQL catalog URL"):
        TargetSpec(kind="iceberg", table="sales.orders", catalog="mysql://x/y", location=location)
    with pytest.raises(ValueError, match="not an Iceberg table name"):
        TargetSpec(kind="iceberg", table="orders", catalog=catalog, location=location)
