"""The durable pull consumer of the records stream (``metadata consume``): deliveries
fetched in batches, acknowledged once stored, retried on the stream's backoff schedule, and
published to ``<prefix>.dead`` with their error after ``max_deliver`` refusals; a replay
reads the stream again from a sequence or a time with an ephemeral consumer of its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from adapters.nats.jetstream import (
    ACK_WAIT_S,
    BACKOFF_S,
    DURABLE,
    MAX_ACK_PENDING,
    MAX_DELIVER,
    REPLAY_IDLE_S,
    BrokerUnreachable,
    JetStreamLink,
)
from adapters.serialization.json_text import RecordDecodeError
from adapters.serialization.records import RecordConverter
from domain.metadata.record import MetadataRecord
from ports.transport import Delivery


class JetStreamDelivery:
    """One message fetched by the consumer: its record (None when unreadable), how many
    times it was delivered, and the message to settle."""

    def __init__(self, message: Msg, record: MetadataRecord | None, problem: str | None) -> None:
        self.message = message
        self.record = record
        self.problem = problem

    @property
    def deliveries(self) -> int:
        return int(self.message.metadata.num_delivered or 1)


class JetStreamConsumer:
    """The durable pull consumer of the records subject."""

    def __init__(
        self,
        link: JetStreamLink,
        converter: RecordConverter,
        *,
        durable: str = DURABLE,
        ack_wait_s: float = ACK_WAIT_S,
        max_deliver: int = MAX_DELIVER,
        backoff_s: Sequence[float] = BACKOFF_S,
        replay_from: int | datetime | None = None,
    ) -> None:
        """``replay_from`` (a stream sequence or a time): a replay instead, by a consumer of
        its own (ephemeral, gone a minute after its last fetch) that reads the stream from
        that point; the durable consumer is left where it was."""
        self._link = link
        self._converter = converter
        self._durable: str | None = durable if replay_from is None else None
        self.max_deliver = max_deliver
        self._config = ConsumerConfig(
            durable_name=self._durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait_s,
            max_deliver=max_deliver,
            backoff=list(backoff_s)[: max(0, max_deliver - 1)] or None,
            filter_subject=link.records_subject,
            # Above the largest fetch (`metadata consume --batch`): the broker's default
            # (1,000) would make a larger fetch wait out its timeout for the rest.
            max_ack_pending=MAX_ACK_PENDING,
        )
        if isinstance(replay_from, int):
            self._config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            self._config.opt_start_seq = replay_from
        elif isinstance(replay_from, datetime):
            self._config.deliver_policy = DeliverPolicy.BY_START_TIME
            self._config.opt_start_time = replay_from
        if replay_from is not None:
            self._config.inactive_threshold = REPLAY_IDLE_S
        self._subscription: Any = None

    def _pull(self) -> Any:
        if self._subscription is None:
            client = self._link.client()
            self._subscription = self._link.run(
                client.jetstream().pull_subscribe(
                    self._link.records_subject,
                    durable=self._durable,
                    stream=self._link.stream,
                    config=self._config,
                )
            )
        return self._subscription

    def fetch(self, batch: int, wait_s: float = 1.0) -> list[JetStreamDelivery]:
        subscription = self._pull()

        async def take() -> list[Msg]:
            try:
                found: list[Msg] = await subscription.fetch(batch, timeout=wait_s)
                return found
            except (TimeoutError, nats.errors.TimeoutError):
                return []

        try:
            messages = self._link.run(take(), wait_s + 30)
        except Exception as failed:  # - a lost connection: the broker's
            self._subscription = None
            self._link.forget()
            raise BrokerUnreachable(f"NATS at {self._link.url}: {failed}") from None
        found = []
        for message in messages:
            try:
                record: MetadataRecord | None = self._converter.loads_stored(message.data.decode())
                problem = None
            except (RecordDecodeError, UnicodeDecodeError) as bad:
                record, problem = None, f"the published record cannot be read: {bad}"[:500]
            found.append(JetStreamDelivery(message, record, problem))
        return found

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge, then flush: the broker has the acks when this returns. (An ack
        lost on the way makes the broker redeliver: the store counts a duplicate.)"""
        client = self._link.client()

        async def settle() -> None:
            for delivery in deliveries:
                await _message(delivery).ack()
            await client.flush()

        if deliveries:
            self._link.run(settle())

    def retry(self, delivery: Delivery, delay_s: float) -> None:
        self._link.run(_message(delivery).nak(delay=delay_s))

    def dead(self, delivery: Delivery, error: str) -> None:
        """Publish to the dead letters with its error, then acknowledge it."""
        message = _message(delivery)
        record_id = (message.headers or {}).get("Nats-Msg-Id", "")
        self._link.publish(
            [(f"dead-{record_id}-{delivery.deliveries}", message.data)],
            subject=self._link.dead_subject,
            headers={"Dataplatform-Error": error[:500], "Dataplatform-Record-Id": record_id},
        )
        self._link.run(message.ack_sync())

    def pending(self) -> tuple[int, int]:
        """(messages not delivered yet, delivered but not acknowledged) of the consumer."""
        subscription = self._pull()  # the consumer exists from here on
        info = self._link.run(subscription.consumer_info())
        return int(info.num_pending or 0), int(info.num_ack_pending or 0)

    def dead_letters(self) -> int:
        client = self._link.client()
        info = self._link.run(
            client.jetstream().stream_info(
                self._link.stream, subjects_filter=self._link.dead_subject
            )
        )
        subjects = info.state.subjects or {}
        return int(subjects.get(self._link.dead_subject, 0))


def _message(delivery: Delivery) -> Msg:
    assert isinstance(delivery, JetStreamDelivery), "a delivery of another feed"
    return delivery.message
