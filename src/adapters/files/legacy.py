"""The legacy outputs as files: ``summaries/<pipeline>/<run id>.json`` and
``logs/<pipeline>.jsonl`` (one JSON object a line) under one directory; recon's summaries
as ``summaries/<recon>/<run id>.json`` under its own."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from domain.ingestion.legacy import RunSummary
from domain.recon.legacy import ReconSummary, summary_of
from domain.recon.run import ReconReport

T = TypeVar("T")

_converter = make_converter(forbid_extra_keys=True)
_converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
_converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))


class LegacyFilesError(ValueError):
    """A summary file that cannot be read; names it."""


class FileLegacyOutputs:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def log(self, pipeline: str, run_id: str, event: str, **fields: object) -> None:
        logs = self._directory / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        line = {
            "ts": datetime.now(UTC).isoformat(),
            "level": "error" if event == "failed" else "info",
            "pipeline": pipeline,
            "run_id": run_id,
            "event": event,
            **fields,
        }
        with (logs / f"{pipeline}.jsonl").open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(line, default=str) + "\n")

    def summary(self, summary: RunSummary) -> None:
        _write_summary(self._directory / "summaries" / summary.pipeline, summary.run_id, summary)

    def summaries(self, since: datetime | None = None) -> list[RunSummary]:
        return _read_summaries(self._directory / "summaries", RunSummary, since)


class FileReconSummaries:
    """Recon's legacy output: ``summaries/<recon>/<run id>.json`` under one directory."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def __call__(self, report: ReconReport, started_at: datetime, finished_at: datetime) -> None:
        summary = summary_of(report, started_at, finished_at)
        _write_summary(self._directory / "summaries" / summary.recon, summary.run_id, summary)

    def summaries(self, since: datetime | None = None) -> list[ReconSummary]:
        return _read_summaries(self._directory / "summaries", ReconSummary, since)


def _write_summary(folder: Path, run_id: str, summary: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(_converter.unstructure(summary), indent=2)
    # Written whole or not at all: a temporary file renamed into place.
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(data)
    os.replace(temporary, folder / f"{run_id}.json")


def _read_summaries(folder: Path, kind: type[T], since: datetime | None) -> list[T]:
    found = []
    for path in sorted(folder.glob("*/*.json")):
        try:
            summary = _converter.structure(json.loads(path.read_text("utf-8")), kind)
        except (ValueError, cattrs.BaseValidationError) as invalid:
            raise LegacyFilesError(f"{path}: not a run summary ({invalid})") from None
        if since is None or summary.started_at >= since:  # type: ignore[attr-defined]
            found.append(summary)
    return sorted(found, key=lambda s: s.started_at)  # type: ignore[attr-defined]
