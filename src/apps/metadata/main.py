"""`metadata` - the command line of the metadata subsystem."""

from __future__ import annotations

import enum
import importlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import attrs
import click
import punq
from sqlalchemy.exc import DBAPIError

from adapters.serialization.records import RecordConverter, read_records
from apps.metadata.bootstrap import MetadataStore, bootstrap, display_url, sql_harvest
from apps.metadata.policies import PolicyFileError, load_policies
from apps.metadata.render import records_table, table
from apps.settings import METADATA_URL_VARIABLE, SettingsError, load_settings
from domain.dataset import DatasetRef, RunId
from domain.metadata import DatasetProfile, MetadataRecord, RecordKind, SchemaSnapshot
from domain.metadata.backfill import backfill as run_backfill
from domain.metadata.errors import InvalidBatch, MetadataError, RecordConflict, StoreNotReady
from domain.metadata.gateway import MetadataGateway
from domain.metadata.query import MAX_LIMIT, Order, RecordPage, RecordQuery
from domain.schema import Schema
from domain.schema.checks import MissingBaseline, PrecisionGuard, compare
from domain.schema.policy import (
    NewColumns,
    Nullability,
    PolicyBook,
    PrecisionMode,
    RemovedColumns,
    TypeChanges,
)

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


class MetadataGroup(click.Group):
    """Turns a store that cannot be reached into one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as failure:
            store: MetadataStore | None = None
            if isinstance(ctx.obj, punq.Container):
                store = ctx.obj.resolve(MetadataStore)
            where = (
                f"the metadata store at {display_url(store.url)} ({store.settings.source})"
                if store
                else "the database"
            )
            reason = str(failure.orig or failure).splitlines()[0]
            fail(
                f"{where} failed: {reason}. Check the URL (--url, {METADATA_URL_VARIABLE}) and that the server runs."
            )


@click.group(
    cls=MetadataGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


# -- diff / check-precision ------------------------------------------------------------------------

_SEVERITY_RANK = {
    "refused": 0,
    "violation": 0,
    "incompatible": 1,
    "narrowing": 2,
    "warning": 2,
    "widening": 3,
    "info": 4,
    "ok": 5,
}


def _snapshot(container: punq.Container, subject: DatasetRef, record_id: str) -> MetadataRecord:
    page = gateway(container).query(
        RecordQuery(
            kinds=[RecordKind.SCHEMA_SNAPSHOT], subject=subject, record_id=record_id, limit=1
        )
    )
    if not page.records:
        fail(
            f"no schema_snapshot {record_id} about {subject}; list them with `metadata history schema_snapshot {subject}`",
            EXIT_BAD_INPUT,
        )
    return page.records[0]


def _override(name: str, modes: type[enum.Enum], what: str) -> Any:
    return click.option(
        name, type=click.Choice([m.value for m in modes]), help=f"Override: {what}."
    )


def _policy_options(function: Any) -> Any:
    """The drift-policy options shared by diff and harvest."""
    options = [
        click.option(
            "--policy-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help='TOML file of drift policies ([default], [datasets."namespace::name"]).',
        ),
        _override("--new-columns", NewColumns, "what new columns may do"),
        _override("--removed-columns", RemovedColumns, "what removed columns may do"),
        _override("--type-changes", TypeChanges, "which type changes are allowed"),
        _override("--nullability", Nullability, "whether nullability may change"),
        click.option(
            "--naive-timezone",
            help="Zone of timestamps without one (lets timestamp_ntz widen to timestamp_tz).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _policies(policy_file: Path | None, **overrides: str | None) -> PolicyBook:
    try:
        return load_policies(policy_file, {k: v for k, v in overrides.items() if v is not None})
    except PolicyFileError as invalid:
        fail(str(invalid), EXIT_BAD_INPUT)


@cli.command()
@click.argument("subject", type=SUBJECT)
@click.option(
    "--from",
    "from_id",
    metavar="RECORD_ID",
    help="The older snapshot (default: the second newest).",
)
@click.option(
    "--to", "to_id", metavar="RECORD_ID", help="The newer snapshot (default: the newest)."
)
@_policy_options
@json_option
@click.pass_obj
def diff(
    container: punq.Container,
    /,
    subject: DatasetRef,
    from_id: str | None,
    to_id: str | None,
    policy_file: Path | None,
    as_json: bool,
    **overrides: str | None,
) -> None:
    """Show how SUBJECT's schema changed between two snapshots, judged by its drift policy.

    One row per change, most severe first: refused (the policy forbids it), incompatible,
    narrowing (values can be lost), widening (none can), info. Exit 1 when the policy
    refuses a change.
    """
    policy = _policies(policy_file, **overrides).policy_for(subject)
    if (from_id is None) != (to_id is None):
        fail("give both --from and --to, or neither (the newest two snapshots)", EXIT_BAD_INPUT)
    if from_id and to_id:
        old, new = _snapshot(container, subject, from_id), _snapshot(container, subject, to_id)
    else:
        latest_two = (
            gateway(container).history(RecordKind.SCHEMA_SNAPSHOT, subject, limit=2).records
        )
        if len(latest_two) < 2:
            fail(
                f"{subject} has {len(latest_two)} schema snapshot(s); a diff needs two",
                EXIT_BAD_INPUT,
            )
        new, old = latest_two
    assert isinstance(old.payload, SchemaSnapshot) and isinstance(new.payload, SchemaSnapshot)
    decision = compare(old.payload.schema, new.payload.schema, policy)
    rows = []
    for change in decision.diff.changes:
        violation = next(
            (
                v
                for v in decision.violations
                if v.column.lower() == change.column.lower()
                and change.kind.value in _ASPECT_KINDS[v.aspect]
            ),
            None,
        )
        severity = "refused" if violation else (change.change.label if change.change else "info")
        rows.append(
            {
                "severity": severity,
                "change": change.kind.value,
                "column": change.column,
                "old": (
                    ""
                    if change.old is None
                    else str(change.old.type) + ("" if change.old.nullable else " not null")
                ),
                "new": (
                    ""
                    if change.new is None
                    else str(change.new.type) + ("" if change.new.nullable else " not null")
                ),
                "detail": violation.explanation if violation else change.detail,
            }
        )
    rows.sort(key=lambda row: _SEVERITY_RANK[row["severity"]])
    if as_json:
        click.echo(
            json.dumps(
                {
                    "subject": str(subject),
                    "from": {
                        "record_id": old.record_id,
                        "fingerprint": old.payload.schema.fingerprint,
                    },
                    "to": {
                        "record_id": new.record_id,
                        "fingerprint": new.payload.schema.fingerprint,
                    },
                    "policy": policy.describe(),
                    "allowed": decision.allowed,
                    "changes": rows,
                    "actions": [str(a) for a in decision.actions],
                },
                indent=2,
            )
        )
    else:
        verdict = "ALLOWED" if decision.allowed else "REFUSED"
        click.echo(f"{subject}: {len(rows)} change(s), {verdict} under {policy.describe()}")
        click.echo(
            f"  from {old.record_id} ({old.observed_at:%Y-%m-%d %H:%M}Z)  to {new.record_id} ({new.observed_at:%Y-%m-%d %H:%M}Z)"
        )
        if rows:
            click.echo()
            click.echo(
                table(
                    ("severity", "change", "column", "old", "new", "detail"),
                    [tuple(r.values()) for r in rows],
                )
            )
        if decision.actions:
            click.echo("\nwriter actions: " + "; ".join(str(a) for a in decision.actions))
    if not decision.allowed:
        sys.exit(1)


_ASPECT_KINDS = {
    "new_columns": ("added",),
    "removed_columns": ("removed",),
    "type_changes": ("retyped",),
    "nullability": ("nullability",),
}


@cli.command("check-precision")
@click.option(
    "--source", type=SUBJECT, required=True, help="The dataset values come from (namespace::name)."
)
@click.option("--target", type=SUBJECT, required=True, help="The dataset they are written to.")
@click.option(
    "--policy",
    type=click.Choice([m.value for m in PrecisionMode]),
    default=PrecisionMode.BLOCK.value,
    show_default=True,
    help="block: a misfit refuses the write; warn: report it; widen: propose a target type that fits.",
)
@click.option("--dry-run", is_flag=True, help="Do not emit precision_check records.")
@json_option
@click.pass_obj
def check_precision(
    container: punq.Container,
    source: DatasetRef,
    target: DatasetRef,
    policy: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Check that SOURCE's values fit TARGET's column types, column by column.

    Uses the latest schema snapshots of both and the latest profile of SOURCE. Declared
    fit: every value the source type allows fits. Observed fit: the values seen fit, with
    their margin. Findings are emitted as precision_check records (unless --dry-run).
    Exit 1 when a blocking violation is found.
    """
    guard: PrecisionGuard = container.resolve(PrecisionGuard)
    try:
        findings = guard.check(
            source,
            target,
            mode=PrecisionMode(policy),
            run_id=RunId.new(),
            producer="metadata-cli",
            observed_at=datetime.now(UTC),
            emit=not dry_run,
        )
    except MissingBaseline as missing:
        fail(str(missing), EXIT_BAD_INPUT)
    findings.sort(key=lambda f: _SEVERITY_RANK[f.severity])
    rows = [
        {
            "severity": f.severity,
            "column": f.source.name,
            "source": str(f.source.type),
            "target": str(f.target.type),
            "verdict": f.verdict.value,
            "detail": f.detail,
            "largest_offending_value": f.largest_offending_value,
            "proposed_type": None if f.proposed_type is None else str(f.proposed_type),
        }
        for f in findings
    ]
    blocked = any(f.blocking for f in findings)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "source": str(source),
                    "target": str(target),
                    "policy": policy,
                    "blocked": blocked,
                    "findings": rows,
                },
                indent=2,
            )
        )
    else:
        click.echo(
            f"{source} -> {target}: {len(rows)} shared column(s), policy {policy}: {'BLOCKED' if blocked else 'may proceed'}"
        )
        if rows:
            click.echo()
            click.echo(
                table(
                    ("severity", "column", "source", "target", "verdict", "detail"),
                    [
                        tuple(
                            str(r[k])
                            for k in ("severity", "column", "source", "target", "verdict", "detail")
                        )
                        for r in rows
                    ],
                )
            )
    if blocked:
        sys.exit(1)


