"""The ingestion use case: plan, read, gate, commit, record; all of it or none of it.

A run's data and its commit marker are committed by the engine in one atomic step; the
records follow (or, where the engine can, are committed in the same step, into the target's
outbox), then the state. A run that stops after the commit but before the state write
is recognised by the next one through the target's commit marker (``committed_version``):
what the target shows is what was committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from domain.dataset import RunId
from domain.ingestion.errors import AccessProblem, SourceMismatch
from domain.ingestion.gate import GateVerdict, judge
from domain.ingestion.legacy import Outputs
from domain.ingestion.plan import PastRun, Plan, plan
from domain.ingestion.run_records import PRODUCER, succeeded_message, success_records, summary
from domain.ingestion.run_records import record as run_record
from domain.ingestion.spec import PipelineSpec
from domain.ingestion.state import PipelineState
from domain.metadata import RecordKind
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import (
    IngestionRuntime,
    IngestionVolume,
    PhaseTiming,
    RunStatus,
)
from domain.metadata.query import RecordQuery
from domain.metadata.record import MetadataRecord
from domain.runs.lifecycle import RunLifecycle
from domain.schema import Schema
from domain.schema.checks import DriftReport, SchemaDriftCheck, drift_payload, precision_check
from ports.ingestion import Batch, IngestionEngine, LegacyOutputs, StateStore, Written

__all__ = ["PRODUCER", "GateRefused", "RunPipeline", "RunReport"]


class GateRefused(Exception):
    """The drift or precision gate refused the batch; nothing was written."""


@attrs.frozen
class RunReport:
    """What one run did."""

    run_id: RunId
    plan: Plan
    written: Written
    phases: tuple[PhaseTiming, ...]
    schema_changed: bool
    rejections: tuple[str, ...] = ()  # why rows were left out on read (declared types)
    notes: tuple[str, ...] = ()  # what the read changed by the source's policy, named


class _Phases:
    """Times each phase of a run with a monotonic clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._timings: list[PhaseTiming] = []
        self._name: str | None = None
        self._since = clock()

    def enter(self, name: str) -> None:
        self.close()
        self._name, self._since = name, self._clock()

    def close(self) -> tuple[PhaseTiming, ...]:
        if self._name is not None:
            seconds = max(0.0, self._clock() - self._since)
            self._timings.append(PhaseTiming(self._name, round(seconds, 6)))
            self._name = None
        return tuple(self._timings)


