"""What a file target does for one run: the rows it holds, its files written and not yet
visible (staged), then published in one step a reader sees whole or not at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs
from pyspark.sql import DataFrame

from adapters.spark.session import SparkSessionProvider
from domain.ingestion.spec import PipelineSpec
from ports.ingestion import Committed


@attrs.frozen
class Staged:
    """A run's files, written and not yet visible: where (a version directory, or the
    run's data directory of a table), which files, their bytes, and whether they replace
    what the target holds or add to it."""

    where: str
    files: tuple[str, ...]
    bytes: int
    replace: bool


def _nowhere(point: str) -> None:
    """No named point of a write is watched (only crash tests watch them)."""


class OpenedForRun:
    """A file target as one run opens it: its pipeline, the Spark sessions, and the named
    points of a write (``checkpoint``, for crash tests)."""

    def __init__(
        self,
        spec: PipelineSpec,
        sessions: SparkSessionProvider,
        checkpoint: Callable[[str], None] = _nowhere,
    ) -> None:
        self._spec = spec
        self._sessions = sessions
        self._checkpoint = checkpoint
        self._open()

    def _open(self) -> None:
        """What the target reads as the run opens it."""


class FileTarget(Protocol):
    def committed(self) -> Committed | None:
        """What the commit marker says of the run whose data the target shows."""
        ...

    def held(self) -> DataFrame | None:
        """The rows the target holds (a lazy read), or None before its first commit."""
        ...

    def stage(self, frame: DataFrame, run_id: str, *, replace: bool) -> Staged:
        """Write ``frame`` as the run's files; nothing visible yet."""
        ...

    def commit(self, staged: Staged, run_id: str, rows: int, watermark: object) -> object:
        """Make the staged files the target's data, with the run's commit marker."""
        ...

    def discard(self, staged: Staged) -> None:
        """Remove the staged files of a run that will not commit."""
        ...
