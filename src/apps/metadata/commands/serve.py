"""`metadata serve` (the store over HTTP) and `metadata tokens` (who may use it)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from adapters.http.access import Limits
from adapters.http.running import serve as run_server
from adapters.http.server import MetadataService
from adapters.sql.tokens import DuplicateToken, SqlTokenStore
from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option, table
from apps.cli.params import option_rows
from apps.services import Services
from apps.store import MetadataStore, display_url
from domain.metadata.gateway import MetadataGateway
from domain.metadata.query import RecordQuery
from domain.metadata.tokens import Scope


def _tokens(store: MetadataStore) -> SqlTokenStore:
    if store.remote:
        bad_input(
            f"{display_url(store.url)} is the metadata service itself; run this against its "
            f"database (--url sqlite:///... or postgresql+psycopg://...)"
        )
    store.repository()  # the store's checks first: created when new, refused when old
    return SqlTokenStore(store.engine())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@option_rows(
    (
        "--max-body-bytes",
        click.IntRange(1024),
        Limits().max_body_bytes,
        "A batch larger than this is refused (413) before it is read whole.",
    ),
    (
        "--max-records",
        click.IntRange(1),
        Limits().max_records,
        "A batch of more records is refused (413).",
    ),
    (
        "--rate",
        click.FloatRange(min=0.1),
        Limits().rate_per_s,
        "Requests per second per token, on average (over it: 429 with Retry-After).",
    ),
    (
        "--burst",
        click.IntRange(1),
        Limits().burst,
        "Requests a token may make at once before its rate applies.",
    ),
)
@click.pass_obj
def serve(
    services: Services,
    host: str,
    port: int,
    max_body_bytes: int,
    max_records: int,
    rate: float,
    burst: int,
) -> None:
    """Serve the metadata store over HTTP until Ctrl-C.

    Producers and readers elsewhere use it by URL alone (--url http://HOST:PORT, with
    DATAPLATFORM_METADATA_TOKEN). Every route but /health/* , /metrics and /openapi.json
    needs a bearer token (`metadata tokens create`): read for queries, write for batches.

    \b
      POST /api/v1/records     a batch (JSON Lines, the form of record files)
      GET  /api/v1/records     a paged query (the parameters of `metadata query`)
      GET  /api/v1/latest      the newest record of a kind about a subject
      GET  /api/v1/subjects    the datasets with records, searched and paged
      POST /api/v1/lineage     OpenLineage run events
      GET  /ui                 the dashboard: datasets, runs, schema timelines, volumes,
                               recon results (sign in with a token of read scope)
      GET  /health/live, /health/ready, /metrics, /openapi.json
    """
    store: MetadataStore = services.store
    tokens = _tokens(store)
    gateway = MetadataGateway(store.repository(), home=str(store.settings.home))

    def ready() -> None:
        gateway.query(RecordQuery(limit=1))

    def access_log(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    service = MetadataService(
        gateway,
        store.converter,
        tokens,
        limits=Limits(max_body_bytes, max_records, rate, burst),
        ready=ready,
        access_log=access_log,
    )
    active = [t for t in tokens.tokens() if t.active]
    click.echo(
        f"serving {store.where} on http://{host}:{port} (OpenAPI: /openapi.json); Ctrl-C stops",
        err=True,
    )
    if not active:
        click.echo(
            "no tokens yet: every request but /health, /metrics and /openapi.json gets 401; "
            "`metadata tokens create NAME --scope read --scope write` makes one",
            err=True,
        )
    try:
        run_server(service.app(), host, port, access_log)
    except OSError as failed:
        fail(f"cannot listen on {host}:{port}: {failed.strerror or failed}")


@click.group()
def tokens() -> None:
    """Bearer tokens of `metadata serve`: create (shown once), list, revoke.

    \b
      metadata tokens create loader --scope write --scope read
      metadata tokens list
      metadata tokens revoke loader
    """


@tokens.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice([s.value for s in Scope]),
    multiple=True,
    required=True,
    help="read (queries), write (batches); repeat for both.",
)
@json_option
@click.pass_obj
def tokens_create(services: Services, name: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Make a token NAME; its secret is printed once (the store keeps only a digest)."""
    if not name.strip() or len(name) > 128 or any(c.isspace() for c in name):
        bad_input(f"token name {name!r}: 1 to 128 characters without spaces")
    store: MetadataStore = services.store
    try:
        secret = _tokens(store).create(name, {Scope(s) for s in scopes}, datetime.now(UTC))
    except DuplicateToken as duplicate:
        bad_input(str(duplicate))
    if as_json:
        echo_json({"name": name, "scopes": sorted(set(scopes)), "token": secret})
        return
    click.echo(secret)
    click.echo(
        f"token {name!r} ({', '.join(sorted(set(scopes)))}): shown once, keep it as a secret "
        f"(DATAPLATFORM_METADATA_TOKEN)",
        err=True,
    )


@tokens.command("list")
@json_option
@click.pass_obj
def tokens_list(services: Services, as_json: bool) -> None:
    """Every token: name, scopes, created, revoked (never a secret)."""
    store: MetadataStore = services.store
    found = _tokens(store).tokens()
    rows = [
        {
            "name": t.name,
            "scopes": sorted(s.value for s in t.scopes),
            "created_at": t.created_at.isoformat(),
            "revoked_at": None if t.revoked_at is None else t.revoked_at.isoformat(),
        }
        for t in found
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no tokens; `metadata tokens create NAME --scope read` makes one")
        return
    click.echo(
        table(
            ["name", "scopes", "created", "revoked"],
            [
                [
                    t.name,
                    ",".join(sorted(s.value for s in t.scopes)),
                    t.created_at.isoformat(timespec="seconds"),
                    "-" if t.revoked_at is None else t.revoked_at.isoformat(timespec="seconds"),
                ]
                for t in found
            ],
        )
    )


@tokens.command("revoke")
@click.argument("name")
@click.pass_obj
def tokens_revoke(services: Services, name: str) -> None:
    """Revoke the token NAME: the service refuses it from its next request (401)."""
    store: MetadataStore = services.store
    if not _tokens(store).revoke(name, datetime.now(UTC)):
        fail(f"no active token {name!r}; `metadata tokens list` shows them")
    click.echo(f"token {name!r} revoked")
