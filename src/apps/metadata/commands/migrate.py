"""`metadata migrate`: create or upgrade the store's schema."""

from __future__ import annotations

import click

from apps.cli.output import echo_json, json_option
from apps.services import Services
from apps.store import MetadataStore, display_url


@click.command()
@json_option
@click.pass_obj
def migrate(services: Services, as_json: bool) -> None:
    """Create the metadata store's schema, or upgrade it to this version's revision."""
    store: MetadataStore = services.store
    moved: dict[str, int] = {}
    # A foreign or unreachable store: the group's one line.
    before, after = store.migrate(moved)
    where = display_url(store.url)
    if as_json:
        echo_json({"url": where, "from": before, "to": after, "renamed": moved or None})
        return
    if before == after:
        click.echo(f"{where}: already at revision {after}")
        return
    click.echo(f"{where}: upgraded from {before or 'an empty store'} to revision {after}")
    if moved.get("subjects"):
        click.echo(
            f"  {moved['subjects']} dataset name(s) were spelled another way: {moved['moved']} "
            f"record(s) moved onto the canonical name, {moved['duplicates']} stated under both "
            f"kept once; the old names are in metadata_aliases and still find the records"
        )
