"""The relay: drains an outbox into a sink (the repository, or a broker), in order and in
batches, and the loop that keeps it draining (``drain``).

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

import time
from collections.abc import Callable, Sequence
from datetime import timedelta

import attrs

from domain.metadata.errors import MetadataError
from domain.metadata.outbox import OutboxEntry
from domain.metadata.query import AppendResult, RecordQuery
from domain.metadata.record import MetadataRecord
from domain.metadata.transport import Clock
from ports.metadata import MetadataRepository
from ports.transport import Outbox, RecordSink

IDLE_POLL_S = 0.5


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
        return unusable(self._sink)


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


def unusable(sink: RecordSink) -> str | None:
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


def drain(
    step: Callable[[], RelayStep],
    *,
    follow: bool,
    backoff: Backoff,
    say: Callable[[str], None],
    warn: Callable[[str], None],
    chatty: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[RelayStep, float]:
    """Run ``step`` until nothing waits, or (``follow``) until Ctrl-C; an outage stops the
    former and makes the latter wait (``backoff``) and try again, saying so (``warn``);
    ``chatty`` says each delivered batch when following. Returns the total and the seconds
    it took."""
    total, started, outages = RelayStep(), time.monotonic(), 0
    try:
        while True:
            done = step()
            total += done
            if done.outage is not None:
                outages += 1
                if not follow:
                    break
                wait = backoff.delay(outages)
                warn(f"cannot deliver ({done.outage}); trying again in {wait:.0f}s")
                sleep(wait)
                continue
            outages = 0
            if done.taken:
                if chatty and follow:
                    say(f"delivered {done.delivered:,} ({done.duplicates:,} already stored)")
                continue
            if not follow:
                break
            sleep(IDLE_POLL_S)
    except KeyboardInterrupt:
        if not follow:
            raise
    return total, max(time.monotonic() - started, 1e-9)
