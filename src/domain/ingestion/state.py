"""What a pipeline remembers between runs."""

from __future__ import annotations

from datetime import datetime

import attrs

from domain.dataset import RunId
from domain.metadata.timestamps import to_utc, utc_only


@attrs.frozen
class PipelineState:
    """The last committed run of a pipeline: its id, when, how many rows, and the watermark
    the next incremental run starts after (None for full loads)."""

    pipeline: str
    last_run_id: RunId
    committed_at: datetime = attrs.field(converter=to_utc, validator=utc_only)
    rows_written: int = 0
    watermark: str | None = None
