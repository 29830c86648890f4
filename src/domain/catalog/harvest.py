"""Harvest a catalog: snapshot every dataset's schema, record drift, optionally profile.

One dataset failing (permissions, a bad file, a type it cannot read) is reported and the
others still harvest; a dataset's snapshot, drift and profile are stored together or not
at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import DatasetProfile
from domain.metadata.record import MetadataRecord
from domain.schema import Schema
from domain.schema.checks import SchemaDriftCheck
from ports.catalog import Catalog, Profiler

Progress = Callable[[int, int, DatasetRef], None]


@attrs.frozen
class HarvestOutcome:
    """What harvesting one dataset did."""

    subject: DatasetRef
    columns: int | None = None
    rows: int | None = None
    drift: str = ""
    error: str | None = None
    schema: Schema | None = None
    profile: DatasetProfile | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Harvest:
    """The harvesting use case; collaborators come in through ports and the gateway."""

    def __init__(
        self,
        catalog: Catalog,
        drift_check: SchemaDriftCheck,
        gateway: MetadataGateway,
        profiler: Profiler | None = None,
    ) -> None:
        self._catalog = catalog
        self._drift_check = drift_check
        self._gateway = gateway
        self._profiler = profiler

    def run(
        self,
        *,
        run_id: RunId,
        producer: str,
        now: Callable[[], datetime],
        profile: bool = False,
        progress: Progress | None = None,
    ) -> list[HarvestOutcome]:
        if profile and self._profiler is None:
            raise ValueError("profiling was asked for but this catalog has no profiler")
        subjects = list(self._catalog.datasets())
        outcomes = []
        for index, subject in enumerate(subjects):
            if progress is not None:
                progress(index, len(subjects), subject)
            outcomes.append(
                self._one(subject, run_id=run_id, producer=producer, now=now, profile=profile)
            )
        if progress is not None and subjects:
            progress(len(subjects), len(subjects), subjects[-1])
        return outcomes

    def _one(
        self,
        subject: DatasetRef,
        *,
        run_id: RunId,
        producer: str,
        now: Callable[[], datetime],
        profile: bool,
    ) -> HarvestOutcome:
        try:
            schema = self._catalog.schema(subject)
            # Profile first: a table whose profile fails stores nothing of this harvest,
            # not a snapshot without its profile.
            dataset_profile = None
            profile_records: tuple[MetadataRecord, ...] = ()
            if profile:
                assert self._profiler is not None
                dataset_profile = self._profiler.profile(subject, schema)
                profile_records = (
                    MetadataRecord.create(
                        subject=subject,
                        run_id=run_id,
                        observed_at=now(),
                        producer=producer,
                        payload=dataset_profile,
                    ),
                )
            check = self._drift_check
            report = check.observe(
                check.judge(
                    subject,
                    schema,
                    run_id=run_id,
                    producer=producer,
                    observed_at=now(),
                    with_records=profile_records,
                )
            )
            if report.baseline is None:
                drift = "new"
            elif report.decision is None:
                drift = "unchanged"
            else:
                verdict = "allowed" if report.decision.allowed else "refused"
                drift = f"{len(report.decision.diff.changes)} change(s), {verdict}"
            return HarvestOutcome(
                subject,
                len(schema.columns),
                None if dataset_profile is None else dataset_profile.row_count,
                drift,
                schema=schema,
                profile=dataset_profile,
            )
        except Exception as failure:  # one dataset's failure must not stop the others
            return HarvestOutcome(
                subject, error=f"{type(failure).__name__}: {failure}".splitlines()[0]
            )
