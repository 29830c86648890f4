"""How records travel from the gateway to the repository, and the relay that drains an outbox.

- ``DirectTransport``: the synchronous path; the repository appends before ``send`` returns.
- ``OutboxTransport``: records go into an outbox (one local transaction); a ``Relay``
  drains it into the repository later, in order and in batches.

Delivery is at least once (a relay killed after the repository's commit but before it marks
the batch delivered sends it again); the repository's idempotent append of deterministic
record ids makes the second delivery a duplicate, so every record is stored exactly once.

The relay tells a repository that is down (an outage: nothing is counted against the
records, the relay waits and tries again) from a record the repository refuses (a poison
record: its attempts are counted, retried with backoff and, after ``max_attempts``, moved to
the dead letters while the others keep flowing). It asks the repository a read to tell them
apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import attrs

from domain.metadata.errors import MetadataError
from domain.metadata.outbox import OutboxEntry
from domain.metadata.query import AppendResult, RecordQuery
from domain.metadata.record import MetadataRecord
from ports.metadata import MetadataRepository
from ports.transport import Delivery, Feed, Outbox, Publisher, RecordSink

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


@attrs.frozen
class Backoff:
    """When a failed record is tried again: ``first`` seconds after its first failure,
    ``factor`` times longer after each next one, at most ``ceiling``; after
    ``max_attempts`` failures it is a dead letter."""

    first: float = 1.0
    factor: float = 2.0
    ceiling: float = 300.0
    max_attempts: int = 5

    def __attrs_post_init__(self) -> None:
        if self.first <= 0 or self.factor < 1 or self.ceiling < self.first:
            raise ValueError(
                f"backoff: first > 0, factor >= 1 and ceiling >= first, got {self.first}, "
                f"{self.factor}, {self.ceiling}"
            )
        if self.max_attempts < 1:
            raise ValueError(f"backoff: max_attempts >= 1, got {self.max_attempts}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1 = the first)."""
        return min(self.ceiling, self.first * self.factor ** max(0, attempt - 1))


@attrs.frozen
class RelayStep:
    """What one batch of the relay did."""

    taken: int = 0  # entries read from the outbox
    delivered: int = 0  # entries marked delivered (stored now, or already: duplicates)
    duplicates: int = 0  # of them, records the repository held already (re-sends)
    failed: int = 0  # entries whose attempt failed (retried later)
    dead: int = 0  # entries moved to the dead letters
    outage: str | None = None  # the repository could not be used: nothing was counted

    def __add__(self, other: RelayStep) -> RelayStep:
        return RelayStep(
            self.taken + other.taken,
            self.delivered + other.delivered,
            self.duplicates + other.duplicates,
            self.failed + other.failed,
            self.dead + other.dead,
            other.outage,
        )


class RepositorySink:
    """Implements RecordSink: the repository (a read tells whether it can be used)."""

    def __init__(self, repository: MetadataRepository) -> None:
        self._repository = repository

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        return self._repository.append(records)

    def probe(self) -> None:
        self._repository.query(RecordQuery(limit=1))


