"""Text every store can keep: the limits the platform enforces for every repository alike.

PostgreSQL refuses NUL characters in text and JSON, UTF-8 cannot encode a lone surrogate,
and the store's columns bound names (1024), producers (256) and run ids (128). Checking
here, before any repository is touched, means SQLite, PostgreSQL and memory accept and
refuse the same records.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 1024
MAX_PRODUCER_LENGTH = 256

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def unstorable(text: str) -> str | None:
    """Why no store can keep ``text`` as it is, or None when every store can."""
    if text.isascii():
        return "contains a NUL character (\\u0000); remove it" if "\x00" in text else None
    if "\x00" in text:
        return "contains a NUL character (\\u0000); remove it"
    if _SURROGATE.search(text):
        return "contains an unpaired UTF-16 surrogate, which is not text; fix the encoding"
    return None


def name_problem(text: str, limit: int = MAX_NAME_LENGTH) -> str | None:
    """Why ``text`` cannot be a name (dataset name, producer), or None."""
    reason = unstorable(text)
    if reason:
        return reason
    if _CONTROL.search(text):
        return "contains a control character (a newline, a tab ...); names are one line"
    if len(text) > limit:
        return f"is {len(text)} characters long; at most {limit} are kept"
    return None
