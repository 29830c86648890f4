"""Errors of the ingestion runtime that callers handle (each message is one line)."""

from __future__ import annotations


class EngineFailed(Exception):
    """The engine could not read the source or write the target; nothing was committed."""