# -- harvest / backfill ----------------------------------------------------------------------------


@cli.command()
@click.argument("source", metavar="URL|ENDPOINTS.toml")
@click.option(
    "--schema",
    "schema_name",
    help="Database schema to harvest (default: public on PostgreSQL, main on SQLite).",
)
@click.option(
    "--profile",
    is_flag=True,
    help="Also profile every table (one scan each) and emit dataset_profile records.",
)
@click.option(
    "--no-distinct",
    "no_distinct",
    is_flag=True,
    help="With --profile: leave out distinct counts, the costliest statistic (about half "
    "of a profile's time).",
)
@click.option(
    "--details", is_flag=True, help="Print each dataset's schema and profile after the summary."
)
@_policy_options
@json_option
@click.pass_obj
def harvest(
    container: punq.Container,
    /,
    source: str,
    schema_name: str | None,
    profile: bool,
    no_distinct: bool,
    details: bool,
    policy_file: Path | None,
    as_json: bool,
    **overrides: str | None,
) -> None:
    """Harvest every table of a database schema, or every dataset of an endpoint file.

    URL is a database (postgresql+psycopg://..., sqlite:///...): all tables of --schema.
    ENDPOINTS.toml lists [[datasets]] (kind parquet, csv, json or jdbc) read through Spark;
    see docs/metadata.md.

    For each table: a schema_snapshot when its schema changed since the last harvest, a
    schema_drift record judged by its drift policy, and with --profile a dataset_profile.
    A table that fails is reported and the others still harvest (exit 1 if any failed).

    A profile is one scan per dataset: row count, nulls, distinct counts, min, max, longest
    string and decimal digits. Parquet files answer row counts, nulls and most min/max from
    their footers; --no-distinct drops the distinct counts for a faster scan.

    \b
      metadata harvest postgresql+psycopg://postgres@127.0.0.1:5432/test --schema sales --profile
      metadata harvest examples/datasets/endpoints.toml --profile --no-distinct --details
    """
    policies = _policies(policy_file, **overrides)
    sessions = None
    shown = source if source.endswith(".toml") else display_url(source)
    try:
        if source.endswith(".toml"):
            if not Path(source).is_file():
                fail(f"{source}: no such endpoint file", EXIT_BAD_INPUT)
            # Imported by name: the Spark adapters (and a JVM) only when an endpoint file asks.
            try:
                spark = importlib.import_module("apps.metadata.spark_harvest")
            except ModuleNotFoundError as missing:
                fail(
                    f"harvesting an endpoint file needs {missing.name}, which this app does not "
                    f"carry: install pyspark==4.3.0 into this Python (the PEX falls back to it), "
                    f"or run `./pants run src/apps/metadata/main.py -- harvest {source}`"
                )
            job, sessions = spark.spark_harvest(
                container, Path(source), policies, distinct=not no_distinct
            )
        else:
            job = sql_harvest(container, source, schema_name, policies, distinct=not no_distinct)
    except ValueError as invalid:
        fail(str(invalid), EXIT_BAD_INPUT)
    gateway(container)  # refuse an out-of-date store before touching the catalog
    with click.progressbar(
        length=1, label="harvesting", file=sys.stderr, show_pos=True, item_show_func=lambda s: s
    ) as bar:

        def progress(done: int, total: int, subject: DatasetRef) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos, str(subject) if done < total else None)

        try:
            outcomes = job.run(
                run_id=RunId.new(),
                producer="metadata-harvest",
                now=lambda: datetime.now(UTC),
                profile=profile,
                progress=progress,
            )
        except Exception as failure:  # the catalog itself could not be listed
            fail(f"{shown}: {failure}".splitlines()[0])
        finally:
            if sessions is not None:
                sessions.stop()
    rows = [
        {
            "dataset": str(o.subject),
            "columns": o.columns,
            "rows": o.rows,
            "drift": o.drift,
            "error": o.error,
        }
        for o in outcomes
    ]
    if as_json:
        click.echo(json.dumps({"source": shown, "datasets": rows}, indent=2))
    else:
        click.echo(
            table(
                ("dataset", "columns", "rows", "drift"),
                [
                    (
                        str(o.subject),
                        _cell(o.columns),
                        _cell(o.rows),
                        f"FAILED: {o.error}" if o.error else o.drift,
                    )
                    for o in outcomes
                ],
            )
        )
        if details:
            for outcome in outcomes:
                if outcome.schema is not None:
                    click.echo(f"\n{outcome.subject}")
                    click.echo(_schema_table(outcome.schema, outcome.profile))
        failed = sum(1 for o in outcomes if not o.ok)
        click.echo(f"\n{len(outcomes)} dataset(s) harvested, {failed} failed")
    if any(not o.ok for o in outcomes):
        sys.exit(1)


