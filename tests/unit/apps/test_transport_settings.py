"""The transport setting: where it comes from, and what a wrong one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.serialization.records import RecordConverter
from apps.settings import SettingsError, load_settings
from apps.store import MetadataStore
from domain.metadata.transport import DirectTransport, OutboxTransport


def test_direct_by_default_outbox_by_file_or_environment(tmp_path: Path) -> None:
    home = {"DATAPLATFORM_HOME": str(tmp_path)}
    settings = load_settings(home)
    assert settings.transport == "direct"
    assert settings.outbox_url == f"sqlite:///{tmp_path / 'outbox.db'}"
    assert isinstance(MetadataStore(settings, RecordConverter()).transport(), DirectTransport)

    (tmp_path / "settings.toml").write_text(
        '[metadata]\ntransport = "outbox"\noutbox = "sqlite:////elsewhere/outbox.db"\n'
    )
    from_file = load_settings(home)
    assert (from_file.transport, from_file.outbox_url) == (
        "outbox",
        "sqlite:////elsewhere/outbox.db",
    )
    overridden = load_settings({**home, "DATAPLATFORM_METADATA_TRANSPORT": "direct"})
    assert overridden.transport == "direct"

    outbox = {**home, "DATAPLATFORM_OUTBOX_URL": f"sqlite:///{tmp_path / 'o.db'}"}
    store = MetadataStore(load_settings(outbox), RecordConverter())
    assert isinstance(store.transport(), OutboxTransport)


def test_a_wrong_transport_names_where_it_came_from(tmp_path: Path) -> None:
    home = {"DATAPLATFORM_HOME": str(tmp_path)}
    with pytest.raises(SettingsError, match="DATAPLATFORM_METADATA_TRANSPORT: expected one of"):
        load_settings({**home, "DATAPLATFORM_METADATA_TRANSPORT": "kafka"})
    (tmp_path / "settings.toml").write_text('[metadata]\ntransport = "queue"\n')
    with pytest.raises(SettingsError, match=r"settings.toml \[metadata\] transport: expected"):
        load_settings(home)


def test_the_nats_stream_by_file_or_environment_and_a_wrong_name(tmp_path: Path) -> None:
    home = {"DATAPLATFORM_HOME": str(tmp_path)}
    assert load_settings(home).nats_stream == "METADATA"
    (tmp_path / "settings.toml").write_text('[metadata]\nnats_stream = "METADATA_QA"\n')
    assert load_settings(home).nats_stream == "METADATA_QA"
    overridden = load_settings({**home, "DATAPLATFORM_NATS_STREAM": "METADATA_DEV"})
    assert overridden.nats_stream == "METADATA_DEV"
    with pytest.raises(SettingsError, match="DATAPLATFORM_NATS_STREAM: 'a.b' is not a stream"):
        load_settings({**home, "DATAPLATFORM_NATS_STREAM": "a.b"})
