"""schemathesis over the service's OpenAPI document, against a live service on loopback:
every phase (examples, coverage, fuzzing, stateful, the next-page link included) and every
check, ignored-auth and positive_data_acceptance included: the document states the rules the
service enforces (patterns for names and run ids, the RunEvent it reads), and the hooks say
what a schema cannot (a batch body of well-formed records, a cursor the service hands out)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from contract.stores import HttpHarness, live_service


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
    assert "Tested: 8" in summary and "failure" not in summary.lower()
