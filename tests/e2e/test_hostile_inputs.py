"""The hostile and careless inputs of issue 9, replayed against the packaged app.

Each case runs `python metadata.pex ...` in a process of its own (as a user would: closed
stdin, a home that is a file, eight processes at once) and asserts the exit code, one
error line naming the fix, no traceback, and a store left as it was.
"""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from e2e.pex import PEX, ROOT, environment, metadata

EXAMPLES = ROOT / "examples" / "records"
GOOD = (
    '{"kind":"run_event","subject":"file::/data/o","run_id":"r1",'
    '"observed_at":"2024-05-01T06:00:00Z","producer":"t",'
    '"payload":{"event":"started","message":"MESSAGE"}}'
)


def stored(home: Path) -> int:
    path = home / "metadata.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        tables = {r[0] for r in connection.execute("select name from sqlite_master")}
        if "metadata_records" not in tables:
            return 0
        return int(connection.execute("select count(*) from metadata_records").fetchone()[0])


def write(path: Path, content: bytes | str) -> str:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def typed(data_type: str) -> str:
    """A schema snapshot record whose one column has ``data_type``."""
    return (
        '{"kind":"schema_snapshot","subject":"file::/data/o","run_id":"r1",'
        '"observed_at":"2024-05-01T06:00:00Z","producer":"t","payload":{"schema":{"columns":'
        '[{"name":"a","type":"' + data_type + '","nullable":true}]}}}'
    )


def _pretty(line: str) -> str:
    return json.dumps(json.loads(line), indent=2)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# (case, arguments built from a scratch directory, extra environment, the words the line holds)
