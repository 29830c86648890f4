"""`metadata` - the command line of the metadata subsystem."""

from __future__ import annotations

import json
import sys
from typing import IO

import click
import punq

from adapters.serialization.records import RecordConverter, read_records
from apps.metadata.bootstrap import bootstrap

EXIT_BAD_INPUT = 2


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Record, query and check what every run read, wrote, changed and lost.

    Metadata is a stream of records: each states one fact (a schema snapshot, a profile,
    a drift, an ingestion volume ...) about a dataset in a run. Start with
    `metadata records validate FILE` to check records before they are emitted.
    """
    if ctx.obj is None:
        ctx.obj = bootstrap()


@cli.group()
def records() -> None:
    """Work with metadata record files (JSON or JSONL)."""


@records.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report for machines.")
@click.pass_obj
def validate(container: punq.Container, file: IO[str], as_json: bool) -> None:
    """Check that FILE holds valid metadata records; '-' reads standard input.

    FILE is one JSON record, a JSON list of records, or JSONL (one record per line). Each
    bad record is printed with its line, the JSON path of the problem and the reason, e.g.

    \b
      line 3: $.payload.rows_written: expected int, got str '5'

    Exit status: 0 when every record is valid, 2 when any is not (or the file is empty).
    """
    converter: RecordConverter = container.resolve(RecordConverter)
    results = list(read_records(file.read(), converter))
    bad = [result for result in results if result.record is None]
    source = "<stdin>" if file.name == "<stdin>" else file.name
    if as_json:
        report = {
            "file": source,
            "checked": len(results),
            "valid": len(results) - len(bad),
            "invalid": [
                {
                    "line": result.line,
                    "problems": [{"path": p.path, "message": p.message} for p in result.problems],
                }
                for result in bad
            ],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        for result in bad:
            for problem in result.problems:
                click.echo(f"{source}: line {result.line}: {problem}", err=True)
        if not results:
            click.echo(f"{source}: no records found", err=True)
        else:
            click.echo(
                f"{source}: {len(results)} record(s) checked, {len(results) - len(bad)} valid, {len(bad)} invalid"
            )
    if bad or not results:
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    cli()
