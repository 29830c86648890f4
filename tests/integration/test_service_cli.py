"""`metadata serve` as users run it, in a process of its own on a free loopback port:
tokens made with `metadata tokens`, the apps' commands against it by URL alone, and each
refusal (401, 403, 413, 429) with its message."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.http.client import HttpMetadataRepository
from adapters.serialization.records import RecordConverter
from apps.metadata import main as metadata_main
from domain.metadata.query import AppendResult

EXAMPLES = Path(__file__).parents[2] / "examples"
ORDERS = "postgres://warehouse:5432::sales.public.orders"


def _volume(run_id: str, rows: int) -> dict[str, Any]:
    """An ingestion_volume record about the orders, as a record file holds it."""
    return {
        "kind": "ingestion_volume",
        "subject": ORDERS,
        "run_id": run_id,
        "observed_at": "2024-05-02T00:00:00Z",
        "producer": "test",
        "payload": {"rows_read": rows, "rows_written": rows},
    }


def _env(home: Path, **extra: str) -> dict[str, str]:
    environ = {
        **os.environ,
        "DATAPLATFORM_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(sys.path),
        **extra,
    }
    for key in ("DATAPLATFORM_METADATA_URL", "DATAPLATFORM_METADATA_TOKEN"):
        if key not in extra:
            environ.pop(key, None)
    return {k: v for k, v in environ.items() if not k.startswith("PEX")}


def metadata(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", metadata_main.__name__, *args],
        env=_env(home, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tokens(home: Path) -> dict[str, str]:
    secrets = {}
    for name, scopes in (("writer", ("write", "read")), ("reader", ("read",))):
        made = metadata(home, "tokens", "create", name, *(f"--scope={s}" for s in scopes))
        assert made.returncode == 0, made.stderr
        secrets[name] = made.stdout.strip()
    return secrets


LIMITS = ("--max-records", "50", "--rate", "5", "--burst", "5")


def _start(
    home: Path,
    port: int,
    limits: tuple[str, ...] = LIMITS,
    before: Callable[[], None] | None = None,
) -> subprocess.Popen[str]:
    """`metadata serve` on ``port`` (by default at most 50 records a batch and 5 requests
    a second a token), once it answers; its access log goes to ``home``/serve.log (a
    file, not a pipe nobody reads while it fills). ``before`` runs in the child before it
    starts (a resource limit, say)."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "serve.log").open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", metadata_main.__name__, "serve", "--port", str(port), *limits],
            env=_env(home),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            preexec_fn=before,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.1)


@contextlib.contextmanager
def _serving(home: Path, port: int, secrets: dict[str, str]) -> Iterator[str]:
    process = _start(home, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)
        log = (home / "serve.log").read_text()
        assert '"status":' in log
        for secret in secrets.values():
            assert secret not in log  # the access log names tokens, never their secrets


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """(base URL, the service's home, tokens by name) of a running `metadata serve`."""
    home = tmp_path / "service"
    secrets = _tokens(home)
    with _serving(home, _free_port(), secrets) as url:
        yield url, home, secrets


def test_the_commands_by_url_alone_and_each_refusal(
    service: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    url, _, secrets = service
    client = tmp_path / "client"
    writer = {"DATAPLATFORM_METADATA_URL": url, "DATAPLATFORM_METADATA_TOKEN": secrets["writer"]}
    emitted = metadata(client, "emit", str(EXAMPLES / "records" / "orders-run.jsonl"), **writer)
    assert emitted.returncode == 0, emitted.stderr
    assert "7 record(s) written" in emitted.stdout
    again = metadata(client, "emit", str(EXAMPLES / "records" / "orders-run.jsonl"), **writer)
    assert "0 record(s) written, 7 duplicate(s)" in again.stdout
    reader = {"DATAPLATFORM_METADATA_URL": url, "DATAPLATFORM_METADATA_TOKEN": secrets["reader"]}
    latest = metadata(client, "latest", "ingestion_volume", ORDERS, "--json", **reader)
    assert latest.returncode == 0, latest.stderr
    assert json.loads(latest.stdout)["kind"] == "ingestion_volume"

    refusals = {}
    none = metadata(client, "query", "--limit", "1", DATAPLATFORM_METADATA_URL=url)
    refusals[401] = none
    wrong = metadata(client, "emit", str(EXAMPLES / "records" / "orders-run.jsonl"), **reader)
    refusals[403] = wrong
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps(_volume(f"big-{n}", n)) + "\n" for n in range(60)))
    refusals[413] = metadata(client, "emit", str(big), **writer)
    for status, result in refusals.items():
        print(f"{status}: {result.stderr.strip()}")
        assert result.returncode == 1, result.stdout
        assert f"(HTTP {status})" in result.stderr and "Traceback" not in result.stderr
    assert "no bearer token" in refusals[401].stderr
    assert "may not write" in refusals[403].stderr
    assert "more than 50 records" in refusals[413].stderr

    # Twelve requests at once against a burst of 5 (sent one after another on a loaded
    # machine, the bucket could refill between them).
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.get(
                    f"{url}/api/v1/records",
                    params={"limit": 1},
                    headers={"Authorization": f"Bearer {secrets['reader']}"},
                ),
                range(12),
            )
        )
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert int(limited[0].headers["Retry-After"]) >= 1
    print(f"429: {limited[0].json()['error']}")
    assert "over its rate" in limited[0].json()["error"]

    ready = httpx.get(f"{url}/health/ready").json()
    assert ready == {"status": "ready", "store": "reachable"}
    metrics = httpx.get(f"{url}/metrics").text
    assert 'dataplatform_service_records_total{outcome="accepted"} 7' in metrics
    document = httpx.get(f"{url}/openapi.json").json()
    assert set(document["paths"]) == {
        "/api/v1/records",
        "/api/v1/latest",
        "/api/v1/subjects",
        "/api/v1/lineage",
        "/health/live",
        "/health/ready",
        "/metrics",
    }


