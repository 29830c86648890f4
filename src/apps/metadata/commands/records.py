"""`metadata records validate` and `metadata emit`: records from files into the store."""

from __future__ import annotations

from typing import Any

import click

from adapters.serialization.json_text import Problem
from adapters.serialization.reading import DecodedLine, read_records
from apps.cli.app import bad_input, printable
from apps.cli.errors import ExitCode
from apps.cli.output import echo_json, json_option
from apps.cli.params import INPUT_FILE, InputText
from apps.metadata.commands import converter, gateway
from apps.services import Services
from domain.metadata.errors import InvalidBatch, RecordConflict
from domain.metadata.gateway import validate_batch
from domain.metadata.query import RecordQuery
from domain.metadata.timestamps import instant_text

file_argument = click.argument("file", type=INPUT_FILE, metavar="FILE|-")


def decode(services: Services, source: InputText) -> list[DecodedLine]:
    """Every record of ``source``, each valid one also checked against the others (one id
    with two different payloads is a problem of the later line)."""
    decoded = list(read_records(source.text, converter(services), unique_keys=True))
    if not decoded:
        click.echo(f"{source.name}: no records found", err=True)
    valid = [d for d in decoded if d.record is not None]
    clashes = validate_batch([d.record for d in valid if d.record is not None])
    for clash in clashes:
        line = valid[clash.index]
        message = clash.message
        if clash.other is not None:
            message = (
                f"line {valid[clash.other].line} has the same record_id with a different "
                f"payload; a record id names one fact: give this one another run_id or key"
            )
        decoded[decoded.index(line)] = DecodedLine(
            line.line, None, (*line.problems, Problem(clash.path, message))
        )
    return decoded


def problem_report(bad: list[DecodedLine]) -> list[dict[str, Any]]:
    return [
        {"line": d.line, "problems": [{"path": p.path, "message": p.message} for p in d.problems]}
        for d in bad
    ]


def print_problems(source: str, bad: list[DecodedLine]) -> None:
    for decoded in bad:
        for problem in decoded.problems:
            click.echo(printable(f"{source}: line {decoded.line}: {problem}"), err=True)


def _dropped(services: Services, decoded: list[DecodedLine]) -> list[tuple[int, str]]:
    """What a duplicate's line said that the store did not keep: the same fact stated again
    with another observed_at or producer keeps the stored one's (the first 1,000 lines)."""
    front = gateway(services)
    notes = []
    for line in decoded[:1000]:
        if line.record is None:
            continue
        mine = front.as_stored(line.record)
        found = front.query(RecordQuery(record_id=mine.record_id, limit=1)).records
        if not found or (found[0].observed_at, found[0].producer) == (
            mine.observed_at,
            mine.producer,
        ):
            continue
        kept = found[0]
        notes.append(
            (
                line.line,
                f"record {mine.record_id} is stored already (observed_at "
                f"{instant_text(kept.observed_at)}, producer {kept.producer!r}); this line's "
                f"observed_at {instant_text(mine.observed_at)}, producer {mine.producer!r} "
                f"were not kept (a fact is stored once, as first stated)",
            )
        )
    return notes


@click.group()
def records() -> None:
    """Work with metadata record files (JSON or JSONL)."""


@records.command()
@file_argument
@json_option
@click.pass_obj
def validate(services: Services, file: InputText, as_json: bool) -> None:
    """Check that FILE holds valid metadata records; '-' reads standard input.

    FILE is one JSON record, a JSON list of records, or JSONL (one record per line), in
    UTF-8. Each bad record is printed with its line, the JSON path of the problem and the
    reason, e.g.

    \b
      line 3: $.payload.rows_written: expected int, got str '5'

    Exit status: 0 when every record is valid, 2 when any is not (or the file is empty).
    """
    decoded = decode(services, file)
    bad = [d for d in decoded if d.record is None]
    if as_json:
        echo_json(
            {
                "file": file.name,
                "checked": len(decoded),
                "valid": len(decoded) - len(bad),
                "invalid": problem_report(bad),
            }
        )
    else:
        print_problems(file.name, bad)
        if decoded:
            click.echo(
                f"{file.name}: {len(decoded)} record(s) checked, {len(decoded) - len(bad)} "
                f"valid, {len(bad)} invalid"
            )
    if bad or not decoded:
        raise SystemExit(ExitCode.BAD_INPUT)


@click.command()
@file_argument
@json_option
@click.pass_obj
def emit(services: Services, file: InputText, as_json: bool) -> None:
    """Emit the records in FILE (JSON, a JSON list, or JSONL; '-' reads stdin).

    All or nothing: when any record is invalid, each problem is printed with its line and
    path and nothing is written (exit 2). Records already stored are reported as
    duplicates; a stored id with a different payload is a conflict (exit 2, nothing written).
    """
    decoded = decode(services, file)
    bad = [d for d in decoded if d.record is None]
    if bad or not decoded:
        if as_json:
            echo_json({"file": file.name, "written": 0, "invalid": problem_report(bad)})
        print_problems(file.name, bad)
        if bad:
            click.echo(
                f"{file.name}: {len(bad)} of {len(decoded)} record(s) invalid; nothing written",
                err=True,
            )
        raise SystemExit(ExitCode.BAD_INPUT)
    try:
        result = gateway(services).emit_many(d.record for d in decoded if d.record)
    except (InvalidBatch, RecordConflict) as refused:
        bad_input(f"{file.name}: {refused}")
    if result.duplicates and not result.queued:
        for line, note in _dropped(services, decoded):
            click.echo(printable(f"{file.name}: line {line}: {note}"), err=True)
    if as_json:
        echo_json(
            {
                "file": file.name,
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "queued": result.queued,
            }
        )
    elif result.queued:
        click.echo(
            f"{file.name}: {result.queued} record(s) queued for the store (`metadata relay` "
            f"delivers an outbox, `metadata consume` a NATS stream), {result.duplicates} "
            f"duplicate(s) skipped"
        )
    else:
        click.echo(
            f"{file.name}: {result.accepted} record(s) written, {result.duplicates} "
            f"duplicate(s) skipped"
        )
