"""The legacy outputs flag: gateway-only by default (parity holds in CI: test_main_job.py and
test_recon_cli.py run the parity gates with the legacy files on); legacy or both by the
settings file or the environment, for as long as a consumer of the files needs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.settings import SettingsError, load_settings
from domain.ingestion.legacy import Outputs


def test_gateway_only_by_default(tmp_path: Path) -> None:
    settings = load_settings({"DATAPLATFORM_HOME": str(tmp_path)})
    assert settings.ingestion_outputs == "gateway"
    outputs = Outputs(settings.ingestion_outputs)
    assert outputs.gateway and not outputs.legacy


def test_the_legacy_files_back_by_file_or_environment(tmp_path: Path) -> None:
    home = {"DATAPLATFORM_HOME": str(tmp_path)}
    (tmp_path / "settings.toml").write_text('[ingestion]\noutputs = "both"\n')
    assert Outputs(load_settings(home).ingestion_outputs).legacy
    environment = {**home, "DATAPLATFORM_INGESTION_OUTPUTS": "legacy"}
    assert load_settings(environment).ingestion_outputs == "legacy"


def test_a_wrong_value_names_the_variable_and_the_choices(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DATAPLATFORM_INGESTION_OUTPUTS: expected one of"):
        load_settings({"DATAPLATFORM_HOME": str(tmp_path), "DATAPLATFORM_INGESTION_OUTPUTS": "al"})