def test_tokens_list_and_revoke(service: tuple[str, Path, dict[str, str]]) -> None:
    url, home, secrets = service
    listed = json.loads(metadata(home, "tokens", "list", "--json").stdout)
    assert [(t["name"], t["scopes"]) for t in listed] == [
        ("reader", ["read"]),
        ("writer", ["read", "write"]),
    ]
    assert secrets["reader"] not in json.dumps(listed)
    assert metadata(home, "tokens", "revoke", "reader").returncode == 0
    refused = httpx.get(
        f"{url}/api/v1/latest",
        params={"kind": "ingestion_volume", "subject": ORDERS},
        headers={"Authorization": f"Bearer {secrets['reader']}"},
    )
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    again = metadata(home, "tokens", "revoke", "reader")
    assert again.returncode == 1 and "no active token 'reader'" in again.stderr


def test_a_runaway_address_is_logged_cut_short(service: tuple[str, Path, dict[str, str]]) -> None:
    url, home, secrets = service
    runaway = "/ui/runs/" + "x" * 20_000
    answer = httpx.get(url + runaway, headers={"Authorization": f"Bearer {secrets['reader']}"})
    assert answer.status_code in (303, 400)
    logged = [
        json.loads(line)
        for line in (home / "serve.log").read_text().splitlines()
        if line.startswith("{") and "/ui/runs/xxx" in line
    ]
    assert logged and all(len(entry["path"]) < 600 for entry in logged), logged
    assert logged[0]["path"].endswith("...(20,009 characters)")


def test_the_service_down_then_up_loses_nothing(tmp_path: Path) -> None:
    """A producer whose service cannot be reached puts its records in the outbox (after
    the client's retries); `metadata relay` delivers them once the service is back."""
    home, client = tmp_path / "service", tmp_path / "client"
    secrets = _tokens(home)
    port = _free_port()
    writer = {
        "DATAPLATFORM_METADATA_URL": f"http://127.0.0.1:{port}",
        "DATAPLATFORM_METADATA_TOKEN": secrets["writer"],
    }
    down = metadata(client, "emit", str(EXAMPLES / "records" / "orders-run.jsonl"), **writer)
    assert down.returncode == 0, down.stderr
    assert "7 record(s) queued for the store" in down.stdout
    waiting = json.loads(metadata(client, "outbox", "status", "--json", **writer).stdout)
    assert waiting["backlog"] == 7 and waiting["store"].startswith("cannot be used")
    with _serving(home, port, secrets):
        relayed = metadata(client, "relay", "--json", **writer)
        assert relayed.returncode == 0, relayed.stderr
        assert json.loads(relayed.stdout)["delivered"] == 7
        reader = {**writer, "DATAPLATFORM_METADATA_TOKEN": secrets["reader"]}
        found = metadata(client, "query", "--json", **reader)
        assert len(json.loads(found.stdout)["records"]) == 7


