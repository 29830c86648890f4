"""Pipeline state in memory: the fast adapter of the StateStore port for tests."""

from __future__ import annotations

import threading

from domain.ingestion.state import PipelineState


class InMemoryStateStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, PipelineState] = {}

    def get(self, pipeline: str) -> PipelineState | None:
        with self._lock:
            return self._states.get(pipeline)

    def put(self, state: PipelineState) -> None:
        with self._lock:
            self._states[state.pipeline] = state

    def reset(self, pipeline: str) -> bool:
        with self._lock:
            return self._states.pop(pipeline, None) is not None

    def pipelines(self) -> list[PipelineState]:
        with self._lock:
            return [self._states[name] for name in sorted(self._states)]
