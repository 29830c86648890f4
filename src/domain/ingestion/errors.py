"""Errors of the ingestion runtime that callers handle (each message is one line)."""

from __future__ import annotations


class EngineFailed(Exception):
    """The engine could not read the source or write the target; nothing was committed."""


class SourceMismatch(ValueError):
    """The pipeline names columns its source does not have (bad input: fix the file)."""


class AccessProblem(ValueError):
    """The run could not read its source or write its target (checked before anything
    starts; the pipeline names a place that is not there or not its user's)."""
