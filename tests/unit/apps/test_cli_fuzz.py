"""Fuzz the metadata command line with generated bad input; it must hold its promises.

For every generated input, each command:
- exits 0 (the input was valid), 1 (a check failed, the store is unreachable) or 2 (bad
  input) and never ends in an exception of its own;
- prints no traceback, and one line for an error (record files: one line per problem plus
  a summary, each naming the file);
- leaves the store as it was unless it succeeded in writing.

Examples per property: 400 locally, 1,200 in CI (HYPOTHESIS_PROFILE=ci); the counts land
in the JUnit report's hypothesis statistics.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.metadata.main import cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GOOD = {
    "kind": "run_event",
    "subject": {"namespace": "file", "name": "/data/orders"},
    "run_id": "r1",
    "observed_at": "2024-05-01T06:00:00+02:00",
    "producer": "fuzz",
    "payload": {"event": "started", "message": ""},
}
# A store that refuses connections at once (nothing listens on port 1).
CLOSED = "postgresql+psycopg://nobody@127.0.0.1:1/none"
# Cheap (in-process, SQLite): four times the profile's examples (400 locally, 1,200 in CI).
fuzz = settings(
    max_examples=settings().max_examples * 4,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def stored(home: Path) -> int:
    path = home / "metadata.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        try:
            return int(connection.execute("select count(*) from metadata_records").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


def run(
    home: Path, *args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None
) -> Result:
    url = f"sqlite:///{home / 'metadata.db'}"
    arguments = list(args) if args and args[0] == "--url" else ["--url", url, *args]
    return CliRunner().invoke(cli, arguments, input=stdin, env=env)


def assert_clean(result: Result, *, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """No exception of the tool's own, a known exit code, no traceback, one-line errors."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in allowed, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    if result.exit_code != 0:
        assert result.stderr.strip(), "a failure says why"


def assert_one_error_line(result: Result) -> None:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


# -- files ----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
good_line = json.dumps(GOOD)
file_contents = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.sampled_from(["utf-16", "utf-16-be", "latin-1", "utf-32"]).map(
        lambda codec: (good_line.replace("orders", "ordérs") + "\n").encode(codec)
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(4400, 6000).map(lambda n: ('{"a": ' + "9" * n + "}").encode()),
    st.integers(2000, 50_000).map(lambda n: ("[" * n + "]" * n).encode()),
    st.integers(1, 80).map(lambda n: (good_line[:n]).encode()),
)


@fuzz
@given(file_contents)
def test_emit_of_any_file_is_clean_and_all_or_nothing(home: Path, content: bytes) -> None:
    path = home / "input.jsonl"
    path.write_bytes(content)
    before = stored(home)
    result = run(home, "emit", str(path))
    assert_clean(result)
    if result.exit_code != 0:
        assert stored(home) == before
        for line in result.stderr.strip().splitlines():
            assert line.startswith((str(path), "error: ")), line


@fuzz
@given(file_contents)
def test_records_from_stdin_are_read_the_same_way(home: Path, content: bytes) -> None:
    before = stored(home)
    result = run(home, "records", "validate", "-", stdin=content)
    assert_clean(result, allowed=(0, 2))
    assert stored(home) == before


# -- records --------------------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=30),
    st.just("\x00"),
    st.just("a\ud800b"),
    st.integers(1000, 3000).map(lambda n: "x" * n),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-02:00",
            "2024-05-01T06:00:00.123456789Z",
            "2024-05-01T06:00:00",
            "",
            " ",
        ]
    ),
)


@st.composite
def mutated_records(draw: st.DrawFn) -> dict[str, Any]:
    """The good record with one field replaced, removed, or a key added."""
    record: dict[str, Any] = json.loads(json.dumps(GOOD))
    action = draw(st.sampled_from(["replace", "remove", "add", "payload", "subject"]))
    key = draw(st.sampled_from(sorted(record)))
    value = draw(hostile_text | json_values)
    if action == "replace":
        record[key] = value
    elif action == "remove":
        del record[key]
    elif action == "add":
        record[draw(st.text(max_size=10))] = value
    elif action == "payload":
        record["payload"][draw(st.sampled_from(["event", "message", "extra"]))] = value
    else:
        record["subject"][draw(st.sampled_from(["namespace", "name"]))] = value
    return record


