"""What an outbox holds and says about itself: values only."""

from __future__ import annotations

from datetime import datetime

import attrs

from domain.metadata.record import MetadataRecord


@attrs.frozen
class OutboxEntry:
    """One record waiting in an outbox: its place in line (``sequence``), the record (None
    when its stored form cannot be read back: ``problem`` says why) and its failed
    attempts so far."""

    sequence: int
    record_id: str
    record: MetadataRecord | None
    attempts: int = 0
    enqueued_at: datetime | None = None
    problem: str | None = None


@attrs.frozen
class OutboxStatus:
    """Figures a person can read and a machine can scrape."""

    backlog: int  # entries not delivered yet (dead letters excluded)
    oldest: datetime | None  # when the oldest of them was put
    delivered: int  # entries delivered and kept (replayable)
    retrying: int  # entries of the backlog with failed attempts
    retries: int  # failed attempts of the backlog's entries
    dead: int  # dead letters
    last_error: str | None = None  # of the newest failed attempt or dead letter

    def age(self, now: datetime) -> float | None:
        """Seconds the oldest waiting entry has waited."""
        return None if self.oldest is None else max(0.0, (now - self.oldest).total_seconds())
