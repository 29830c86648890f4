"""How records travel from the gateway to the repository.

- ``DirectTransport``: the synchronous path; the repository appends before ``send`` returns.
- ``OutboxTransport``: records go into an outbox (one local transaction); a relay
  (``domain.metadata.relay``) drains it into the repository later, in order and in batches.
- ``BrokerTransport``: records are published to a broker (within a ``Budget`` of records in
  flight); a consumer (``domain.metadata.consumer``) stores them.
- ``FallbackTransport``: one transport, and another when the first cannot take a batch.

Delivery is at least once; the repository's idempotent append of deterministic record ids
makes a second delivery a duplicate, so every record is stored exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from domain.metadata.errors import MetadataError
from domain.metadata.query import AppendResult
from domain.metadata.record import MetadataRecord
from ports.metadata import MetadataRepository
from ports.transport import Outbox, Publisher

Clock = Callable[[], datetime]


class DirectTransport:
    """Implements RecordTransport: straight into the repository."""

    def __init__(self, repository: MetadataRepository) -> None:
        self._repository = repository

    def send(self, records: Sequence[MetadataRecord]) -> AppendResult:
        return self._repository.append(records)

    def close(self) -> None:
        pass


class FallbackTransport:
    """Implements RecordTransport: straight into a remote repository (the metadata service)
    while it can be reached; into the outbox when it cannot (a ``ConnectionError`` after
    the client's own retries), for the relay to deliver later."""

    def __init__(self, repository: MetadataRepository, fallback: Outbox, clock: Clock) -> None:
        self._repository = repository
        self._fallback = fallback
        self._clock = clock
        self.fell_back = 0

    def send(self, records: Sequence[MetadataRecord]) -> AppendResult:
        try:
            return self._repository.append(records)
        except ConnectionError:
            self.fell_back += len(records)
            return AppendResult(queued=self._fallback.put(records, self._clock()))

    def close(self) -> None:
        self._fallback.close()


class OutboxTransport:
    """Implements RecordTransport: into an outbox the relay drains."""

    def __init__(self, outbox: Outbox, clock: Clock) -> None:
        self._outbox = outbox
        self._clock = clock

    def send(self, records: Sequence[MetadataRecord]) -> AppendResult:
        return AppendResult(queued=self._outbox.put(records, self._clock()))

    def close(self) -> None:
        self._outbox.close()


class Backpressure(MetadataError):
    """A producer waited its limit for room in the process's budget of records in flight."""


class Budget:
    """How many records may be in flight (handed to a transport, not yet acknowledged) in
    this process: one budget shared by every producer (runtime) in it, so no buffer grows
    without bound."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"budget: at least 1 record in flight, got {capacity}")
        self.capacity = capacity
        self._used = 0
        self._room = threading.Condition()

    @property
    def used(self) -> int:
        return self._used

    def acquire(self, count: int, wait_s: float) -> bool:
        """Take room for ``count`` records (a batch larger than the budget takes it whole),
        waiting up to ``wait_s``; False when there was none in time."""
        need = min(count, self.capacity)
        with self._room:
            return self._room.wait_for(lambda: self._used + need <= self.capacity, wait_s) and (
                self._take(need)
            )

    def _take(self, need: int) -> bool:
        self._used += need
        return True

    def release(self, count: int) -> None:
        with self._room:
            self._used -= min(count, self.capacity)
            self._room.notify_all()


class BrokerTransport:
    """Implements RecordTransport: published to a broker, within the process's ``budget``.

    When the budget has no room for ``wait_s``, the emit fails with :class:`Backpressure`
    (``spill=False``) or the batch goes to the outbox (``spill=True``). When the broker
    cannot be reached, the batch goes to the outbox, and the relay publishes it later."""

    def __init__(
        self,
        publisher: Publisher,
        fallback: Outbox,
        clock: Clock,
        budget: Budget,
        *,
        wait_s: float = 30.0,
        spill: bool = True,
    ) -> None:
        self._publisher = publisher
        self._fallback = fallback
        self._clock = clock
        self._budget = budget
        self._wait_s = wait_s
        self._spill = spill
        self.fell_back = 0  # records put in the outbox instead (broker down or no room)

    def send(self, records: Sequence[MetadataRecord]) -> AppendResult:
        if not self._budget.acquire(len(records), self._wait_s):
            if not self._spill:
                raise Backpressure(
                    f"{self._budget.capacity:,} records are in flight in this process and none "
                    f"was acknowledged for {self._wait_s:g}s; the broker is slow: retry later, "
                    f"or let emits spill to the outbox"
                )
            return self._to_outbox(records)
        try:
            return self._publisher.publish(records)
        except ConnectionError:
            return self._to_outbox(records)
        finally:
            self._budget.release(len(records))

    def _to_outbox(self, records: Sequence[MetadataRecord]) -> AppendResult:
        self.fell_back += len(records)
        return AppendResult(queued=self._fallback.put(records, self._clock()))

    def close(self) -> None:
        self._fallback.close()
