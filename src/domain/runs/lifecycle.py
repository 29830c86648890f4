"""One run's life, as every runtime (harvest, ingestion, recon) records it.

``run_event`` records about the run's subject: STARTED, RUNNING heartbeats (numbered, so each
is a fact of its own and a replay stays idempotent), then SUCCEEDED or FAILED with the
error. Emitting a heartbeat never fails the run: a store that is briefly away costs a beat,
not the work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import RunEvent, RunEventType
from domain.metadata.record import MetadataRecord

_MESSAGE_LIMIT = 2000
# How a run whose checks failed (a recon's) ends its FAILED message: not an error of the run.
FAILED_CHECKS = "failed checks: "


def outcome(event: RunEventType, message: str) -> str:
    """What a person calls a run that ended so: its event, or "failed checks" for a run
    that worked and found its checks failing (an error of the run stays "failed")."""
    if event is RunEventType.FAILED and message.startswith(FAILED_CHECKS):
        return "failed checks"
    return event.value


class RunLifecycle:
    """Emits the run_event records of one run through the gateway."""

    def __init__(
        self,
        gateway: MetadataGateway,
        subject: DatasetRef,
        run_id: RunId,
        producer: str,
        now: Callable[[], datetime],
    ) -> None:
        self.subject = subject
        self.run_id = run_id
        self._gateway = gateway
        self.producer = producer
        self._now = now
        self._beats = 0
        self._lock = threading.Lock()
        self.ended: RunEventType | None = None

    def _emit(self, event: RunEventType, message: str = "", beat: int | None = None) -> None:
        record = MetadataRecord.create(
            subject=self.subject,
            run_id=self.run_id,
            observed_at=self._now(),
            producer=self.producer,
            payload=RunEvent(event, message[:_MESSAGE_LIMIT], beat),
        )
        self._gateway.emit(record)

    def start(self, message: str = "") -> None:
        self._emit(RunEventType.STARTED, message)

    def heartbeat(self, message: str = "") -> bool:
        """A RUNNING beat; False when it could not be recorded (the run goes on)."""
        with self._lock:
            if self.ended is not None:
                return False
            self._beats += 1
            beat = self._beats
        try:
            self._emit(RunEventType.RUNNING, message, beat)
        except Exception:  # - a lost heartbeat must not stop the work
            return False
        return True

    def succeed(self, message: str = "") -> None:
        with self._lock:
            self.ended = RunEventType.SUCCEEDED
        self._emit(RunEventType.SUCCEEDED, message)

    def fail_checks(self, checks: list[str]) -> None:
        """The run did its work and its checks failed: FAILED, the checks named (the run's
        exit status is 1, and its recorded end says so; see :func:`outcome`)."""
        self.fail(FAILED_CHECKS + ", ".join(checks))

    def fail(self, error: str) -> None:
        with self._lock:
            self.ended = RunEventType.FAILED
        self._emit(RunEventType.FAILED, error)
