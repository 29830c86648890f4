"""`metadata` - the command line of the metadata subsystem."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import IO, Any, NoReturn

import click
import punq

from adapters.serialization.records import RecordConverter, read_records
from apps.metadata.bootstrap import MetadataStore, bootstrap, display_url
from apps.metadata.render import records_table
from apps.settings import SettingsError, load_settings
from domain.dataset import DatasetRef, RunId
from domain.metadata import MetadataRecord, RecordKind
from domain.metadata.errors import InvalidBatch, MetadataError, RecordConflict, StoreNotReady
from domain.metadata.gateway import MetadataGateway
from domain.metadata.query import MAX_LIMIT, Order, RecordPage, RecordQuery

EXIT_BAD_INPUT = 2
KINDS = [kind.value for kind in RecordKind]


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class SubjectType(click.ParamType[DatasetRef]):
    name = "SUBJECT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> DatasetRef:
        if isinstance(value, DatasetRef):
            return value
        try:
            return DatasetRef.parse(value)
        except ValueError as invalid:
            self.fail(str(invalid), param, ctx)


class UtcDateTime(click.ParamType[datetime]):
    name = "TIMESTAMP"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO-8601 timestamp (e.g. 2024-05-01T00:00:00Z)", param, ctx
            )
        if parsed.tzinfo is None:
            self.fail(f"{value!r} has no time zone; add Z or an offset like +02:00", param, ctx)
        return parsed


SUBJECT = SubjectType()
TIMESTAMP = UtcDateTime()
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def gateway(container: punq.Container) -> MetadataGateway:
    try:
        result: MetadataGateway = container.resolve(MetadataGateway)
    except StoreNotReady as not_ready:
        fail(str(not_ready))
    except ValueError as invalid:
        fail(str(invalid))
    return result


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--url",
    metavar="URL",
    help="Metadata store: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB. "
    "Default: $DATAPLATFORM_METADATA_URL, then [metadata] url in "
    "$DATAPLATFORM_HOME/settings.toml, then the embedded store "
    "$DATAPLATFORM_HOME/metadata.db (home: ~/.dataplatform).",
)
@click.pass_context
def cli(ctx: click.Context, url: str | None) -> None:
    """Record, query and check what every run read, wrote, changed and lost.

    Metadata is a stream of records: each states one fact (a schema snapshot, a profile,
    a drift, an ingestion volume ...) about a dataset (SUBJECT, written namespace::name)
    in a run. Try:

    \b
      metadata emit examples/records/orders-run.jsonl
      metadata latest ingestion_volume postgres://warehouse:5432::sales.public.orders
      metadata history schema_snapshot postgres://warehouse:5432::sales.public.orders
      metadata query --run-id 2024-05-01T06-00-orders
    """
    if ctx.obj is None:
        try:
            ctx.obj = bootstrap(load_settings(url=url))
        except SettingsError as invalid:
            fail(str(invalid))


# -- records validate ---------------------------------------------------------------------------


@cli.group()
def records() -> None:
    """Work with metadata record files (JSON or JSONL)."""


@records.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), metavar="FILE|-")
@json_option
@click.pass_obj
def validate(container: punq.Container, file: IO[str], as_json: bool) -> None:
    """Check that FILE holds valid metadata records; '-' reads standard input.

    FILE is one JSON record, a JSON list of records, or JSONL (one record per line). Each
    bad record is printed with its line, the JSON path of the problem and the reason, e.g.

    \b
      line 3: $.payload.rows_written: expected int, got str '5'

    Exit status: 0 when every record is valid, 2 when any is not (or the file is empty).
    """
    decoded, source = _decode(container, file)
    bad = [d for d in decoded if d.record is None]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": source,
                    "checked": len(decoded),
                    "valid": len(decoded) - len(bad),
                    "invalid": _problem_report(bad),
                },
                indent=2,
            )
        )
    else:
        _print_problems(source, bad)
        if decoded:
            click.echo(
                f"{source}: {len(decoded)} record(s) checked, {len(decoded) - len(bad)} valid, {len(bad)} invalid"
            )
    if bad or not decoded:
        sys.exit(EXIT_BAD_INPUT)


def _decode(container: punq.Container, file: IO[str]) -> tuple[list[Any], str]:
    converter: RecordConverter = container.resolve(RecordConverter)
    source = "<stdin>" if file.name == "<stdin>" else file.name
    decoded = list(read_records(file.read(), converter))
    if not decoded:
        click.echo(f"{source}: no records found", err=True)
    return decoded, source


def _problem_report(bad: list[Any]) -> list[dict[str, Any]]:
    return [
        {"line": d.line, "problems": [{"path": p.path, "message": p.message} for p in d.problems]}
        for d in bad
    ]


def _print_problems(source: str, bad: list[Any]) -> None:
    for decoded in bad:
        for problem in decoded.problems:
            click.echo(f"{source}: line {decoded.line}: {problem}", err=True)


# -- emit -----------------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), metavar="FILE|-")
@json_option
@click.pass_obj
def emit(container: punq.Container, file: IO[str], as_json: bool) -> None:
    """Emit the records in FILE (JSON, a JSON list, or JSONL; '-' reads stdin).

    All or nothing: when any record is invalid, each problem is printed with its line and
    path and nothing is written (exit 2). Records already stored are reported as
    duplicates; a stored id with a different payload is a conflict (exit 2, nothing written).
    """
    decoded, source = _decode(container, file)
    bad = [d for d in decoded if d.record is None]
    if bad or not decoded:
        if as_json:
            click.echo(
                json.dumps(
                    {"file": source, "written": 0, "invalid": _problem_report(bad)}, indent=2
                )
            )
        _print_problems(source, bad)
        if bad:
            click.echo(
                f"{source}: {len(bad)} of {len(decoded)} record(s) invalid; nothing written",
                err=True,
            )
        sys.exit(EXIT_BAD_INPUT)
    try:
        result = gateway(container).emit_many(d.record for d in decoded)
    except (InvalidBatch, RecordConflict) as refused:
        fail(f"{source}: {refused}", EXIT_BAD_INPUT)
    if as_json:
        click.echo(
            json.dumps(
                {"file": source, "accepted": result.accepted, "duplicates": result.duplicates}
            )
        )
    else:
        click.echo(
            f"{source}: {result.accepted} record(s) written, {result.duplicates} duplicate(s) skipped"
        )


# -- latest / history / query --------------------------------------------------------------------


def _payloads(container: punq.Container, found: tuple[MetadataRecord, ...]) -> list[dict[str, Any]]:
    converter: RecordConverter = container.resolve(RecordConverter)
    return [converter.unstructure_payload(r.payload) for r in found]


def _print_page(container: punq.Container, page: RecordPage, as_json: bool) -> None:
    converter: RecordConverter = container.resolve(RecordConverter)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "records": [converter.unstructure(r) for r in page.records],
                    "next_cursor": page.next_cursor,
                },
                indent=2,
            )
        )
        return
    if not page.records:
        click.echo("no records match")
        return
    click.echo(records_table(page.records, _payloads(container, page.records)))
    if page.next_cursor:
        click.echo(f"\nmore: add --cursor {page.next_cursor}")


@cli.command()
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("subject", type=SUBJECT)
@json_option
@click.pass_obj
def latest(container: punq.Container, kind: str, subject: DatasetRef, as_json: bool) -> None:
    """Show the newest KIND record about SUBJECT (namespace::name).

    KIND is one of: schema_snapshot, dataset_profile, schema_drift, precision_check,
    ingestion_volume, ingestion_runtime, recon_result, run_event. Exit 1 when there is none.
    """
    found = gateway(container).latest(RecordKind(kind), subject)
    if found is None:
        if as_json:
            click.echo("null")
        fail(f"no {kind} record about {subject}")
    converter: RecordConverter = container.resolve(RecordConverter)
    data = converter.unstructure(found)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    envelope = [
        (key, str(data[key]))
        for key in ("record_id", "kind", "observed_at", "run_id", "producer", "payload_version")
    ]
    envelope.insert(2, ("subject", str(found.subject)))
    width = max(len(k) for k, _ in envelope)
    for key, value in envelope:
        click.echo(f"{key.ljust(width)}  {value}")
    click.echo("payload:")
    click.echo(json.dumps(data["payload"], indent=2))


limit_option = click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=20,
    show_default=True,
    help=f"Records per page (at most {MAX_LIMIT}).",
)
cursor_option = click.option("--cursor", help="Continue after the page that printed this cursor.")
since_option = click.option(
    "--since", type=TIMESTAMP, help="Observed at or after (ISO-8601 with offset)."
)
until_option = click.option(
    "--until", type=TIMESTAMP, help="Observed before (ISO-8601 with offset)."
)


@cli.command()
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("subject", type=SUBJECT)
@since_option
@until_option
@limit_option
@cursor_option
@json_option
@click.pass_obj
def history(
    container: punq.Container,
    kind: str,
    subject: DatasetRef,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List the KIND records about SUBJECT, newest first."""
    try:
        page = gateway(container).history(
            RecordKind(kind), subject, since=since, until=until, limit=limit, cursor=cursor
        )
    except ValueError as invalid:
        fail(str(invalid), EXIT_BAD_INPUT)
    _print_page(container, page, as_json)


