"""One reconciliation run: drift first, aggregates in one pass per side, the three-way and
baseline checks from the gateway's history, the key-level diff, ``recon_result`` records.

Pure use case over the ``ReconEngine`` port and the metadata gateway; its run lifecycle
(run_event STARTED, RUNNING, SUCCEEDED/FAILED) is the one every runtime shares.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import (
    IngestionRuntime,
    IngestionVolume,
    ReconResult,
    ReconStatus,
    RunStatus,
)
from domain.metadata.query import RecordQuery
from domain.metadata.record import MetadataRecord
from domain.recon import checks
from domain.recon.checks import KeyDiff
from domain.recon.compare import Alignment, align
from domain.recon.spec import Claim, ReconSpec
from domain.runs.lifecycle import RunLifecycle
from ports.recon import ReconEngine

PRODUCER = "recon"
BASELINE_RUNS = 5
INGESTION = "ingestion"


@attrs.frozen
class ReconReport:
    """What a run found: every check's result, and the diff's counts."""

    spec: str
    run_id: RunId
    subject: DatasetRef
    results: tuple[ReconResult, ...]
    alignment: Alignment
    diff: KeyDiff

    @property
    def passed(self) -> bool:
        return all(r.status is ReconStatus.PASSED for r in self.results)

    @property
    def status(self) -> ReconStatus:
        if any(r.status is ReconStatus.ERROR for r in self.results):
            return ReconStatus.ERROR
        return ReconStatus.PASSED if self.passed else ReconStatus.FAILED


class ReconRun:
    """Runs a spec through an engine and records the results through the gateway."""

    def __init__(
        self,
        engine: ReconEngine,
        gateway: MetadataGateway,
        now: Callable[[], datetime],
        *,
        summaries: Callable[[ReconReport, datetime, datetime], None] | None = None,
        to_gateway: bool = True,
    ) -> None:
        self._engine = engine
        self._gateway = gateway
        self._now = now
        self._summaries = summaries
        self._to_gateway = to_gateway

    def claim(self, subject: DatasetRef, run_id: RunId | None, whole: bool) -> Claim | None:
        """The ``ingestion_volume`` of the run (the newest into ``subject`` when None)."""
        if run_id is not None:
            found = self._gateway.query(
                RecordQuery(
                    kinds=[RecordKind.INGESTION_VOLUME], subject=subject, run_id=run_id, limit=1
                )
            ).records
            record = found[0] if found else None
        else:
            record = self._gateway.latest(RecordKind.INGESTION_VOLUME, subject)
        if record is None or not isinstance(record.payload, IngestionVolume):
            return None
        volume = record.payload
        return Claim(
            str(record.run_id), volume.rows_read, volume.rows_written, volume.rows_rejected, whole
        )

    def baseline(self, spec: ReconSpec) -> list[int]:
        """Recent row counts of the subject, newest first: for a pipeline, the rows its
        successful runs wrote (ingestion_volume of runs whose ingestion_runtime succeeded);
        otherwise the target rows of earlier passed ``row_count`` checks."""
        if spec.pipeline is not None:
            found = self._gateway.query(
                RecordQuery(
                    kinds=[RecordKind.INGESTION_VOLUME, RecordKind.INGESTION_RUNTIME],
                    subject=spec.subject,
                    producer=INGESTION,
                    limit=BASELINE_RUNS * 4,
                )
            ).records
            succeeded = {
                r.run_id
                for r in found
                if isinstance(r.payload, IngestionRuntime)
                and r.payload.status is RunStatus.SUCCEEDED
            }
            counts = [
                r.payload.rows_written
                for r in found
                if isinstance(r.payload, IngestionVolume) and r.run_id in succeeded
            ]
            # The newest is the run being checked: it is what is judged, not its baseline.
            return counts[1 : BASELINE_RUNS + 1]
        found = self._gateway.history(RecordKind.RECON_RESULT, spec.subject, limit=100).records
        return [
            int(r.payload.actual)
            for r in found
            if isinstance(r.payload, ReconResult)
            and r.payload.check == "row_count"
            and r.payload.status is ReconStatus.PASSED
            and r.payload.actual is not None
            and r.producer == PRODUCER
        ][:BASELINE_RUNS]

    def run(
        self,
        spec: ReconSpec,
        lifecycle: RunLifecycle,
        *,
        claim: Claim | None = None,
        output: str | None = None,
        phase: Callable[[str], None] | None = None,
    ) -> ReconReport:
        """One reconciliation; the engine's error is recorded (run_event FAILED, an
        ``error`` result) and raised."""
        step = phase or (lambda name: None)
        started_at = self._now()
        scope = spec.describe_scope()
        lifecycle.start(f"recon {spec.name}")
        recent = self.baseline(spec)
        try:
            step("schemas")
            source_schema, target_schema = self._engine.schemas(spec)
            alignment = align(spec, source_schema, target_schema)
            step("aggregates")
            source, target = self._engine.aggregates(spec, alignment)
            alignment = alignment.at(checks.units(source, target, alignment))
            results = [
                checks.schema_check(alignment, scope),
                checks.row_count(source.rows, target.rows, spec.thresholds, scope),
                checks.aggregates(source, target, alignment, scope),
                checks.row_hash(source, target, alignment, scope),
                checks.three_way(source.rows, claim, target.rows, scope),
                checks.baseline(target.rows, recent, spec.thresholds.baseline_change, scope),
            ]
            step("diff")
            found = self._engine.diff(spec, alignment, output)
            results.append(checks.key_diff(found, spec.thresholds, scope))
        except BaseException as failure:
            self._engine.close()
            reason = str(failure) or type(failure).__name__
            try:
                error = ReconResult(
                    check="run", status=ReconStatus.ERROR, detail=reason[:2000], scope=scope
                )
                if self._to_gateway:
                    self._gateway.emit(self._record(spec, lifecycle.run_id, error))
                lifecycle.fail(reason)
            except Exception:  # - the original failure is what the caller must see
                pass
            raise
        self._engine.close()
        report = ReconReport(
            spec.name, lifecycle.run_id, spec.subject, tuple(results), alignment, found
        )
        step("record")
        if self._to_gateway:
            self._gateway.emit_many(self._record(spec, lifecycle.run_id, r) for r in results)
        if self._summaries is not None:
            self._summaries(report, started_at, self._now())
        failed = [r.check for r in results if r.status is not ReconStatus.PASSED]
        if failed:
            lifecycle.fail_checks(failed)
        else:
            lifecycle.succeed("all checks passed")
        return report

    def _record(self, spec: ReconSpec, run_id: RunId, result: ReconResult) -> MetadataRecord:
        return MetadataRecord.create(
            subject=spec.subject,
            run_id=run_id,
            observed_at=self._now(),
            producer=PRODUCER,
            payload=result,
        )
