"""Use cases: record schema drift, and check precision between two datasets.

Baselines come through the SchemaBaselines port; findings leave as records through the
metadata gateway (`schema_drift`, `precision_check`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

import attrs

from domain.dataset import DatasetRef, RunId
from domain.metadata.errors import MetadataError
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import ColumnChange, PrecisionCheck, SchemaDrift, SchemaSnapshot
from domain.metadata.record import MetadataRecord
from domain.schema.diff import SchemaDiff, diff
from domain.schema.drift import DriftDecision, evaluate
from domain.schema.policy import DriftPolicy, PolicyBook, PrecisionMode
from domain.schema.precision import PrecisionFinding, check_column
from domain.schema.schema import Schema
from ports.baselines import SchemaBaselines

# A rebuild replaces the dataset under its new schema: every change is taken.
REBUILD = DriftPolicy.evolve_everything()


class MissingBaseline(MetadataError):
    """A dataset the check needs has no schema snapshot yet."""


def compare(old: Schema, new: Schema, policy: DriftPolicy) -> DriftDecision:
    """Diff two schemas and judge the changes under ``policy``."""
    return evaluate(
        diff(old, new, renames=policy.renames, naive_timezone=policy.naive_timezone), policy
    )


def column_changes(found: SchemaDiff) -> tuple[ColumnChange, ...]:
    """A diff's changes as the drift record states them (types as canonical strings)."""
    return tuple(
        ColumnChange(
            column=c.column,
            change=c.kind,
            old_type=None if c.old is None else str(c.old.type),
            new_type=None if c.new is None else str(c.new.type),
            classification=c.change.label if c.change else None,
            detail=c.detail,
        )
        for c in found.changes
    )


def drift_payload(
    old: Schema, new: Schema, decision: DriftDecision, policy: DriftPolicy
) -> SchemaDrift:
    return SchemaDrift(
        from_fingerprint=old.fingerprint,
        to_fingerprint=new.fingerprint,
        changes=column_changes(decision.diff),
        allowed=decision.allowed,
        violations=tuple(str(v) for v in decision.violations),
        policy=policy.describe(),
    )


def precision_check(finding: PrecisionFinding) -> PrecisionCheck:
    """The ``precision_check`` payload of one finding of the guardrail."""
    proposed = finding.proposed_type
    return PrecisionCheck(
        source_column=finding.source.name,
        target_column=finding.target.name,
        source_type=str(finding.source.type),
        target_type=str(finding.target.type),
        verdict=finding.verdict,
        detail=finding.detail,
        largest_offending_value=finding.largest_offending_value,
        proposed_type=None if proposed is None else str(proposed),
    )


@attrs.frozen
class DriftReport:
    """What observing a schema found: the baseline, the decision, the records emitted."""

    subject: DatasetRef
    baseline: Schema | None
    schema: Schema
    decision: DriftDecision | None
    emitted: tuple[MetadataRecord, ...]

    @property
    def changed(self) -> bool:
        return self.baseline is None or self.baseline.fingerprint != self.schema.fingerprint


class SchemaDriftCheck:
    """Observe a dataset's schema: record a snapshot when it changed, and the drift."""

    def __init__(
        self, baselines: SchemaBaselines, gateway: MetadataGateway, policies: PolicyBook
    ) -> None:
        self._baselines = baselines
        self._gateway = gateway
        self._policies = policies

    def observe(self, report: DriftReport) -> DriftReport:
        """Record what ``judge`` found: the snapshot when the schema changed, and its drift,
        with the report's other records (a profile of the same observation) in the same
        batch: all of them or none."""
        if report.emitted:
            self._gateway.emit_many(report.emitted)
        return report

    def judge(
        self,
        subject: DatasetRef,
        schema: Schema,
        *,
        run_id: RunId,
        producer: str,
        observed_at: datetime,
        with_records: Sequence[MetadataRecord] = (),
        rebuild: bool = False,
    ) -> DriftReport:
        """What to record of ``schema`` (``emitted``), emitting nothing: ``observe`` records
        it, or a caller commits the records itself (with the data they describe). ``rebuild``: the dataset is
        replaced under the new schema by an operator's choice, so its drift is allowed and
        says so (policy "rebuild"), whatever the dataset's policy."""
        baseline_record = self._baselines.latest_snapshot(subject)
        baseline = (
            baseline_record.payload.schema
            if baseline_record is not None and isinstance(baseline_record.payload, SchemaSnapshot)
            else None
        )
        if baseline is not None and baseline.fingerprint == schema.fingerprint:
            return DriftReport(subject, baseline, schema, None, tuple(with_records))

        record = partial(
            MetadataRecord.create,
            subject=subject,
            run_id=run_id,
            observed_at=observed_at,
            producer=producer,
        )

        records = [record(payload=SchemaSnapshot(schema))]
        decision = None
        if baseline is not None:
            policy = REBUILD if rebuild else self._policies.policy_for(subject)
            decision = compare(baseline, schema, policy)
            payload = drift_payload(baseline, schema, decision, policy)
            if rebuild:
                payload = attrs.evolve(payload, policy=f"rebuild (--rebuild): {payload.policy}")
            records.append(record(payload=payload))
        records.extend(with_records)
        return DriftReport(subject, baseline, schema, decision, tuple(records))


class PrecisionGuard:
    """Check that the values of a source dataset fit the columns of a target dataset."""

    def __init__(self, baselines: SchemaBaselines, gateway: MetadataGateway) -> None:
        self._baselines = baselines
        self._gateway = gateway

    def _schema(self, subject: DatasetRef, role: str) -> Schema:
        record = self._baselines.latest_snapshot(subject)
        if record is None or not isinstance(record.payload, SchemaSnapshot):
            raise MissingBaseline(
                f"{role} {subject}: no schema_snapshot recorded; harvest it (`metadata harvest`) "
                f"or emit a schema_snapshot record first"
            )
        return record.payload.schema

    def check(
        self,
        source: DatasetRef,
        target: DatasetRef,
        *,
        mode: PrecisionMode,
        run_id: RunId,
        producer: str,
        observed_at: datetime,
        emit: bool = True,
    ) -> list[PrecisionFinding]:
        """One finding per column the two datasets share (matched by name, case-insensitively)."""
        source_schema = self._schema(source, "source")
        target_schema = self._schema(target, "target")
        profile = self._baselines.latest_profile(source)
        profiles = {c.name.lower(): c for c in profile.columns} if profile is not None else {}
        findings = []
        for column in source_schema.columns:
            target_column = target_schema.column(column.name)
            if target_column is None:
                continue
            findings.append(
                check_column(column, target_column, profiles.get(column.name.lower()), mode)
            )
        if emit and findings:
            self._gateway.emit_many(
                MetadataRecord.create(
                    subject=target,
                    run_id=run_id,
                    observed_at=observed_at,
                    producer=producer,
                    payload=precision_check(f),
                )
                for f in findings
            )
        return findings
