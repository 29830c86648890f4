"""`metadata backfill`: import a legacy metadata cache and check parity with the store."""

from __future__ import annotations

from pathlib import Path

import attrs
import click

from adapters.serialization.reading import read_records
from apps.cli.app import bad_input, printable
from apps.cli.errors import ExitCode
from apps.cli.output import echo_json, json_option, progress
from apps.cli.params import read_input
from apps.metadata.commands import converter, gateway
from apps.services import Services
from domain.metadata import MetadataRecord
from domain.metadata.backfill import backfill as run_backfill


@click.command()
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR"
)
@json_option
@click.pass_obj
def backfill(services: Services, directory: Path, as_json: bool) -> None:
    """Import a legacy metadata cache directory, then check parity with the store.

    DIR holds *.json files (one record, or a list of records, each) and *.jsonl files (one
    record per line), in any sub-directory. Valid records are emitted through the gateway,
    idempotently: a second run imports nothing new. The parity report compares the records
    in the files with the store by record id (missing, differing). Exit 1 when parity fails
    or a file holds invalid records.
    """
    files = sorted(
        p for p in directory.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()
    )
    if not files:
        bad_input(
            f"{directory}: no *.json or *.jsonl files in it or below; give the directory of "
            f"the legacy cache"
        )
    records: list[MetadataRecord] = []
    invalid = 0
    for path in files:
        try:
            text = read_input(str(path)).text
        except ValueError as unreadable:  # one bad file is reported; the others still import
            invalid += 1
            click.echo(str(unreadable), err=True)
            continue
        for decoded in read_records(text, converter(services), unique_keys=True):
            if decoded.record is None:
                invalid += 1
                for problem in decoded.problems:
                    click.echo(printable(f"{path}: line {decoded.line}: {problem}"), err=True)
            else:
                records.append(decoded.record)
    with progress("importing", total=len(records), unit="records", plain=not as_json) as ticker:
        report = run_backfill(
            gateway(services),
            records,
            invalid=invalid,
            progress=lambda phase, done, _: ticker.done(done, phase=phase),
        )
    if as_json:
        echo_json(
            {
                "directory": str(directory),
                "files": len(files),
                **attrs.asdict(report),
                "ok": report.ok,
            }
        )
    else:
        click.echo(
            f"{directory}: {len(files)} file(s), {report.in_source} record(s), {report.invalid} invalid"
        )
        click.echo(
            f"  imported {report.imported}, already stored {report.already_stored}"
            + ("  (nothing new)" if report.imported == 0 else "")
        )
        click.echo(
            f"  parity: {report.in_source - len(report.missing) - len(report.differing)} match, {len(report.missing)} missing, {len(report.differing)} differing"
        )
        for record_id in report.differing:
            click.echo(f"  differing: {record_id} (the store holds another payload under this id)")
        for record_id in report.missing:
            click.echo(f"  missing: {record_id}")
        click.echo("  parity OK" if report.ok else "  parity FAILED")
    if not report.ok:
        raise SystemExit(ExitCode.CHECK_FAILED)
