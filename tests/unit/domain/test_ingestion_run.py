"""The ingestion use case with in-memory adapters: what a run records and commits, and
what a failed run leaves behind (nothing)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from adapters.memory.ingestion import EngineFailure, InMemoryIngestionEngine
from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.memory.state import InMemoryStateStore
from domain.dataset import RunId
from domain.ingestion.run import GateRefused, RunPipeline
from domain.ingestion.spec import PipelineSpec, SourceSpec, TargetSpec
from domain.metadata import RecordKind, RunEventType
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import (
    IngestionRuntime,
    IngestionVolume,
    PrecisionCheck,
    RunEvent,
    SchemaDrift,
)
from domain.metadata.query import Order, RecordQuery
from domain.metadata.record import MetadataRecord
from domain.runs.lifecycle import RunLifecycle
from domain.schema import Column, DecimalType, IntegerType, Schema, StringType
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import DriftPolicy, PolicyBook, PrecisionMode, RemovedColumns

WIDE = Schema.from_columns([Column("id", IntegerType(64)), Column("name", StringType())])
NARROW = Schema.from_columns([Column("id", IntegerType(64))])
ROWS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
SPEC = PipelineSpec(
    name="orders",
    source=SourceSpec(kind="parquet", path="wide"),
    target=TargetSpec(kind="parquet", path="/warehouse/orders"),
    policy=DriftPolicy(removed_columns=RemovedColumns.FREEZE),
)


class Killed(BaseException):
    """The process stopped at a checkpoint (what SIGKILL does, as far as the run sees)."""


class World:
    def __init__(self, outbox: list[MetadataRecord] | None = None, kill_at: str = "") -> None:
        self.engine = InMemoryIngestionEngine(
            {"wide": (ROWS, WIDE), "narrow": ([{"id": 1}], NARROW)}, outbox=outbox
        )
        self.states = InMemoryStateStore()
        self.gateway = MetadataGateway(InMemoryMetadataRepository())
        ticks = itertools.count()
        start = datetime(2024, 5, 1, tzinfo=UTC)
        self.now = lambda: start + timedelta(seconds=next(ticks))
        drift = SchemaDriftCheck(
            GatewaySchemaBaselines(self.gateway), self.gateway, PolicyBook(SPEC.policy, {})
        )
        self.use_case = RunPipeline(
            self.engine,
            self.states,
            self.gateway,
            drift,
            self.now,
            checkpoint=self._killed(kill_at),
        )

    @staticmethod
    def _killed(point: str) -> Callable[[str], None]:
        def checkpoint(reached: str) -> None:
            if reached == point:
                raise Killed(point)

        return checkpoint

    def lifecycle(self) -> RunLifecycle:
        return RunLifecycle(self.gateway, SPEC.target.subject, RunId.new(), "ingestion", self.now)

    def events(self, run: RunLifecycle) -> list[str]:
        page = self.gateway.query(
            RecordQuery(kinds=[RecordKind.RUN_EVENT], run_id=run.run_id, order=Order.OLDEST_FIRST)
        )
        return [r.payload_as(RunEvent).event.value for r in page.records]


def test_a_run_commits_the_target_the_state_and_its_records() -> None:
    world = World()
    run = world.lifecycle()
    report = world.use_case.run(SPEC, run)
    assert world.engine.rows(SPEC) == tuple(ROWS)
    assert world.states.get("orders").last_run_id == run.run_id  # type: ignore[union-attr]
    assert world.events(run) == ["started", "succeeded"]
    volume = world.gateway.latest(RecordKind.INGESTION_VOLUME, SPEC.target.subject)
    assert volume is not None and volume.payload_as(IngestionVolume).rows_written == 2
    runtime = world.gateway.latest(RecordKind.INGESTION_RUNTIME, SPEC.target.subject)
    assert runtime is not None
    phases = [p.phase for p in runtime.payload_as(IngestionRuntime).phases]
    assert phases == ["read", "gate", "write"] and report.schema_changed


@pytest.mark.parametrize("step", ["read", "write", "commit"])
def test_a_failed_run_leaves_target_and_state_as_they_were(step: str) -> None:
    world = World()
    world.use_case.run(SPEC, world.lifecycle())
    before = (world.engine.rows(SPEC), world.states.get("orders"))
    world.engine.fail_at = step
    run = world.lifecycle()
    with pytest.raises(EngineFailure):
        world.use_case.run(SPEC, run)
    assert (world.engine.rows(SPEC), world.states.get("orders")) == before
    assert world.events(run) == ["started", "failed"]
    failed = world.gateway.latest(RecordKind.INGESTION_RUNTIME, SPEC.target.subject)
    assert failed is not None and failed.payload_as(IngestionRuntime).status.value == "failed"


def test_records_committed_with_the_data_exist_exactly_when_it_does() -> None:
    """An engine that commits the records with the data (a database target's outbox): a
    run stopped right after its commit has its records waiting; a commit that fails has
    none, and the gateway got none of them either way."""
    outbox: list[MetadataRecord] = []
    world = World(outbox=outbox, kill_at="committed")
    with pytest.raises(Killed):
        world.use_case.run(SPEC, world.lifecycle())
    assert world.engine.rows(SPEC) == tuple(ROWS)
    kinds = [r.kind for r in outbox]
    assert kinds == [
        RecordKind.SCHEMA_SNAPSHOT,
        RecordKind.INGESTION_VOLUME,
        RecordKind.INGESTION_RUNTIME,
    ]
    assert outbox[1].payload_as(IngestionVolume).rows_written == 2
    phases = [p.phase for p in outbox[2].payload_as(IngestionRuntime).phases]
    assert phases == ["read", "gate", "write"]
    assert world.gateway.latest(RecordKind.INGESTION_VOLUME, SPEC.target.subject) is None

    failing = World(outbox=[])
    failing.engine.fail_at = "commit"
    with pytest.raises(EngineFailure):
        failing.use_case.run(SPEC, failing.lifecycle())
    assert failing.engine.outbox == [] and failing.engine.rows(SPEC) is None


def test_the_drift_gate_refuses_before_anything_is_written() -> None:
    world = World()
    world.use_case.run(SPEC, world.lifecycle())
    before = world.engine.rows(SPEC)
    narrow = PipelineSpec(
        name="orders",
        source=SourceSpec(kind="parquet", path="narrow"),
        target=SPEC.target,
        policy=SPEC.policy,
    )
    with pytest.raises(GateRefused, match="name"):
        world.use_case.run(narrow, world.lifecycle())
    assert world.engine.rows(SPEC) == before
    drift = world.gateway.latest(RecordKind.SCHEMA_DRIFT, SPEC.target.subject)
    assert drift is not None and drift.payload_as(SchemaDrift).allowed is False


def test_a_rebuild_after_a_refused_drift_replaces_the_target_and_says_why() -> None:
    world = World()
    world.use_case.run(SPEC, world.lifecycle())
    narrow = attrs.evolve(SPEC, source=SourceSpec(kind="parquet", path="narrow"))
    with pytest.raises(GateRefused):
        world.use_case.run(narrow, world.lifecycle())
    run = world.lifecycle()
    report = world.use_case.run(narrow, run, rebuild=True)
    assert world.engine.rows(SPEC) == ({"id": 1},)  # the batch, under its schema
    assert report.plan.rebuild and report.plan.reasons[0].startswith("rebuild (--rebuild)")
    started = world.gateway.query(
        RecordQuery(kinds=[RecordKind.RUN_EVENT], run_id=run.run_id, order=Order.OLDEST_FIRST)
    ).records[0]
    assert "rebuild" in started.payload_as(RunEvent).message
    drift = world.gateway.latest(RecordKind.SCHEMA_DRIFT, SPEC.target.subject)
    assert drift is not None and drift.run_id == run.run_id
    assert drift.payload_as(SchemaDrift).allowed is True
    assert drift.payload_as(SchemaDrift).policy.startswith("rebuild (--rebuild)")
    runtime = world.gateway.latest(RecordKind.INGESTION_RUNTIME, SPEC.target.subject)
    assert runtime is not None
    assert runtime.payload_as(IngestionRuntime).plan[0].startswith("rebuild")
    # The next ordinary run is judged against the rebuilt schema: nothing to refuse.
    world.use_case.run(narrow, world.lifecycle())


def test_a_pipeline_naming_a_column_the_source_lacks_stops_before_any_write() -> None:
    from domain.ingestion.errors import SourceMismatch

    world = World()
    wrong = attrs.evolve(SPEC, mode=SPEC.mode, keys=("order_id",))
    with pytest.raises(SourceMismatch, match="keys 'order_id' not in the source"):
        world.use_case.run(wrong, world.lifecycle())
    assert world.engine.rows(SPEC) is None


def test_heartbeats_are_numbered_facts_and_stop_with_the_run() -> None:
    world = World()
    run = world.lifecycle()
    run.start()
    assert run.heartbeat() and run.heartbeat()
    run.succeed()
    assert not run.heartbeat()  # after the end, no more beats
    page = world.gateway.query(RecordQuery(kinds=[RecordKind.RUN_EVENT], run_id=run.run_id))
    beats = sorted(
        int(r.payload_as(RunEvent).beat or 0)
        for r in page.records
        if r.payload_as(RunEvent).event is RunEventType.RUNNING
    )
    assert beats == [1, 2]


AMOUNTS_TARGET = Schema.from_columns(
    [Column("id", IntegerType(64)), Column("amount", DecimalType(6, 2))]
)
AMOUNTS_BATCH = Schema.from_columns(
    [Column("id", IntegerType(64)), Column("amount", DecimalType(38, 10))]
)


def _precision_world(mode: PrecisionMode, amounts: list[str]) -> tuple[World, PipelineSpec]:
    world = World()
    spec = attrs.evolve(
        SPEC,
        source=SourceSpec(kind="parquet", path="amounts"),
        keys=("id",),
        policy=DriftPolicy(precision=mode),
    )
    world.engine.sources["first"] = ([{"id": 0, "amount": Decimal("1.00")}], AMOUNTS_TARGET)
    world.engine.sources["amounts"] = (
        [{"id": i + 1, "amount": Decimal(a)} for i, a in enumerate(amounts)],
        AMOUNTS_BATCH,
    )
    world.use_case.run(
        attrs.evolve(spec, source=SourceSpec(kind="parquet", path="first")), world.lifecycle()
    )
    return world, spec


def test_the_precision_gate_refuses_values_that_do_not_fit_naming_value_and_key() -> None:
    world, spec = _precision_world(PrecisionMode.BLOCK, ["12.5", "123456.7", "-99999.25"])
    before = world.engine.rows(spec)
    with pytest.raises(GateRefused) as refused:
        world.use_case.run(spec, world.lifecycle())
    message = str(refused.value)
    assert "column amount" in message and "decimal(6,2)" in message
    assert "123456.7" in message and "id=2" in message and "nothing was written" in message
    assert world.engine.rows(spec) == before
    check = world.gateway.latest(RecordKind.PRECISION_CHECK, spec.target.subject)
    assert check is not None and check.payload_as(PrecisionCheck).verdict.value == "violation"


def test_values_that_fit_are_written_in_the_targets_type() -> None:
    world, spec = _precision_world(PrecisionMode.BLOCK, ["12.5", "-9999.25"])
    world.use_case.run(spec, world.lifecycle())
    assert world.engine.target_schema(spec) == AMOUNTS_TARGET
    check = world.gateway.latest(RecordKind.PRECISION_CHECK, spec.target.subject)
    assert check is not None and check.payload_as(PrecisionCheck).verdict.value == "fits_observed"


def test_widen_writes_the_column_in_a_type_that_holds_the_values() -> None:
    world, spec = _precision_world(PrecisionMode.WIDEN, ["123456.75"])
    world.use_case.run(spec, world.lifecycle())
    widened = world.engine.target_schema(spec).column("amount")  # type: ignore[union-attr]
    assert (
        widened is not None
        and isinstance(widened.type, DecimalType)
        and widened.type.integer_digits >= 6
    )
    assert {r["amount"] for r in world.engine.rows(spec)} == {Decimal("123456.75")}  # type: ignore[union-attr]


def test_warn_writes_and_records_the_violation() -> None:
    world, spec = _precision_world(PrecisionMode.WARN, ["1.125"])
    world.use_case.run(spec, world.lifecycle())
    check = world.gateway.latest(RecordKind.PRECISION_CHECK, spec.target.subject)
    assert check is not None and check.payload_as(PrecisionCheck).verdict.value == "violation"
    assert check.payload_as(PrecisionCheck).largest_offending_value == "1.125"