@cli.command()
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Record kind (repeatable)."
)
@click.option("--subject", type=SUBJECT, help="Exactly this dataset (namespace::name).")
@click.option("--namespace-prefix", help="Subjects whose namespace starts with this.")
@click.option("--name-prefix", help="Subjects whose name starts with this.")
@click.option("--run-id", help="Records of this run.")
@click.option("--producer", help="Records from this producer.")
@since_option
@until_option
@click.option("--oldest-first", is_flag=True, help="Oldest first (default: newest first).")
@limit_option
@cursor_option
@json_option
@click.pass_obj
def query(
    container: punq.Container,
    kinds: tuple[str, ...],
    subject: DatasetRef | None,
    namespace_prefix: str | None,
    name_prefix: str | None,
    run_id: str | None,
    producer: str | None,
    since: datetime | None,
    until: datetime | None,
    oldest_first: bool,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Find records by kind, subject, run, producer and time; all filters combine (AND)."""
    try:
        request = RecordQuery(
            kinds=[RecordKind(k) for k in kinds],
            subject=subject,
            namespace_prefix=namespace_prefix,
            name_prefix=name_prefix,
            run_id=RunId(run_id) if run_id else None,
            producer=producer,
            since=since,
            until=until,
            order=Order.OLDEST_FIRST if oldest_first else Order.NEWEST_FIRST,
            limit=limit,
            cursor=cursor,
        )
    except ValueError as invalid:
        fail(str(invalid), EXIT_BAD_INPUT)
    _print_page(container, gateway(container).query(request), as_json)


# -- migrate --------------------------------------------------------------------------------------


@cli.command()
@json_option
@click.pass_obj
def migrate(container: punq.Container, as_json: bool) -> None:
    """Create the metadata store's schema, or upgrade it to this version's revision."""
    store: MetadataStore = container.resolve(MetadataStore)
    if store.scheme() == "memory":
        fail("an in-memory store has nothing to migrate")
    try:
        before, after = store.migrate()
    except (ValueError, MetadataError) as invalid:
        fail(str(invalid))
    where = display_url(store.url)
    if as_json:
        click.echo(json.dumps({"url": where, "from": before, "to": after}))
    elif before == after:
        click.echo(f"{where}: already at revision {after}")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty store'} to revision {after}")


if __name__ == "__main__":
    cli()
