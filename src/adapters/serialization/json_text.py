"""JSON text in, data out: the parse every record input shares, and the problems it
reports (``Problem``: a JSON path and a reason; ``RecordDecodeError``: all of them)."""

from __future__ import annotations

import json
from typing import Any

import attrs


@attrs.frozen
class Problem:
    """One thing wrong with an input, at a JSON path (``$.payload.rows_written``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class RecordDecodeError(ValueError):
    """An input that is not a valid record; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _malformed(bad: json.JSONDecodeError, line: int | None = None) -> Problem:
    return Problem(
        "$", f"malformed JSON at line {line or bad.lineno}, column {bad.colno}: {bad.msg}"
    )


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


def parse_json(text: str, *, line: int | None = None, unique_keys: bool = False) -> Any:
    """JSON text as data, or :class:`RecordDecodeError` for text no record can be: malformed,
    numbers of thousands of digits, nesting deeper than the parser's stack; with
    ``unique_keys``, an object that states a key twice (JSON would keep the last in
    silence), at the price of a slower parse (files a person wrote, not the service's
    batches)."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys if unique_keys else None)
    except _DuplicateKey as twice:
        raise RecordDecodeError(
            [
                Problem(
                    "$",
                    f"the key {str(twice)!r} appears twice in one JSON object; JSON keeps only "
                    f"the last, so one value would be lost in silence: remove one",
                )
            ]
        ) from None
    except json.JSONDecodeError as bad:
        raise RecordDecodeError([_malformed(bad, line)]) from None
    except RecursionError:
        raise RecordDecodeError(
            [Problem("$", "JSON nested too deeply (thousands of levels); no record nests so")]
        ) from None
    except ValueError as bad:  # int('9' * 5000): Python refuses numbers of > 4300 digits
        raise RecordDecodeError(
            [Problem("$", f"a number too long to read ({str(bad).split(':')[0].lower()})")]
        ) from None
