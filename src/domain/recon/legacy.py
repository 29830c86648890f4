"""The legacy output of reconciliation (one JSON summary per run) and its parity with the
gateway's ``recon_result`` records: the seed's path off the JSON summaries.

Summaries are written while the outputs setting ([ingestion] outputs, shared by both
runtimes) is ``legacy`` or ``both``; ``recon parity`` compares each summary, check by
check, with the records of its run and lists every difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from domain.ingestion.legacy import Difference, ParityReport, parity_of
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import ReconResult
from domain.metadata.record import MetadataRecord
from domain.recon.run import ReconReport


@attrs.frozen
class CheckSummary:
    check: str
    status: str
    expected: str | None
    actual: str | None
    counts: dict[str, int]


@attrs.frozen
class ReconSummary:
    """One recon run as its legacy summary file states it."""

    recon: str
    run_id: str
    subject: str
    status: str
    started_at: datetime
    finished_at: datetime
    checks: list[CheckSummary]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _check(result: ReconResult) -> CheckSummary:
    return CheckSummary(
        result.check,
        result.status.value,
        _text(result.expected),
        _text(result.actual),
        dict(result.counts),
    )


def summary_of(report: ReconReport, started_at: datetime, finished_at: datetime) -> ReconSummary:
    return ReconSummary(
        report.spec,
        report.run_id.value,
        str(report.subject),
        report.status.value,
        started_at,
        finished_at,
        [_check(r) for r in report.results],
    )


def parity(summaries: Iterable[ReconSummary], gateway: MetadataGateway) -> ParityReport:
    """Compare each legacy summary with the recon_result records its run emitted."""
    return parity_of(summaries, gateway, [RecordKind.RECON_RESULT], _differences, 100)


def _differences(summary: ReconSummary, found: Sequence[MetadataRecord]) -> list[Difference]:
    differences = []
    recorded = {
        r.payload.check: _check(r.payload) for r in found if isinstance(r.payload, ReconResult)
    }
    for check in summary.checks:
        theirs = recorded.pop(check.check, None)
        if theirs is None:
            differences.append(Difference(summary.run_id, check.check, "present", None))
            continue
        for field in ("status", "expected", "actual", "counts"):
            ours, other = getattr(check, field), getattr(theirs, field)
            if ours != other:
                differences.append(
                    Difference(summary.run_id, f"{check.check}.{field}", ours, other)
                )
    return differences + [Difference(summary.run_id, name, None, "present") for name in recorded]
