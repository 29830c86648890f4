"""Composition of a Spark-backed harvest (endpoints from a TOML file).

Kept apart from bootstrap.py and imported only when an endpoint file is harvested, so the
metadata app starts without a JVM and its PEX can leave pyspark to the cluster.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from adapters.spark.catalog import SparkCatalog
from adapters.spark.endpoints import drivers_of, load_endpoints
from adapters.spark.session import SparkSessionProvider, SparkSettings
from apps.services import Services
from domain.catalog.harvest import Harvest
from domain.metadata.gateway import MetadataGateway
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import PolicyBook
from ports.baselines import SchemaBaselines


def spark_harvest(
    services: Services, config: Path, policies: PolicyBook, *, distinct: bool = True
) -> tuple[Harvest, SparkSessionProvider]:
    endpoints, spark = load_endpoints(config)
    settings = SparkSettings(
        master=str(spark.get("master", "local[*]")),
        jars={str(k): str(v) for k, v in dict(spark.get("jars", {})).items()},
        conf={str(k): str(v) for k, v in dict(spark.get("conf", {})).items()},
    )
    home = services.store.settings.home
    sessions = SparkSessionProvider(
        attrs.evolve(settings, app_name="metadata-harvest", log_dir=str(home / "logs")),
        drivers_of(endpoints),
    )
    catalog = SparkCatalog(endpoints, sessions, distinct=distinct)
    gateway: MetadataGateway = services.gateway()
    baselines: SchemaBaselines = services.baselines()
    return (
        Harvest(catalog, SchemaDriftCheck(baselines, gateway, policies), gateway, catalog),
        sessions,
    )