class Relay:
    """Drains an outbox into a sink (the repository, or a broker), ``batch`` entries at a
    time, by sequence."""

    def __init__(
        self,
        outbox: Outbox,
        sink: RecordSink,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        batch: int = 1000,
        checkpoint: Callable[[str], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch: at least 1 record per batch, got {batch}")
        self._outbox = outbox
        self._sink = sink
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._batch = batch
        self._checkpoint = checkpoint or (lambda point: None)

    def step(self) -> RelayStep:
        """One batch: read what is due, append it, mark it. An outage marks nothing."""
        now = self._clock()
        entries = self._outbox.due(self._batch, now)
        if not entries:
            return RelayStep()
        first: dict[str, OutboxEntry] = {}
        echoes: list[OutboxEntry] = []  # the same record put twice: delivered with the first
        refused: list[tuple[OutboxEntry, str]] = []
        for entry in entries:
            if entry.record is None:
                refused.append((entry, entry.problem or "the stored record cannot be read"))
                continue
            seen = first.get(entry.record_id)
            if seen is None:
                first[entry.record_id] = entry
            elif _same_fact(seen, entry):
                echoes.append(entry)
            else:
                refused.append(
                    (
                        entry,
                        f"outbox entry {seen.sequence} holds the same record id with a different payload",
                    )
                )
        batch = list(first.values())
        stored, outage = self._append(batch, refused)
        if outage is not None and not stored.delivered:
            return RelayStep(taken=len(entries), outage=outage)
        self._checkpoint("appended")  # stored, not marked: a crash here re-sends the batch
        delivered = [e.sequence for e in stored.entries] + [
            e.sequence for e in echoes if e.record_id in stored.ids
        ]
        self._outbox.delivered(delivered, self._clock())
        dead = 0
        for entry, reason in refused:
            attempt = entry.attempts + 1
            dying = attempt >= self._backoff.max_attempts
            retry_at = self._clock() + timedelta(seconds=self._backoff.delay(attempt))
            self._outbox.failed(entry, reason, retry_at, dead=dying, now=self._clock())
            dead += dying
        return RelayStep(
            taken=len(entries),
            delivered=len(delivered),
            duplicates=stored.duplicates,
            failed=len(refused) - dead,
            dead=dead,
            outage=outage,
        )

    def _append(
        self, batch: list[OutboxEntry], refused: list[tuple[OutboxEntry, str]]
    ) -> tuple[_Stored, str | None]:
        """Append ``batch``; when the repository refuses it, record by record, adding the
        records at fault to ``refused``. Returns what was stored and the outage, if any."""
        if not batch:
            return _Stored(), None
        try:
            result = self._sink.append([e.record for e in batch if e.record is not None])
            return _Stored(tuple(batch), result.duplicates), None
        except Exception as failure:  # - told apart below: outage or record at fault
            outage = self._outage(failure)
            if outage is not None:
                return _Stored(), outage
        stored = _Stored()
        for entry in batch:
            assert entry.record is not None
            try:
                result = self._sink.append([entry.record])
            except Exception as failure:  # - the same question, record by record
                outage = self._outage(failure)
                if outage is not None:
                    return stored, outage
                refused.append((entry, failure_reason(failure)))
                continue
            stored = stored.plus(entry, result.duplicates)
        return stored, None

    def _outage(self, failure: Exception) -> str | None:
        """None when the repository answers a read (the records are at fault), else why
        it cannot be used."""
        if isinstance(failure, MetadataError):
            return None  # a conflict or an invalid record: the repository answered
        return _unusable(self._sink)


@attrs.frozen
class _Stored:
    entries: tuple[OutboxEntry, ...] = ()
    duplicates: int = 0

    @property
    def delivered(self) -> int:
        return len(self.entries)

    @property
    def ids(self) -> set[str]:
        return {e.record_id for e in self.entries}

    def plus(self, entry: OutboxEntry, duplicates: int) -> _Stored:
        return _Stored((*self.entries, entry), self.duplicates + duplicates)


def _unusable(sink: RecordSink) -> str | None:
    """None when ``sink`` can be used now, else why not."""
    try:
        sink.probe()
    except Exception as down:  # - any failure means it is not usable now
        return failure_reason(down)
    return None


def _same_fact(a: OutboxEntry, b: OutboxEntry) -> bool:
    assert a.record is not None and b.record is not None
    return (
        a.record.payload == b.record.payload
        and a.record.payload_version == b.record.payload_version
    )


def failure_reason(failure: BaseException) -> str:
    """A failure in one line, without the statement or the help link a driver appends."""
    text = " ".join(str(failure).split()) or type(failure).__name__
    for tail in (" [SQL:", " (Background on"):
        text = text.split(tail)[0]
    return text[:500]


class Consumer:
    """Drains a broker's durable subscription into the repository: a batch appended whole
    then acknowledged; a batch the repository refuses, record by record; a record refused
    ``feed.max_deliver`` times (or unreadable) published to the dead letters. While the
    repository cannot be used nothing is fetched, so no delivery is spent on an outage."""

    def __init__(
        self, feed: Feed, repository: MetadataRepository, *, backoff: Backoff | None = None
    ) -> None:
        self._feed = feed
        self._sink = RepositorySink(repository)
        self._backoff = backoff or Backoff()

    def step(self, batch: int, wait_s: float = 1.0) -> RelayStep:
        outage = _unusable(self._sink)
        if outage is not None:
            return RelayStep(outage=outage)
        found = self._feed.fetch(batch, wait_s)
        if not found:
            return RelayStep()
        good, clashes = _unique([d for d in found if d.record is not None])
        dead = failed = duplicates = 0
        for delivery in clashes:
            dying = self._refuse(
                delivery, "another record of this batch has the same id and a different payload"
            )
            dead += dying
            failed += not dying
        stored: list[Delivery] = []
        try:
            unique = {d.record.record_id: d.record for d in good if d.record is not None}
            # A record delivered twice in one batch is stored once: the second a duplicate.
            duplicates = self._sink.append(list(unique.values())).duplicates
            duplicates += len(good) - len(unique)
            stored = good
        except Exception as failure:  # - an outage, or a record at fault: told apart
            outage = None if isinstance(failure, MetadataError) else _unusable(self._sink)
            if outage is not None:
                for delivery in found:
                    self._feed.retry(delivery, self._backoff.first)
                return RelayStep(taken=len(found), outage=outage)
            for delivery in good:
                assert delivery.record is not None
                try:
                    duplicates += self._sink.append([delivery.record]).duplicates
                    stored.append(delivery)
                except Exception as refused:  # - this record is at fault
                    dying = self._refuse(delivery, failure_reason(refused))
                    dead += dying
                    failed += not dying
        self._feed.ack(stored)
        for delivery in found:
            if delivery.record is None:
                dying = self._refuse(delivery, delivery.problem or "unreadable")
                dead += dying
                failed += not dying
        return RelayStep(len(found), len(stored), duplicates, failed, dead)

    def _refuse(self, delivery: Delivery, reason: str) -> bool:
        if delivery.record is None or delivery.deliveries >= self._feed.max_deliver:
            self._feed.dead(delivery, reason)
            return True
        self._feed.retry(delivery, self._backoff.delay(delivery.deliveries))
        return False


def _unique(deliveries: Sequence[Delivery]) -> tuple[list[Delivery], list[Delivery]]:
    """One delivery per record id (a broker may deliver a record twice in one batch; the
    second is settled with the first), and the deliveries whose id clashes with another's
    payload."""
    seen: dict[str, Delivery] = {}
    echoes: list[Delivery] = []
    clashes: list[Delivery] = []
    for delivery in deliveries:
        assert delivery.record is not None
        first = seen.setdefault(delivery.record.record_id, delivery)
        if first is delivery:
            continue
        assert first.record is not None
        same = first.record.payload == delivery.record.payload
        (echoes if same else clashes).append(delivery)
    return [*seen.values(), *echoes], clashes
