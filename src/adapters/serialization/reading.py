"""Records read from JSON text: one document, a JSON list, or JSONL (one record per line),
each record or its problems with the line it came from."""

from __future__ import annotations

import json
from collections.abc import Iterator

import attrs

from adapters.serialization.json_text import Problem, RecordDecodeError, parse_json
from adapters.serialization.records import RecordConverter
from domain.metadata import MetadataRecord


@attrs.frozen
class DecodedLine:
    """One record read from a JSON or JSONL input, or the problems that stopped it."""

    line: int
    record: MetadataRecord | None
    problems: tuple[Problem, ...] = ()


def read_records(
    text: str, converter: RecordConverter, *, unique_keys: bool = False
) -> Iterator[DecodedLine]:
    """Records from a JSON document (one record or a list) or from JSONL (one per line).

    Line numbers refer to the input; in a JSON list each record carries its list index in
    its paths (``$[3].payload``). ``unique_keys``: a key stated twice in an object is a
    problem (for files a person wrote; see :func:`parse_json`).
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = parse_json(text, unique_keys=unique_keys)
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
    if stripped.startswith("{"):
        second = _second_document(text)
        if second is None:
            try:
                yield DecodedLine(1, converter.loads(text, unique_keys=unique_keys))
            except RecordDecodeError as invalid:
                yield DecodedLine(1, None, tuple(invalid.problems))
            return
        if second > 0:  # pretty-printed documents one after another: neither form
            yield DecodedLine(
                second,
                None,
                (
                    Problem(
                        "$",
                        "a second JSON document starts here, after a multi-line one; a file "
                        "holds one JSON record, a JSON list of records ([{...}, {...}]), or "
                        "JSON Lines (one record per line): write the records in one of those",
                    ),
                ),
            )
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield DecodedLine(number, converter.loads(line, line=number, unique_keys=unique_keys))
        except RecordDecodeError as invalid:
            yield DecodedLine(number, None, tuple(invalid.problems))


def _line_of(problem: Problem) -> int:
    """The line a malformed-JSON problem names (1 when it names none)."""
    _, found, rest = problem.message.partition("at line ")
    number = rest.split(",")[0]
    return int(number) if found and number.isdigit() else 1


def _second_document(text: str) -> int | None:
    """None when ``text`` is one JSON value (possibly pretty-printed, or one that cannot be
    read: loads() says why); 0 when it is JSON Lines (one value a line); else the line where
    a second value starts after a multi-line first one."""
    try:
        json.loads(text)
    except json.JSONDecodeError as bad:
        # JSONL makes json.loads stop with "Extra data" after the first line's object.
        if bad.msg != "Extra data":
            return None
        first = text[: bad.pos]
        if "\n" in first.strip():
            return first.count("\n") + 1
        return 0
    except (RecursionError, ValueError):
        return None
    return None