Case = tuple[str, Callable[[Path], list[str]], dict[str, str], int, str]
CASES: list[Case] = [
    (
        "Latin-1 file",
        lambda d: ["emit", write(d / "l.jsonl", b"caf\xe9\n")],
        {},
        2,
        "iconv -f LATIN1",
    ),
    (
        "UTF-16 file",
        lambda d: ["emit", write(d / "u.jsonl", GOOD.encode("utf-16"))],
        {},
        2,
        "UTF-16",
    ),
    (
        "5000-digit integer",
        lambda d: ["records", "validate", write(d / "i.json", '{"a": ' + "9" * 5000 + "}")],
        {},
        2,
        "too long",
    ),
    (
        "JSON nested 100k levels",
        lambda d: ["emit", write(d / "n.json", "[" * 100_000 + "]" * 100_000)],
        {},
        2,
        "nested too deeply",
    ),
    ("emit /dev/zero", lambda d: ["emit", "/dev/zero"], {}, 2, "binary data"),
    (
        "year 1 with +01:00",
        lambda d: [
            "emit",
            write(d / "y.jsonl", GOOD.replace("2024-05-01T06:00:00Z", "0001-01-01T00:00:00+01:00")),
        ],
        {},
        2,
        "years 1..9999",
    ),
    (
        "--since 9999 with -02:00",
        lambda d: ["query", "--since", "9999-12-31T23:00:00-02:00"],
        {},
        2,
        "years 1..9999",
    ),
    (
        "--until year 1 +01:00",
        lambda d: ["history", "run_event", "a::b", "--until", "0001-01-01T00:30:00+01:00"],
        {},
        2,
        "years 1..9999",
    ),
    (
        "nanoseconds",
        lambda d: ["query", "--since", "2024-05-01T00:00:00.123456789Z"],
        {},
        2,
        "microseconds",
    ),
    (
        "huge cursor",
        lambda d: ["query", "--cursor", _cursor("v1:99999999999999999999:1")],
        {},
        2,
        "cursor",
    ),
    ("negative cursor", lambda d: ["query", "--cursor", _cursor("v1:-5:-3")], {}, 2, "cursor"),
    ("--url garbage", lambda d: ["--url", "garbage", "query"], {}, 2, "not a database URL"),
    (
        "postgresql+asyncpg://",
        lambda d: ["--url", "postgresql+asyncpg://", "query"],
        {},
        2,
        "postgresql+psycopg",
    ),
    ("--url ''", lambda d: ["--url", "", "query"], {}, 2, "is empty"),
    (
        "sqlite://",
        lambda d: ["--url", "sqlite://", "emit", str(EXAMPLES / "orders-run.jsonl")],
        {},
        2,
        "in-memory",
    ),
    (
        "url = 5",
        lambda d: ["query"],
        {"DATAPLATFORM_SETTINGS": "{d}/int.toml"},
        2,
        "[metadata] url",
    ),
    (
        "binary settings",
        lambda d: ["query"],
        {"DATAPLATFORM_SETTINGS": "{d}/bin.toml"},
        2,
        "not a settings file",
    ),
    (
        "settings file missing",
        lambda d: ["query"],
        {"DATAPLATFORM_SETTINGS": "{d}/none.toml"},
        2,
        "no such settings file",
    ),
    ("home is a file", lambda d: ["query"], {"DATAPLATFORM_HOME": "{d}/int.toml"}, 2, "is a file"),
    (
        "home cannot be created",
        lambda d: ["query"],
        {"DATAPLATFORM_HOME": "/proc/no/home"},
        1,
        "cannot create",
    ),
    (
        "--since after --until",
        lambda d: ["query", "--since", "2024-02-01T00:00:00Z", "--until", "2024-01-01T00:00:00Z"],
        {},
        2,
        "swap them",
    ),
    (
        "--naive-timezone Mars/Olympus",
        lambda d: ["diff", "a::b", "--naive-timezone", "Mars/Olympus"],
        {},
        2,
        "IANA",
    ),
    (
        "2,000-character name",
        lambda d: ["emit", write(d / "long.jsonl", GOOD.replace("/data/o", "x" * 2000))],
        {},
        2,
        "at most 1024",
    ),
    (
        "1,000-character producer",
        lambda d: ["emit", write(d / "p.jsonl", GOOD.replace('"t"', '"' + "p" * 1000 + '"'))],
        {},
        2,
        "at most 256",
    ),
    (
        "NUL character",
        lambda d: ["emit", write(d / "nul.jsonl", GOOD.replace("MESSAGE", "a\\u0000b"))],
        {},
        2,
        "NUL",
    ),
    (
        "one id, two payloads",
        lambda d: [
            "records",
            "validate",
            write(d / "dup.jsonl", GOOD + "\n" + GOOD.replace("MESSAGE", "other") + "\n"),
        ],
        {},
        2,
        "same record_id",
    ),
    (
        "backfill of an empty directory",
        lambda d: ["backfill", str(d / "empty")],
        {},
        2,
        "no *.json",
    ),
    ("closed stdin", lambda d: ["emit", "-"], {}, 2, "standard input"),
    # Issue 27: what was left of the old set.
    (
        "a 23-digit string length",
        lambda d: ["emit", write(d / "s.jsonl", typed("string(" + "9" * 23 + ")"))],
        {},
        2,
        "a number of 23 digits",
    ),
    (
        "a 5,000-digit decimal precision",
        lambda d: ["emit", write(d / "p.jsonl", typed("decimal(" + "9" * 5000 + ",2)"))],
        {},
        2,
        "a number of 5000 digits",
    ),
    (
        "a type 3,000 levels deep",
        lambda d: ["emit", write(d / "t.jsonl", typed("array<" * 3000 + "int32" + ">" * 3000))],
        {},
        2,
        "nested more than 64 levels deep",
    ),
    (
        "a zero-padded cursor never handed out",
        lambda d: ["query", "--cursor", _cursor("v1:0001:00005")],
        {},
        2,
        "not a cursor this store handed out",
    ),
    (
        "a key twice in one JSON object",
        lambda d: [
            "emit",
            write(
                d / "k.jsonl",
                GOOD.replace('"event":"started"', '"event":"started","event":"failed"'),
            ),
        ],
        {},
        2,
        "the key 'event' appears twice",
    ),
    (
        "two pretty-printed JSON documents",
        lambda d: ["emit", write(d / "two.json", (_pretty(GOOD) + "\n") * 2)],
        {},
        2,
        "JSON Lines (one record per line)",
    ),
    (
        "a directory named settings.toml",
        lambda d: ["emit", str(EXAMPLES / "orders-run.jsonl")],
        {"DATAPLATFORM_HOME": "{d}/dirhome"},
        2,
        "is a directory, not a settings file",
    ),
    (
        "a home that cannot be written",
        lambda d: ["emit", str(EXAMPLES / "orders-run.jsonl")],
        {"DATAPLATFORM_HOME": "/proc/self"},
        1,
        "/proc/self is not writable",
    ),
]