@fuzz
@given(st.lists(mutated_records(), min_size=1, max_size=3))
def test_emit_of_generated_records_writes_all_or_nothing(
    home: Path, records: list[dict[str, Any]]
) -> None:
    path = home / "records.jsonl"
    path.write_text(
        "\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8", errors="surrogatepass"
    )
    before = stored(home)
    result = run(home, "emit", str(path))
    assert_clean(result, allowed=(0, 2))
    if result.exit_code == 2:
        assert stored(home) == before
    else:
        assert before <= stored(home) <= before + len(records)


# -- arguments: URLs, settings, cursors, timestamps, subjects --------------------------------------

urls = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "sqlite://",
            "sqlite:///",
            "sqlite:///:memory:",
            "postgresql+asyncpg://",
            "mysql://x/y",
            "http://localhost:1",
            "memory://",
            "postgres://",
            "garbage",
            "::",
            "sqlite+aiosqlite:///x.db",
            CLOSED,
        ]
    ),
    st.text(string.ascii_letters + ":/+@.?%=", max_size=30).map(lambda t: "sqlite:" + t),
)


@fuzz
@given(urls)
def test_any_store_url_is_one_line_or_works(home: Path, url: str) -> None:
    if url.startswith(("postgres", "postgresql")) and "127.0.0.1:1" not in url:
        url = CLOSED  # no network here: any PostgreSQL URL goes to a closed port
    result = run(home, "--url", url, "query", "--limit", "1")
    assert_clean(result)
    if result.exit_code != 0:
        assert_one_error_line(result)


settings_files = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: f"[metadata]\nurl = {json.dumps(v)}\n".encode()),
    st.sampled_from(
        [
            b"[metadata]\nurl = 5\n",
            b"[metadata]\nurl = ''\n",
            b"[other]\nx = 1\n",
            b"[metadata]\nurl = 'sqlite://'\n",
            b"\xff\xfe[\x00m\x00",
        ]
    ),
)


@fuzz
@given(settings_files)
def test_any_settings_file_is_one_line_or_works(home: Path, content: bytes) -> None:
    path = home / "settings.toml"
    path.write_bytes(content)
    result = CliRunner().invoke(
        cli,
        ["query", "--limit", "1"],
        env={
            "DATAPLATFORM_HOME": str(home / "home"),
            "DATAPLATFORM_SETTINGS": str(path),
            "DATAPLATFORM_METADATA_URL": "",
        },
    )
    assert_clean(result)
    if result.exit_code != 0:
        assert_one_error_line(result)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


cursors = st.one_of(
    st.text(max_size=40),
    st.tuples(st.integers(), st.integers()).map(lambda t: _cursor(f"v1:{t[0]}:{t[1]}")),
    st.tuples(st.text(max_size=5), st.text(max_size=5)).map(lambda t: _cursor(f"v1:{t[0]}:{t[1]}")),
    st.integers(10**18, 10**40).map(lambda n: _cursor(f"v1:{n}:{n}")),
)


@fuzz
@given(cursors)
def test_any_cursor_is_one_line_or_a_page(home: Path, cursor: str) -> None:
    result = run(home, "query", "--cursor", cursor)
    assert_clean(result, allowed=(0, 2))
    if result.exit_code:
        assert_one_error_line(result)


timestamps = st.one_of(
    st.text(max_size=35),
    st.datetimes().map(lambda d: d.isoformat()),
    st.tuples(st.datetimes(), st.integers(-23, 23)).map(
        lambda t: t[0].isoformat() + f"{'+' if t[1] >= 0 else '-'}{abs(t[1]):02d}:00"
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2024-05-01T00:00:00.1234567Z",
            "2024-13-01T00:00:00Z",
        ]
    ),
)


@fuzz
@given(timestamps, timestamps)
def test_any_time_window_is_one_line_or_a_page(home: Path, since: str, until: str) -> None:
    result = run(home, "query", "--since", since, "--until", until)
    assert_clean(result, allowed=(0, 2))
    if result.exit_code:
        assert_one_error_line(result)


subjects = st.one_of(
    st.text(max_size=40),
    st.tuples(st.text(max_size=20), hostile_text).map(lambda t: f"{t[0]}::{t[1]}"),
)


@fuzz
@given(subjects, st.sampled_from(["run_event", "schema_snapshot", "bogus"]))
def test_any_subject_is_one_line_or_an_answer(home: Path, subject: str, kind: str) -> None:
    result = run(home, "latest", kind, subject)
    assert_clean(result)
    if result.exit_code:
        assert_one_error_line(result)