def _schema_table(schema: Schema, profile: DatasetProfile | None) -> str:
    stats = {c.name.lower(): c for c in profile.columns} if profile is not None else {}
    rows = []
    for column in schema.columns:
        seen = stats.get(column.name.lower())
        rows.append(
            (
                column.name,
                str(column.type) + ("" if column.nullable else " not null"),
                "" if seen is None else f"{seen.nulls:,}",
                (
                    ""
                    if seen is None or seen.approx_distinct is None
                    else f"~{seen.approx_distinct:,}"
                ),
                "" if seen is None or seen.min_value is None else seen.min_value[:26],
                "" if seen is None or seen.max_value is None else seen.max_value[:26],
            )
        )
    return table(("column", "type", "nulls", "distinct", "min", "max"), rows)


def _cell(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


@cli.command()
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR"
)
@json_option
@click.pass_obj
def backfill(container: punq.Container, directory: Path, as_json: bool) -> None:
    """Import a legacy metadata cache directory, then check parity with the store.

    DIR holds *.json files (one record, or a list of records, each) and *.jsonl files (one
    record per line), in any sub-directory. Valid records are emitted through the gateway,
    idempotently: a second run imports nothing new. The parity report compares the records
    in the files with the store by record id (missing, differing). Exit 1 when parity fails
    or a file holds invalid records.
    """
    converter: RecordConverter = container.resolve(RecordConverter)
    files = sorted(
        p for p in directory.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()
    )
    records: list[MetadataRecord] = []
    invalid = 0
    for path in files:
        for decoded in read_records(path.read_text(encoding="utf-8"), converter):
            if decoded.record is None:
                invalid += 1
                for problem in decoded.problems:
                    click.echo(f"{path}: line {decoded.line}: {problem}", err=True)
            else:
                records.append(decoded.record)
    report = run_backfill(gateway(container), records, invalid=invalid)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "directory": str(directory),
                    "files": len(files),
                    **attrs.asdict(report),
                    "ok": report.ok,
                },
                indent=2,
            )
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
        sys.exit(1)


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
