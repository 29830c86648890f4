"""Settings shared by the apps: the platform home, and where metadata is kept.

Resolution, first match wins:
  metadata URL   --url option > DATAPLATFORM_METADATA_URL > [metadata] url in the settings
                 file > the embedded SQLite store, sqlite:///<home>/metadata.db
  transport      DATAPLATFORM_METADATA_TRANSPORT > [metadata] transport > direct
  outbox URL     DATAPLATFORM_OUTBOX_URL > [metadata] outbox > sqlite:///<home>/outbox.db
  NATS URL       DATAPLATFORM_NATS_URL > [metadata] nats > nats://127.0.0.1:4222
  NATS stream    DATAPLATFORM_NATS_STREAM > [metadata] nats_stream > METADATA
  service token  DATAPLATFORM_METADATA_TOKEN > [metadata] token (for an http(s):// store)
  settings file  DATAPLATFORM_SETTINGS > <home>/settings.toml (optional)
  home           DATAPLATFORM_HOME > ~/.dataplatform
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs
from sqlalchemy.engine import URL

from adapters.files.toml_edge import toml_converter

HOME_VARIABLE = "DATAPLATFORM_HOME"
SETTINGS_VARIABLE = "DATAPLATFORM_SETTINGS"
METADATA_URL_VARIABLE = "DATAPLATFORM_METADATA_URL"


TRANSPORTS = ("direct", "outbox", "nats")
TRANSPORT_VARIABLE = "DATAPLATFORM_METADATA_TRANSPORT"
OUTBOX_URL_VARIABLE = "DATAPLATFORM_OUTBOX_URL"
NATS_URL_VARIABLE = "DATAPLATFORM_NATS_URL"
NATS_STREAM_VARIABLE = "DATAPLATFORM_NATS_STREAM"
TOKEN_VARIABLE = "DATAPLATFORM_METADATA_TOKEN"
_STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@attrs.frozen
class MetadataSection:
    url: str | None = None
    # How producers' records reach the store: direct, outbox (a relay drains it), nats.
    transport: str | None = None
    outbox: str | None = None  # the outbox database; default sqlite:///<home>/outbox.db
    nats: str | None = None  # the broker of transport "nats"; default nats://127.0.0.1:4222
    # The JetStream stream (its subjects: the name in lower case, .records and .dead).
    nats_stream: str | None = None
    token: str | None = None  # the bearer token for an http(s):// store (the service)
    budget: int = attrs.field(default=10_000, validator=attrs.validators.ge(1))
    budget_wait_s: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    spill: bool = True  # when the budget has no room in time: to the outbox, else fail


OUTPUTS = ("gateway", "legacy", "both")
OUTPUTS_VARIABLE = "DATAPLATFORM_INGESTION_OUTPUTS"


def _outputs(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in OUTPUTS:
        raise ValueError(f"expected one of {', '.join(OUTPUTS)}; got {value!r}")


@attrs.frozen
class IngestionSection:
    # Where runs report: the gateway's records (the default since parity held in CI), the
    # legacy files, or both (while a consumer of the files still needs them).
    outputs: str = attrs.field(default="gateway", validator=_outputs)


@attrs.frozen
class SettingsFile:
    metadata: MetadataSection = MetadataSection()
    ingestion: IngestionSection = IngestionSection()


@attrs.frozen
class Settings:
    home: Path
    metadata_url: str
    source: str  # where metadata_url came from, for messages
    ingestion_outputs: str = "gateway"
    transport: str = "direct"
    outbox_url: str = ""  # where the outbox is (the relay's source), always set by load_settings
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "METADATA"
    token: str | None = None
    budget: int = 10_000  # records in flight to the broker per process
    budget_wait_s: float = 30.0
    spill: bool = True


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


_converter = toml_converter()


def _toml_key(path: str) -> str:
    """cattrs' ``.metadata.url`` as a TOML reader writes it: ``[metadata] url``."""
    section, _, key = path.strip(".").partition(".")
    return f"[{section}] {key}" if key else f"[{section}]"


