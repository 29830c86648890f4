"""Options every app's command line has."""

from __future__ import annotations

import click

from apps.settings import HOME_VARIABLE, METADATA_URL_VARIABLE, TOKEN_VARIABLE

url_option = click.option(
    "--url",
    metavar="URL",
    help="Metadata store: sqlite:///PATH, postgresql+psycopg://USER@HOST/DB, or "
    f"http(s)://HOST:PORT of `metadata serve` (token: ${TOKEN_VARIABLE}). "
    f"Default: ${METADATA_URL_VARIABLE}, then [metadata] url in "
    f"${HOME_VARIABLE}/settings.toml, then the embedded store "
    f"${HOME_VARIABLE}/metadata.db (home: ~/.dataplatform).",
)