@pytest.mark.parametrize(
    ("case", "arguments", "environment", "code", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_a_hostile_input_is_one_line_with_the_fix_and_changes_nothing(
    tmp_path: Path,
    case: str,
    arguments: Callable[[Path], list[str]],
    environment: dict[str, str],
    code: int,
    words: str,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "dirhome" / "settings.toml").mkdir(parents=True)
    write(tmp_path / "int.toml", "[metadata]\nurl = 5\n")
    write(tmp_path / "bin.toml", bytes(range(256)))
    env = {k: v.format(d=tmp_path) for k, v in environment.items()}
    before = stored(home)
    result = metadata(*arguments(tmp_path), home=home, env=env, closed_stdin=case == "closed stdin")
    assert result.returncode == code, (case, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert words in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) <= 1
    assert stored(home) == before


def test_eight_processes_creating_one_new_store_all_succeed(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda _: metadata("emit", str(EXAMPLES / "orders-run.jsonl"), home=home),
                range(8),
            )
        )
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    assert stored(home) == 7


def test_migrate_refuses_another_applications_alembic_database(tmp_path: Path) -> None:
    database = tmp_path / "theirs.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table alembic_version (version_num varchar(32))")
        connection.execute("insert into alembic_version values ('abc123')")
    result = metadata("--url", f"sqlite:///{database}", "migrate", home=tmp_path)
    assert result.returncode == 1 and "another application" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_fact_stated_again_says_what_was_not_kept(tmp_path: Path) -> None:
    first = metadata("emit", write(tmp_path / "a.jsonl", GOOD), home=tmp_path)
    assert first.returncode == 0, first.stderr
    again = GOOD.replace("06:00:00Z", "07:00:00Z").replace('"producer":"t"', '"producer":"u"')
    second = metadata("emit", write(tmp_path / "b.jsonl", again), home=tmp_path)
    assert second.returncode == 0 and "1 duplicate(s) skipped" in second.stdout
    assert "line 1: record" in second.stderr and "producer 'u' were not kept" in second.stderr
    assert "2024-05-01T06:00:00Z" in second.stderr and stored(tmp_path) == 1


def _started_its_venv(process: subprocess.Popen[str], seconds: float = 30) -> None:
    """Wait until pex's bootstrap has handed over to the app's own interpreter (it execs the
    PEX's venv python: the process's command line changes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if b".pex/venvs/" in Path(f"/proc/{process.pid}/cmdline").read_bytes():
                return
        time.sleep(0.002)
    raise AssertionError("the PEX did not start its venv")


# Timed from the moment pex's bootstrap execs the app's interpreter: before it (about
# 0.08 s on these machines) pex's own code runs, which nothing of the app can guard.
@pytest.mark.parametrize("after", [0.1, 0.3, 0.6])
def test_ctrl_c_while_the_app_starts_is_one_line_and_exit_130(tmp_path: Path, after: float) -> None:
    # `emit -` waits on its open standard input: it is still running when the signal comes.
    process = subprocess.Popen(
        [sys.executable, str(PEX), "emit", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(tmp_path),
    )
    _started_its_venv(process)
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (process.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    assert last == "interrupted" or last.startswith("error: interrupted"), err
