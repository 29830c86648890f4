"""Settings shared by the apps: the platform home, and where metadata is kept.

Resolution, first match wins:
  metadata URL   --url option > DATAPLATFORM_METADATA_URL > [metadata] url in the settings
                 file > the embedded SQLite store, sqlite:///<home>/metadata.db
  settings file  DATAPLATFORM_SETTINGS > <home>/settings.toml (optional)
  home           DATAPLATFORM_HOME > ~/.dataplatform
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

import attrs
import cattrs

HOME_VARIABLE = "DATAPLATFORM_HOME"
SETTINGS_VARIABLE = "DATAPLATFORM_SETTINGS"
METADATA_URL_VARIABLE = "DATAPLATFORM_METADATA_URL"


@attrs.frozen
class MetadataSection:
    url: str | None = None


@attrs.frozen
class SettingsFile:
    metadata: MetadataSection = MetadataSection()


@attrs.frozen
class Settings:
    home: Path
    metadata_url: str
    source: str  # where metadata_url came from, for messages


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


_converter = cattrs.Converter(forbid_extra_keys=True)


def _read_file(path: Path) -> SettingsFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as bad:
        raise SettingsError(f"{path}: not valid TOML: {bad}") from None
    try:
        return _converter.structure(data, SettingsFile)
    except cattrs.BaseValidationError as invalid:
        reasons = "; ".join(cattrs.transform_error(invalid, path="settings"))
        raise SettingsError(
            f'{path}: {reasons}. Expected:\n  [metadata]\n  url = "sqlite:///path/metadata.db"'
        ) from None


def load_settings(environ: Mapping[str, str] | None = None, url: str | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get(HOME_VARIABLE) or "~/.dataplatform").expanduser()
    settings_path = Path(env.get(SETTINGS_VARIABLE) or home / "settings.toml").expanduser()
    from_file = _read_file(settings_path) if settings_path.is_file() else SettingsFile()
    if url:
        return Settings(home, url, "--url")
    if env.get(METADATA_URL_VARIABLE):
        return Settings(home, env[METADATA_URL_VARIABLE], METADATA_URL_VARIABLE)
    if from_file.metadata.url:
        return Settings(home, from_file.metadata.url, f"{settings_path} [metadata] url")
    return Settings(home, f"sqlite:///{home / 'metadata.db'}", "the embedded default")