def test_a_service_restarted_in_the_middle_of_a_batch(tmp_path: Path) -> None:
    """500 records in parts of 5 (the service's limit of 50 a batch, its rate lifted by the
    parts' pace); the service is killed (SIGKILL) when some parts are stored and started
    again: the client's retries finish the batch, and the store holds exactly 500."""
    home = tmp_path / "service"
    secrets = _tokens(home)
    port = _free_port()
    records = [RecordConverter().structure(_volume(f"restart-{n}", n)) for n in range(500)]
    client = HttpMetadataRepository(
        f"http://127.0.0.1:{port}", secrets["writer"], RecordConverter(), max_records=5, retries=8
    )
    client._client.event_hooks["request"] = [lambda _: time.sleep(0.25)]  # 5 parts a second
    database = home / "metadata.db"

    def stored() -> int:
        with contextlib.closing(sqlite3.connect(database)) as connection:
            return int(connection.execute("select count(*) from metadata_records").fetchone()[0])

    process = _start(home, port)
    outcome: list[AppendResult | BaseException] = []

    def emit() -> None:
        try:
            outcome.append(client.append(records))
        except BaseException as failed:  # - reported by the test below
            outcome.append(failed)

    worker = threading.Thread(target=emit)
    worker.start()
    while stored() < 100:
        assert worker.is_alive() and process.poll() is None
        time.sleep(0.05)
    process.kill()
    process.wait(10)
    at_kill = stored()
    restarted = _start(home, port)
    try:
        worker.join(120)
        assert not worker.is_alive()
        assert at_kill < 500, at_kill
        [result] = outcome
        assert isinstance(result, AppendResult), result
        assert result.accepted + result.duplicates == 500
        assert stored() == 500
    finally:
        restarted.terminate()
        restarted.wait(30)
        client.close()


def test_load_on_loopback(tmp_path: Path) -> None:
    """CLIENTS clients for SECONDS seconds against `metadata serve` (its rate lifted): each
    loops emit (a batch of 20), latest and a query page until the time is up; every answer
    must be a success, and p50/p99 are printed."""
    clients, seconds = 8, 5.0
    home = tmp_path / "service"
    secrets = _tokens(home)
    port = _free_port()
    process = _start(home, port, ("--rate", "100000", "--burst", "100000"))
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {secrets['writer']}"}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def one_client(number: int) -> None:
        converter = RecordConverter()
        mine: list[float] = []
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            step = 0
            while time.monotonic() < stop_at:
                batch = "".join(
                    converter.dumps(converter.structure(_volume(f"load-{number}-{step}-{n}", n)))
                    + "\n"
                    for n in range(20)
                )
                for method, path, options in (
                    ("POST", "/api/v1/records", {"content": batch}),
                    (
                        "GET",
                        "/api/v1/latest",
                        {"params": {"kind": "ingestion_volume", "subject": ORDERS}},
                    ),
                    ("GET", "/api/v1/records", {"params": {"limit": 50}}),
                ):
                    start = time.perf_counter()
                    try:
                        answer = client.request(method, path, **options)
                        status = str(answer.status_code)
                    except httpx.HTTPError as failed:
                        status = type(failed).__name__
                    mine.append(time.perf_counter() - start)
                    if not status.startswith("2"):
                        with lock:
                            errors.append(f"{method} {path}: {status}")
                step += 1
        with lock:
            latencies.extend(mine)

    try:
        workers = [threading.Thread(target=one_client, args=(n,)) for n in range(clients)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(seconds + 60)  # bounded: a stuck request fails the test, not CI
        assert not any(worker.is_alive() for worker in workers)
    finally:
        process.terminate()
        process.wait(30)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(
        f"load: {clients} clients x {seconds:.0f} s: {len(latencies)} requests "
        f"({len(latencies) / seconds:.0f}/s), {len(errors)} errors, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    assert not errors, errors[:5]
    assert len(latencies) > clients * 3
    assert p99 < 2000, p99


def test_a_flood_beyond_the_open_files_limit_and_an_overlong_address_get_statuses(
    tmp_path: Path,
) -> None:
    """`metadata serve` with 64 open files at most: 300 idle connections make accepts fail;
    the log says so in one JSON line (not a traceback a connection), the service answers
    again once they close, and an 80,000-character address gets a status."""
    import resource

    home = tmp_path / "flooded"
    home.mkdir()
    port = _free_port()

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    process = _start(home, port, (), before=few_files)
    base = f"http://127.0.0.1:{port}"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:  # httpx refuses
            raw.sendall(f"GET /{'x/' * 40_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status = raw.recv(100).split(b"\r\n")[0]
        assert status.split()[1] in (b"400", b"404", b"414"), status
        held = []
        for _ in range(300):
            with contextlib.suppress(OSError):
                held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        time.sleep(2)
        for connection in held:
            connection.close()
        answered = None
        for _ in range(20):  # the service answers again once the flood is gone
            time.sleep(0.5)
            with contextlib.suppress(httpx.TransportError):
                answered = httpx.get(f"{base}/health/live", timeout=2).status_code
                if answered == 200:
                    break
        assert answered == 200
    finally:
        process.terminate()
        process.wait(30)
    # After the lines that say where it serves (and that there are no tokens yet).
    lines = [
        line
        for line in (home / "serve.log").read_text().splitlines()
        if not line.startswith(("serving ", "no tokens yet"))
    ]
    assert "Traceback" not in "\n".join(lines)
    assert all(line.startswith("{") for line in lines), [x for x in lines if x[:1] != "{"][:3]
    events = [json.loads(line) for line in lines]
    assert any("too many open files (limit 64)" in e.get("message", "") for e in events)
