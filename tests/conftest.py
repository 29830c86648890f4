"""Settings shared by every test file (Pants runs pytest once per file)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# "dev" keeps the edit-test loop quick; CI runs more examples per property.
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `./pants test :: -- -k expr` runs each file on its own; a file with no selected test
    # is not a failure.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
