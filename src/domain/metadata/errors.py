"""Errors of the metadata subsystem that callers are expected to handle."""

from __future__ import annotations

import attrs


@attrs.frozen
class RecordProblem:
    """What is wrong with one record of a batch: its index, a JSON-style path, the reason."""

    index: int
    path: str
    message: str
    other: int | None = None  # the earlier record this one clashes with, if any

    def __str__(self) -> str:
        return f"record {self.index}: {self.path}: {self.message}"


class MetadataError(Exception):
    """Base of the metadata errors."""


class InvalidBatch(MetadataError):
    """A batch with invalid records; nothing of it was written."""

    def __init__(self, problems: list[RecordProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} problem(s), nothing written: {shown}{more}")


class RecordConflict(MetadataError):
    """A record whose id is stored with a different payload; nothing of the batch was written."""

    def __init__(self, record_ids: list[str]) -> None:
        self.record_ids = record_ids
        super().__init__(
            f"{len(record_ids)} record(s) conflict with stored records of the same id but a "
            f"different payload (first: {record_ids[0]}); nothing written. A record id names "
            f"one fact: emit a changed fact under a new run_id or key"
        )


class StoreNotReady(MetadataError):
    """The store's schema is missing or older than this version needs."""