class RunPipeline:
    """Runs pipelines through the engine, the state store and the metadata gateway."""

    def __init__(
        self,
        engine: IngestionEngine,
        states: StateStore,
        gateway: MetadataGateway,
        drift_check: SchemaDriftCheck,
        now: Callable[[], datetime],
        clock: Callable[[], float] = time.monotonic,
        checkpoint: Callable[[str], None] | None = None,
        outputs: Outputs = Outputs.BOTH,
        legacy: LegacyOutputs | None = None,
    ) -> None:
        self._engine = engine
        self._outputs = outputs
        self._legacy = legacy if outputs.legacy else None
        # Named points between the steps of a run, for crash tests.
        self._checkpoint = checkpoint or (lambda point: None)
        self._states = states
        self._gateway = gateway
        self._drift_check = drift_check
        self._now = now
        self._clock = clock

    def state(self, spec: PipelineSpec) -> PipelineState | None:
        """The pipeline's state, reconciled with the target's commit marker: a run that
        committed but was stopped before its state write is what the target shows, so the
        marker wins."""
        state = self._states.get(spec.name)
        committed = self._engine.committed(spec)
        if committed is None or (state is not None and state.last_run_id.value == committed.run_id):
            return state
        run, rows, watermark = RunId(committed.run_id), committed.rows_written, committed.watermark
        return PipelineState(spec.name, run, self._now(), rows, watermark)

    def plan(
        self, spec: PipelineSpec, *, full_refresh: bool = False, rebuild: bool = False
    ) -> Plan:
        """The next run's plan: from the state, a probe of the source and the history of
        earlier runs in the metadata store."""
        return plan(
            spec,
            self.state(spec),
            full_refresh=full_refresh,
            probe=self._engine.probe(spec),
            history=self.history(spec),
            rebuild=rebuild,
        )

    def history(self, spec: PipelineSpec, runs: int = 10) -> tuple[PastRun, ...]:
        """The last ``runs`` successful runs into the target: rows read and the seconds
        their read and write took, oldest first."""
        found = self._gateway.query(
            RecordQuery(
                kinds=[RecordKind.INGESTION_RUNTIME, RecordKind.INGESTION_VOLUME],
                subject=spec.target.subject,
                producer=PRODUCER,
                limit=runs * 2,
            )
        ).records
        volumes = {
            r.run_id: r.payload.rows_read
            for r in found
            if isinstance(r.payload, IngestionVolume) and r.run_id is not None
        }
        past = []
        for record in found:
            payload = record.payload
            if not isinstance(payload, IngestionRuntime) or record.run_id not in volumes:
                continue
            if payload.status is not RunStatus.SUCCEEDED:
                continue
            seconds = sum(p.seconds for p in payload.phases if p.phase in ("read", "write"))
            past.append(PastRun(volumes[record.run_id], seconds))
        return tuple(reversed(past))

    def preview(
        self, spec: PipelineSpec, *, full_refresh: bool = False, rebuild: bool = False
    ) -> tuple[Plan, GateVerdict | None]:
        """The next run's plan and the gate's verdict on the batch it would read (none for
        a rebuild, which asks no gate); writes nothing (reads the source's schema, and the
        values the precision gate needs)."""
        self._writable(spec)
        decided = self.plan(spec, full_refresh=full_refresh, rebuild=rebuild)
        batch = self._checked(spec, self._engine.read(spec, decided))
        return decided, None if rebuild else self.gate(spec, batch)

    def _writable(self, spec: PipelineSpec) -> None:
        """Refuse a source the run could not read or a target it could not write before
        anything starts (no engine job, no records): said at once, not after a read."""
        problem = self._engine.access_problem(spec)
        if problem is not None:
            raise AccessProblem(problem)

    @staticmethod
    def _checked(spec: PipelineSpec, batch: Batch) -> Batch:
        """``batch``, once the columns the pipeline names are found in it (before any job
        writes: a wrong key is said by name, not by the engine's failure)."""
        missing = spec.missing_columns([c.name for c in batch.schema.columns])
        if missing:
            raise SourceMismatch(missing)
        return batch

    def gate(self, spec: PipelineSpec, batch: Batch) -> GateVerdict | None:
        """The drift and precision verdict on writing ``batch`` (None before the target
        exists: the first run sets its schema)."""
        baseline = self._engine.target_schema(spec)
        if baseline is None:
            return None
        return judge(
            spec.name,
            baseline,
            batch.schema,
            spec.policy,
            profile=lambda columns: self._engine.profile(batch, columns),
            key_of=lambda column, value: self._engine.key_of(batch, column, value, spec.keys),
        )

    def _findings(
        self, spec: PipelineSpec, run_id: RunId, verdict: GateVerdict
    ) -> list[MetadataRecord]:
        """The precision gate's findings as ``precision_check`` records of the target."""
        return [
            self._record(
                spec,
                run_id,
                precision_check(f),
            )
            for f in verdict.findings
        ]

    def run(
        self,
        spec: PipelineSpec,
        lifecycle: RunLifecycle,
        *,
        full_refresh: bool = False,
        rebuild: bool = False,
        phase: Callable[[str], None] | None = None,
    ) -> RunReport:
        """One run of ``spec``; raises :class:`GateRefused` or the engine's error after
        recording the failure (run_event FAILED, ingestion_runtime failed). ``rebuild``
        replaces the target under the batch's schema without asking the gate, and says so
        in the run's records (its start, its plan, a drift allowed as "rebuild")."""
        run_id = lifecycle.run_id
        started_at = self._now()
        phases = _Phases(self._clock)

        def enter(name: str) -> None:
            phases.enter(name)
            if phase is not None:
                phase(name)
            self._log(spec, run_id, "phase", phase=name)

        self._writable(spec)
        lifecycle.start(
            f"pipeline {spec.name}" + (" (rebuild: the target is replaced)" if rebuild else "")
        )
        self._log(spec, run_id, "started", strategy=spec.mode.value)
        current = self.plan(spec, full_refresh=full_refresh, rebuild=rebuild)
        findings: list[MetadataRecord] = []
        try:
            enter("read")
            batch = self._checked(spec, self._engine.read(spec, current))
            self._checkpoint("read")
            enter("gate")
            verdict = None if rebuild else self.gate(spec, batch)
            if verdict is not None:
                findings = self._findings(spec, run_id, verdict)
                if not verdict.allowed:
                    self._record_refusal(spec, run_id, verdict, findings)
                    raise GateRefused(verdict.refusal)
                if verdict.types:
                    batch = self._engine.conform(batch, verdict.types)
            drift = self._judge(spec, run_id, batch.schema, rebuild)
            self._checkpoint("gated")
            enter("write")
            # Where the engine can, the records are committed with the data (a database
            # target's outbox): a run's ingestion_volume exists exactly when its data does.
            in_commit = drift is not None and self._engine.records_in_commit(spec)

            def run_records(written: Written) -> list[MetadataRecord]:
                nonlocal drift  # an Iceberg target: its schema is the table's, as committed
                if written.schema is not None:
                    drift = self._judge(spec, run_id, written.schema, rebuild)
                assert drift is not None
                records = success_records(
                    spec, run_id, current, written, started_at, self._now(), phases.close()
                )
                return [*drift.emitted, *findings, *records]

            written = self._engine.write(
                spec,
                batch,
                current,
                run_id,
                (lambda w: self._gateway.checked(run_records(w))) if in_commit else None,
            )
            self._checkpoint("committed")
            timings = phases.close()
            if phase is not None:
                phase("record")
            if drift is not None and not in_commit:
                self._gateway.emit_many(run_records(written))
            changed = True if drift is None else drift.changed
            if self._legacy is not None:
                self._legacy.summary(
                    summary(spec, run_id, current, started_at, self._now(), "succeeded", written)
                )
            self._checkpoint("recorded")
            self._states.put(
                PipelineState(
                    spec.name, run_id, self._now(), written.rows_written, written.watermark
                )
            )
            self._checkpoint("stated")
        except BaseException as failure:
            timings = phases.close()
            self._record_failure(spec, lifecycle, current, started_at, timings, failure)
            raise
        lifecycle.succeed(succeeded_message(written))
        self._log(spec, run_id, "succeeded", rows_written=written.rows_written)
        return RunReport(run_id, current, written, timings, changed, batch.rejections, batch.notes)

    def _judge(
        self, spec: PipelineSpec, run_id: RunId, schema: Schema, rebuild: bool = False
    ) -> DriftReport | None:
        """The schema snapshot and drift records of the target under ``schema`` (None when
        the run writes no records to the gateway); a rebuild's drift is allowed, as one."""
        if not self._outputs.gateway:
            return None
        return self._drift_check.judge(
            spec.target.subject,
            schema,
            run_id=run_id,
            producer=PRODUCER,
            observed_at=self._now(),
            rebuild=rebuild,
        )

    def _log(self, spec: PipelineSpec, run_id: RunId, event: str, **fields: object) -> None:
        if self._legacy is not None:
            self._legacy.log(spec.name, run_id.value, event, **fields)

    def _record(self, spec: PipelineSpec, run_id: RunId, payload: Any) -> MetadataRecord:
        return run_record(spec, run_id, self._now(), payload)

    def _record_refusal(
        self,
        spec: PipelineSpec,
        run_id: RunId,
        verdict: GateVerdict,
        findings: list[MetadataRecord],
    ) -> None:
        """What the gate refused, recorded before the run fails: the drift and the
        precision findings."""
        baseline = self._engine.target_schema(spec)
        records = list(findings)
        if baseline is not None and not verdict.drift.allowed:
            payload = drift_payload(baseline, verdict.judged, verdict.drift, spec.policy)
            records.insert(0, self._record(spec, run_id, payload))
        if records and self._outputs.gateway:
            self._gateway.emit_many(records)

    def _record_failure(
        self,
        spec: PipelineSpec,
        lifecycle: RunLifecycle,
        current: Plan,
        started_at: datetime,
        timings: tuple[PhaseTiming, ...],
        failure: BaseException,
    ) -> None:
        reason = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        try:
            self._log(spec, lifecycle.run_id, "failed", error=reason)
            if self._legacy is not None:
                self._legacy.summary(
                    summary(
                        spec, lifecycle.run_id, current, started_at, self._now(), "failed", None
                    )
                )
        except Exception:  # - the original failure is what the caller must see
            pass
        try:
            if not self._outputs.gateway:
                lifecycle.fail(reason)
                return
            self._gateway.emit(
                self._record(
                    spec,
                    lifecycle.run_id,
                    IngestionRuntime(
                        strategy=current.strategy.value,
                        started_at=started_at,
                        finished_at=max(self._now(), started_at),
                        status=RunStatus.FAILED,
                        phases=timings,
                        plan=current.reasons,
                    ),
                )
            )
            lifecycle.fail(reason)
        except Exception:  # - the original failure is what the caller must see
            pass