def _read_file(path: Path) -> SettingsFile:
    try:
        raw = path.read_bytes()
    except OSError as failed:
        raise SettingsError(f"{path}: cannot read the settings file ({failed.strerror})") from None
    try:
        text = raw.decode("utf-8")
        if "\x00" in text:
            raise UnicodeError("NUL")
    except UnicodeError:
        raise SettingsError(
            f"{path}: not a settings file (binary or not UTF-8); it must be UTF-8 TOML like "
            f'[metadata] url = "sqlite:///path/metadata.db"'
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as bad:
        raise SettingsError(f"{path}: not valid TOML: {bad}") from None
    try:
        return _converter.structure(data, SettingsFile)
    except cattrs.BaseValidationError as invalid:
        reasons = "; ".join(
            f"{_toml_key(where)}: "
            + reason.replace("invalid value for type, expected str | None", "expected a string")
            for reason, _, where in (
                line.rpartition(" @ ") for line in cattrs.transform_error(invalid, path="")
            )
        )
        raise SettingsError(
            f'{path}: {reasons}. Expected: [metadata] url = "sqlite:///path/metadata.db"'
        ) from None


def load_settings(environ: Mapping[str, str] | None = None, url: str | None = None) -> Settings:
    """The settings from the environment, the settings file and ``url`` (--url).

    An empty ``--url ''`` is an error (the store wiring says so), not "no option".
    """
    env = os.environ if environ is None else environ
    home = Path(env.get(HOME_VARIABLE) or "~/.dataplatform").expanduser().absolute()
    if home.exists() and not home.is_dir():
        raise SettingsError(
            f"{HOME_VARIABLE}: {home} is a file, not a directory; point it at a directory"
        )
    explicit = env.get(SETTINGS_VARIABLE)
    settings_path = Path(explicit or home / "settings.toml").expanduser()
    if explicit and not settings_path.is_file():
        raise SettingsError(
            f"{SETTINGS_VARIABLE}={explicit}: no such settings file; create it or unset "
            f"{SETTINGS_VARIABLE}"
        )
    if settings_path.exists() and not settings_path.is_file():
        # Not a settings file, and not nothing either: ignoring it would hide the mistake.
        raise SettingsError(
            f"{settings_path}: is a directory, not a settings file; remove it or make it a "
            f'UTF-8 TOML file like [metadata] url = "sqlite:///path/metadata.db"'
        )
    from_file = _read_file(settings_path) if settings_path.is_file() else SettingsFile()
    outputs = env.get(OUTPUTS_VARIABLE) or from_file.ingestion.outputs
    if outputs not in OUTPUTS:
        raise SettingsError(
            f"{OUTPUTS_VARIABLE}: expected one of {', '.join(OUTPUTS)}; got {outputs!r}"
        )
    transport = env.get(TRANSPORT_VARIABLE) or from_file.metadata.transport or "direct"
    if transport not in TRANSPORTS:
        where = (
            TRANSPORT_VARIABLE
            if env.get(TRANSPORT_VARIABLE)
            else f"{settings_path} [metadata] transport"
        )
        raise SettingsError(f"{where}: expected one of {', '.join(TRANSPORTS)}; got {transport!r}")
    outbox = (
        env.get(OUTBOX_URL_VARIABLE)
        or from_file.metadata.outbox
        or URL.create("sqlite", database=str(home / "outbox.db")).render_as_string()
    )
    stream = env.get(NATS_STREAM_VARIABLE) or from_file.metadata.nats_stream or "METADATA"
    if not _STREAM_NAME.fullmatch(stream):
        where = (
            NATS_STREAM_VARIABLE
            if env.get(NATS_STREAM_VARIABLE)
            else f"{settings_path} [metadata] nats_stream"
        )
        raise SettingsError(
            f"{where}: {stream!r} is not a stream name; use letters, digits, '-' and '_' "
            f"(at most 64)"
        )
    chosen: dict[str, Any] = {
        "ingestion_outputs": outputs,
        "transport": transport,
        "outbox_url": outbox,
        "nats_url": env.get(NATS_URL_VARIABLE)
        or from_file.metadata.nats
        or "nats://127.0.0.1:4222",
        "nats_stream": stream,
        "token": env.get(TOKEN_VARIABLE) or from_file.metadata.token,
        "budget": from_file.metadata.budget,
        "budget_wait_s": from_file.metadata.budget_wait_s,
        "spill": from_file.metadata.spill,
    }
    if url is not None:
        return Settings(home, url, "--url", **chosen)
    if env.get(METADATA_URL_VARIABLE):  # set but empty counts as unset, as shells use it
        return Settings(home, env[METADATA_URL_VARIABLE], METADATA_URL_VARIABLE, **chosen)
    if from_file.metadata.url is not None:
        return Settings(home, from_file.metadata.url, f"{settings_path} [metadata] url", **chosen)
    return Settings(home, embedded_url(home), "the embedded default", **chosen)


def embedded_url(home: Path) -> str:
    """The URL of the embedded store under ``home``, the path escaped as a URL needs
    (a home holding '?' or '%41' must not land elsewhere)."""
    return URL.create("sqlite", database=str(home / "metadata.db")).render_as_string()
