"""The consumer: drains a broker's durable subscription into the repository, telling an
outage (nothing fetched, no delivery spent) from a record the repository refuses (retried,
then a dead letter)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.metadata.errors import MetadataError
from domain.metadata.relay import Backoff, RelayStep, RepositorySink, failure_reason, unusable
from ports.metadata import MetadataRepository
from ports.transport import Delivery, Feed


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
        outage = unusable(self._sink)
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
            outage = None if isinstance(failure, MetadataError) else unusable(self._sink)
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
