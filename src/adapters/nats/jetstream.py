"""Records through NATS JetStream: a publisher (the ``nats`` transport, with the outbox as
its fallback when the broker cannot be reached) and the durable pull consumer that writes
them to the store (``metadata consume``; ``adapters.nats.consumer``).

- The stream keeps ``<prefix>.records`` and ``<prefix>.dead`` (dead letters). Each record
  is published with its record id as ``Nats-Msg-Id``: inside the stream's duplicate window
  (``DUPLICATE_WINDOW_S``, two minutes) the broker drops a second copy; after it, the
  store's idempotent append does.
- The consumer is durable (it resumes where it stopped), explicit-ack, with ``ack_wait``
  longer than a batch can take, a ``backoff`` schedule for redeliveries and ``max_deliver``;
  a record the store refuses that many times is published to ``<prefix>.dead`` with its
  error and acknowledged.
- A replay (``replay_from`` a stream sequence or a time) reads the stream again with an
  ephemeral consumer of its own; the store's idempotent append makes it harmless.
- nats-py is asyncio; one event loop runs in a background thread per link, and the
  synchronous ports call into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import attrs
import nats
from nats.aio.client import Client
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from adapters.serialization.records import RecordConverter
from domain.metadata.query import AppendResult
from domain.metadata.record import MetadataRecord

T = TypeVar("T")
DEFAULT_URL = "nats://127.0.0.1:4222"
DEFAULT_STREAM = "METADATA"
DEFAULT_PREFIX = "metadata"
DURABLE = "metadata-store"
DUPLICATE_WINDOW_S = 120.0
ACK_WAIT_S = 120.0
MAX_DELIVER = 5
BACKOFF_S = (1.0, 5.0, 30.0, 60.0)


REPLAY_IDLE_S = 60.0
RECONNECT_AFTER_S = 5.0  # after a failed connect, the next attempt waits this long
MAX_ACK_PENDING = 20_000
PUBLISH_TIMEOUT_S = 30.0  # for the broker's acks of one batch
MAX_PENDING_PUBLISHES = 20_000  # a batch larger than this waits for acks as it goes


@attrs.frozen
class StreamFigures:
    """What the stream holds (records and dead letters) and its durable consumer's lag."""

    stream: str
    messages: int  # records and dead letters kept
    first_seq: int
    last_seq: int
    dead: int
    consumer: str
    pending: int | None  # not delivered to the consumer yet (None: no consumer yet)
    unacknowledged: int | None  # delivered, not acknowledged (being stored, or lost)
    redelivered: int | None


class BrokerUnreachable(ConnectionError):
    """The broker cannot be used now; the message says which and why."""


