"""The ports between metadata producers and the repository: how records travel.

A ``RecordTransport`` carries the records the gateway validated: straight into the
repository (``direct``), into an outbox a relay drains (``outbox``), or through a broker
(``nats``). Every transport delivers at least once; exactly once rests on the records'
deterministic ids and the repository's idempotent append. Every implementation passes the
contract suite in ``tests/contract/test_transports.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.metadata.outbox import OutboxEntry, OutboxStatus
from domain.metadata.query import AppendResult
from domain.metadata.record import MetadataRecord


class RecordTransport(Protocol):
    def send(self, records: Sequence[MetadataRecord]) -> AppendResult:
        """Carry ``records`` (validated, one per id) towards the repository: stored
        (``accepted``/``duplicates``) or queued (``queued``) when this returns; raises when
        neither happened, and then nothing of the batch was taken."""
        ...

    def close(self) -> None:
        """Hand over what is buffered in this process (bounded) and release connections."""
        ...


class Outbox(Protocol):
    """A table of records waiting for the relay, in the order they were put."""

    def put(self, records: Sequence[MetadataRecord], now: datetime) -> int:
        """Append ``records`` in one transaction; returns how many."""
        ...

    def due(self, limit: int, now: datetime) -> list[OutboxEntry]:
        """Up to ``limit`` undelivered, live entries whose next attempt is due, by sequence
        (rows committed late with a lower sequence included)."""
        ...

    def delivered(self, sequences: Sequence[int], now: datetime) -> None: ...

    def failed(
        self, entry: OutboxEntry, error: str, retry_at: datetime, *, dead: bool, now: datetime
    ) -> None:
        """Count a failed attempt of ``entry``; with ``dead`` move it to the dead letters."""
        ...

    def status(self, now: datetime) -> OutboxStatus: ...

    def retry_dead(self, now: datetime) -> int:
        """Put every dead letter back in line, attempts reset; returns how many."""
        ...

    def replay(self, first: int | None, last: int | None, now: datetime) -> int:
        """Queue delivered entries with sequences in [first, last] again; returns how many."""
        ...

    def close(self) -> None: ...


class RecordSink(Protocol):
    """Where the relay delivers: the repository, or a broker (the outbox a producer fell
    back to is published later)."""

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult: ...

    def probe(self) -> None:
        """Return when the sink can be used now; raise (any error) saying why not."""
        ...


class Publisher(Protocol):
    """A broker producers publish to; raises ConnectionError when it cannot be reached."""

    def publish(self, records: Sequence[MetadataRecord]) -> AppendResult: ...


class Delivery(Protocol):
    """One record a broker delivered to the consumer."""

    @property
    def record(self) -> MetadataRecord | None: ...

    @property
    def problem(self) -> str | None: ...

    @property
    def deliveries(self) -> int: ...


class Feed(Protocol):
    """A durable subscription the consumer drains into the repository."""

    max_deliver: int

    def fetch(self, batch: int, wait_s: float = 1.0) -> Sequence[Delivery]: ...

    def ack(self, deliveries: Sequence[Delivery]) -> None: ...

    def retry(self, delivery: Delivery, delay_s: float) -> None: ...

    def dead(self, delivery: Delivery, error: str) -> None: ...
