"""Records read from JSON text: one document, a JSON list, or JSONL (one record per line),
each record or its problems with the line it came from."""

from __future__ import annotations

import json
from collections.abc import Iterator

import attrs

from adapters.serialization.records import (
    Problem,
    RecordConverter,
    RecordDecodeError,
    parse_json,
)
from domain.metadata import MetadataRecord


@attrs.frozen
class DecodedLine:
    """One record read from a JSON or JSONL input, or the problems that stopped it."""

    line: int
    record: MetadataRecord | None
    problems: tuple[Problem, ...] = ()


def read_records(text: str, converter: RecordConverter) -> Iterator[DecodedLine]:
    """Records from a JSON document (one record or a list) or from JSONL (one per line).

    Line numbers refer to the input; in a JSON list each record carries its list index in
    its paths (``$[3].payload``).
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = parse_json(text)
        except RecordDecodeError as bad:
            problem = bad.problems[0]
            yield DecodedLine(_line_of(problem), None, tuple(bad.problems))
            return
        for index, item in enumerate(data):
            try:
                yield DecodedLine(index + 1, converter.structure(item))
            except RecordDecodeError as invalid:
                yield DecodedLine(
                    index + 1,
                    None,
                    tuple(Problem(f"$[{index}]" + p.path[1:], p.message) for p in invalid.problems),
                )
        return
    if stripped.startswith("{") and _is_single_document(text):
        try:
            yield DecodedLine(1, converter.loads(text))
        except RecordDecodeError as invalid:
            yield DecodedLine(1, None, tuple(invalid.problems))
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield DecodedLine(number, converter.loads(line, line=number))
        except RecordDecodeError as invalid:
            yield DecodedLine(number, None, tuple(invalid.problems))


def _line_of(problem: Problem) -> int:
    """The line a malformed-JSON problem names (1 when it names none)."""
    _, found, rest = problem.message.partition("at line ")
    number = rest.split(",")[0]
    return int(number) if found and number.isdigit() else 1


def _is_single_document(text: str) -> bool:
    """True when ``text`` is one JSON value (possibly pretty-printed) rather than JSONL."""
    try:
        json.loads(text)
    except json.JSONDecodeError as bad:
        # JSONL makes json.loads stop with "Extra data" after the first line's object.
        return bad.msg != "Extra data"
    except (RecursionError, ValueError):
        return True  # one document that cannot be read: loads() says why
    return True
