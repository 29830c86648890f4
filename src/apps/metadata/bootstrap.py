"""The composition root of the metadata app: the one place that builds adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.sql.catalog import SqlCatalog, SqlProfiler
from adapters.sql.engine import create_catalog_engine
from apps.bootstrap import services
from apps.services import Services
from apps.settings import Settings, load_settings
from domain.catalog.harvest import Harvest
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import PolicyBook


def sql_harvest(
    app: Services,
    url: str,
    schema: str | None,
    policies: PolicyBook,
    *,
    distinct: bool = True,
) -> Harvest:
    """A harvest of every table of one schema of the database at ``url``."""
    engine = create_catalog_engine(url)
    catalog = SqlCatalog(engine, schema)
    gateway = app.gateway()
    return Harvest(
        catalog,
        SchemaDriftCheck(app.baselines(), gateway, policies),
        gateway,
        SqlProfiler(engine, catalog, distinct=distinct),
    )


def bootstrap(
    settings: Settings | None = None, overrides: Mapping[type, Any] | None = None
) -> Services:
    """The metadata app's services (the store is opened on first use).

    ``overrides`` maps a registered type to the instance to use instead (tests put fakes in
    and real adapters out this way).
    """
    return services(settings or load_settings(), overrides)
