"""Runs as the dashboard lists them, read from their run_event records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from domain.metadata.payloads import RunEvent
from domain.metadata.record import MetadataRecord
from domain.runs.lifecycle import outcome


@attrs.frozen
class RunRow:
    """One run as the runs page shows it, from its run_event records."""

    run_id: str
    subject: str
    producer: str
    state: str
    started_at: datetime | None
    last_at: datetime
    message: str
    label: str = ""  # what a person calls the end ("failed checks"); the state when ""

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.state in ("started", "running"):
            return None
        return (self.last_at - self.started_at).total_seconds()


def runs_of(events: Iterable[MetadataRecord]) -> list[RunRow]:
    """Runs from run_event records (any order), newest last event first."""
    by_run: dict[str, list[MetadataRecord]] = {}
    for record in events:
        by_run.setdefault(record.run_id.value, []).append(record)
    rows = []
    for run_id, records in by_run.items():
        records.sort(key=lambda r: r.observed_at)
        last = records[-1]
        payload = last.payload
        started = next(
            (
                r.observed_at
                for r in records
                if isinstance(r.payload, RunEvent) and r.payload.event.value == "started"
            ),
            None,
        )
        rows.append(
            RunRow(
                run_id=run_id,
                subject=str(last.subject),
                producer=last.producer,
                state=payload.event.value if isinstance(payload, RunEvent) else "?",
                started_at=started,
                last_at=last.observed_at,
                message=payload.message if isinstance(payload, RunEvent) else "",
                label=(
                    outcome(payload.event, payload.message) if isinstance(payload, RunEvent) else ""
                ),
            )
        )
    rows.sort(key=lambda row: row.last_at, reverse=True)
    return rows