class JetStreamLink:
    """A connection to one JetStream stream, usable from any thread."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        stream: str = DEFAULT_STREAM,
        prefix: str = DEFAULT_PREFIX,
        duplicate_window_s: float = DUPLICATE_WINDOW_S,
        connect_timeout_s: float = 2.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.records_subject = f"{prefix}.records"
        self.dead_subject = f"{prefix}.dead"
        self._window = duplicate_window_s
        self._connect_timeout = connect_timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._client: Client | None = None
        self._publishing: Any = None  # the JetStream context of the asynchronous publishes
        self._down: tuple[float, str] | None = None  # (retry after, why) of a failed connect
        self._lock = threading.Lock()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 300.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def client(self) -> Client:
        """The connection, opened (and the stream made) on first use or after a loss."""
        with self._lock:
            if self._client is None or not self._client.is_connected:
                if self._down is not None and time.monotonic() < self._down[0]:
                    # Tried and failed a moment ago: say so at once rather than make every
                    # emit wait out the connect timeout (producers fall back to the outbox).
                    raise BrokerUnreachable(self._down[1])
                try:
                    self._client = self.run(self._connect(), self._connect_timeout + 30)
                except BrokerUnreachable as down:
                    self._down = (time.monotonic() + RECONNECT_AFTER_S, str(down))
                    raise
                self._down = None
                self._publishing = self._client.jetstream(
                    publish_async_max_pending=MAX_PENDING_PUBLISHES
                )
            return self._client

    async def _connect(self) -> Client:
        async def quiet(error: Exception) -> None:
            """The client's own error reports: the failure is raised below instead."""

        try:
            client = await asyncio.wait_for(
                nats.connect(
                    self.url,
                    connect_timeout=self._connect_timeout,
                    allow_reconnect=False,
                    max_reconnect_attempts=0,
                    error_cb=quiet,
                ),
                self._connect_timeout * 2,
            )
        except Exception as failed:  # - every way of not connecting is "unreachable"
            reason = str(failed) or f"no answer within {self._connect_timeout * 2:g}s"
            raise BrokerUnreachable(f"NATS at {self.url} cannot be reached ({reason})") from None
        stream = StreamConfig(
            name=self.stream,
            subjects=[self.records_subject, self.dead_subject],
            duplicate_window=self._window,
        )
        js = client.jetstream()
        try:
            await js.stream_info(self.stream)
            await js.update_stream(stream)
        except NotFoundError:
            await js.add_stream(stream)
        return client

    def publish(
        self,
        items: Sequence[tuple[str, bytes]],
        subject: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        """Publish (record id, body) pairs and wait for the broker's acks; returns how many
        the broker dropped as duplicates (inside its window)."""
        self.client()  # connected (or refused at once), with its publishing context
        js = self._publishing

        async def send() -> int:
            # Asynchronous publishes share one reply subscription and are awaited together:
            # far fewer round trips than one request per record.
            futures = [
                await js.publish_async(
                    subject or self.records_subject,
                    body,
                    headers={"Nats-Msg-Id": record_id, **(headers or {})},
                )
                for record_id, body in items
            ]
            acks = await asyncio.wait_for(asyncio.gather(*futures), PUBLISH_TIMEOUT_S)
            return sum(1 for ack in acks if ack.duplicate)

        try:
            return self.run(send())
        except BrokerUnreachable:
            raise
        except Exception as failed:  # - a lost connection or a timeout: the broker's
            self.forget()
            raise BrokerUnreachable(
                f"NATS at {self.url}: {type(failed).__name__}: {failed}"
            ) from None

    def forget(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            # Closing a broken connection may fail; it is gone anyway.
            with contextlib.suppress(Exception):
                self.run(client.close(), 5)

    def figures(self, durable: str = DURABLE) -> StreamFigures:
        """What the stream holds and how far its durable consumer is (None: not made yet)."""
        client = self.client()

        async def read() -> StreamFigures:
            js = client.jetstream()
            info = await js.stream_info(self.stream, subjects_filter=self.dead_subject)
            state = info.state
            consumer: tuple[int, int, int] | None = None
            with contextlib.suppress(NotFoundError):
                found = await js.consumer_info(self.stream, durable)
                consumer = (
                    int(found.num_pending or 0),
                    int(found.num_ack_pending or 0),
                    int(found.num_redelivered or 0),
                )
            return StreamFigures(
                stream=self.stream,
                messages=int(state.messages or 0),
                first_seq=int(state.first_seq or 0),
                last_seq=int(state.last_seq or 0),
                dead=int((state.subjects or {}).get(self.dead_subject, 0)),
                consumer=durable,
                pending=None if consumer is None else consumer[0],
                unacknowledged=None if consumer is None else consumer[1],
                redelivered=None if consumer is None else consumer[2],
            )

        try:
            return self.run(read(), 30)
        except NotFoundError:
            return StreamFigures(self.stream, 0, 0, 0, 0, durable, None, None, None)

    def delete_stream(self) -> None:
        """Tests only: remove the stream."""
        client = self.client()
        self.run(client.jetstream().delete_stream(self.stream))

    def close(self) -> None:
        self.forget()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class JetStreamSink:
    """Implements RecordSink: the relay's destination when the transport is ``nats`` (the
    outbox a producer fell back to is published later)."""

    def __init__(self, link: JetStreamLink, converter: RecordConverter) -> None:
        self._link = link
        self._converter = converter

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        items = [(r.record_id, self._converter.dumps(r).encode()) for r in records]
        duplicates = self._link.publish(items)
        return AppendResult(queued=len(records) - duplicates, duplicates=duplicates)

    def probe(self) -> None:
        self._link.client()


class NatsPublisher:
    """Publishes validated records (the ``nats`` transport's one job)."""

    def __init__(self, link: JetStreamLink, converter: RecordConverter) -> None:
        self._sink = JetStreamSink(link, converter)
        self.link = link

    def publish(self, records: Sequence[MetadataRecord]) -> AppendResult:
        return self._sink.append(records)
