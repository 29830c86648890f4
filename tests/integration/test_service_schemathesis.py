"""schemathesis over the service's OpenAPI document, against a live service on loopback:
every phase (examples, coverage, fuzzing, stateful) and every check, the ignored-auth check
included, but positive_data_acceptance (see docs/service.md: the document does not yet say
every rule the service enforces on a query's names, times and cursor, so some values it
allows are refused with 400)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from contract.stores import HttpHarness, live_service

NOT_YET = "positive_data_acceptance"


@pytest.fixture
def service() -> Iterator[HttpHarness]:
    with live_service() as harness:
        yield harness


def test_schemathesis_finds_nothing(service: HttpHarness) -> None:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PEX")},
        "PYTHONPATH": os.pathsep.join(sys.path),
        "SCHEMATHESIS_HOOKS": "integration.schemathesis_hooks",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{service.base_url}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            NOT_YET,
            "--header",
            f"Authorization: Bearer {service.token}",
            "--max-examples",
            "50",
            "--seed",
            "1",
            "--no-color",
        ],
        env=environ,
        capture_output=True,
        text=True,
        timeout=500,
    )
    summary = result.stdout[result.stdout.find("SUMMARY") :]
    print(summary)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 7" in summary and "failure" not in summary.lower()
