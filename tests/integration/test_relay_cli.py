"""`metadata relay` and `metadata outbox` as users run them, in processes of their own:
the relay SIGKILLed after the store committed a batch it had not marked, and the outbox
during a store outage and after it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from apps.metadata import main as metadata_main
from services import postgres_schema, postgres_url

ORDERS = "postgres://db:5432::sales.public.orders"


def records_file(path: Path, count: int) -> Path:
    lines = [
        json.dumps(
            {
                "kind": "ingestion_volume",
                "subject": ORDERS,
                "run_id": f"run-{n}",
                "observed_at": f"2024-05-01T06:{n // 3600 % 60:02d}:{n % 60:02d}Z",
                "producer": "ingestion",
                "payload": {"rows_read": n, "rows_written": n},
            }
        )
        for n in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def metadata(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "DATAPLATFORM_HOME": str(home),
        "DATAPLATFORM_METADATA_TRANSPORT": "outbox",
        "PYTHONPATH": os.pathsep.join(sys.path),
        **env,
    }
    environ = {k: v for k, v in environ.items() if not k.startswith("PEX")}
    return subprocess.run(
        [sys.executable, "-m", metadata_main.__name__, *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows, ids = connection.execute(
            text("select count(*), count(distinct record_id) from metadata_records")
        ).one()
    engine.dispose()
    return int(rows), int(ids)


def test_kill_the_relay_after_a_commit_then_restart(tmp_path: Path) -> None:
    records = records_file(tmp_path / "runs.jsonl", 3000)
    queued = metadata(tmp_path, "emit", str(records))
    assert queued.returncode == 0, queued.stderr
    assert "3000 record(s) queued for the store" in queued.stdout

    # The store commits the first batch of 1,000; the relay dies before marking it.
    killed = metadata(tmp_path, "relay", "--batch", "1000", DATAPLATFORM_KILL_AT="appended")
    assert killed.returncode == -9
    store = f"sqlite:///{tmp_path / 'metadata.db'}"
    assert stored(store) == (1000, 1000)
    status = json.loads(metadata(tmp_path, "outbox", "status", "--json").stdout)
    assert (status["backlog"], status["delivered"]) == (3000, 0)

    again = metadata(tmp_path, "relay", "--batch", "1000", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    # Every record sent once more than needed is a re-send the store counted as a duplicate.
    assert (report["delivered"], report["duplicates"]) == (3000, 1000)
    assert stored(store) == (3000, 3000)
    status = json.loads(metadata(tmp_path, "outbox", "status", "--json").stdout)
    assert (status["backlog"], status["delivered"], status["dead"]) == (0, 3000, 0)


def test_the_outbox_during_an_outage_and_after(tmp_path: Path) -> None:
    down = {"DATAPLATFORM_METADATA_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"}
    records = records_file(tmp_path / "runs.jsonl", 50)
    # The store is down: producers still emit (into the outbox) ...
    queued = metadata(tmp_path, "emit", str(records), **down)
    assert queued.returncode == 0, queued.stderr
    # ... the relay says so in one line, exit 1, and counts nothing against the records ...
    relay = metadata(tmp_path, "relay", **down)
    assert relay.returncode == 1
    assert "the metadata store cannot be used" in relay.stderr
    assert "Traceback" not in relay.stderr
    during = metadata(tmp_path, "outbox", "status", **down)
    assert during.returncode == 0, during.stderr
    print(during.stdout)  # the must-show: the outbox during the outage
    status = json.loads(metadata(tmp_path, "outbox", "status", "--json", **down).stdout)
    assert (status["backlog"], status["retries"], status["dead"]) == (50, 0, 0)
    assert status["store"].startswith("cannot be used (")
    assert status["oldest_age_s"] > 0
    scraped = metadata(tmp_path, "outbox", "status", "--metrics", **down).stdout
    assert "# TYPE dataplatform_outbox_backlog gauge" in scraped
    assert re.search(r'^dataplatform_outbox_backlog\{outbox="[^"]+"\} 50$', scraped, re.M), scraped
    assert re.search(
        r"^dataplatform_outbox_oldest_age_seconds\{outbox=.*\} [0-9.]+$", scraped, re.M
    )

    # ... and once the store is up, the relay delivers everything once.
    with postgres_schema(postgres_url()) as url:
        up = {"DATAPLATFORM_METADATA_URL": url}
        assert metadata(tmp_path, "migrate", **up).returncode == 0
        relay = metadata(tmp_path, "relay", **up)
        assert relay.returncode == 0, relay.stderr
        assert "relay: 50 delivered (0 already stored" in relay.stdout
        after = metadata(tmp_path, "outbox", "status", **up)
        print(after.stdout)  # the must-show: after recovery
        recovered = json.loads(metadata(tmp_path, "outbox", "status", "--json", **up).stdout)
        assert (recovered["backlog"], recovered["store"]) == (0, "reachable")
        assert stored(url) == (50, 50)


def test_nats_stream_status_consume_and_a_replay_from_a_point(tmp_path: Path) -> None:
    """Transport "nats" from the command line, on a stream of its own: the stream's figures
    before and after `metadata consume`, then a replay from a sequence into the filled
    store (every record a duplicate) and into an empty one (what was published from there)."""
    import uuid

    from adapters.nats.jetstream import JetStreamLink
    from services import nats_url

    stream = f"TEST_CLI_{uuid.uuid4().hex[:8]}"
    nats = {
        "DATAPLATFORM_METADATA_TRANSPORT": "nats",
        "DATAPLATFORM_NATS_URL": nats_url(),
        "DATAPLATFORM_NATS_STREAM": stream,
    }
    home = tmp_path / "home"
    try:
        for part in range(2):
            emitted = metadata(
                home,
                "emit",
                str(records_file(tmp_path / f"r{part}.jsonl", 10 * (part + 1))),
                **nats,
            )
            assert emitted.returncode == 0, emitted.stderr
        # 10 records, then 20 of which the first 10 are the same ids: the broker drops them.
        before = metadata(home, "stream", "status", "--json", **nats)
        assert before.returncode == 0, before.stderr
        figures = json.loads(before.stdout)
        assert (figures["messages"], figures["first_seq"], figures["last_seq"]) == (20, 1, 20)
        assert figures["pending"] is None  # no consumer yet
        consumed = metadata(home, "consume", "--json", **nats)
        assert consumed.returncode == 0, consumed.stderr
        assert json.loads(consumed.stdout)["delivered"] == 20
        after = json.loads(metadata(home, "stream", "status", "--json", **nats).stdout)
        assert (after["pending"], after["unacknowledged"]) == (0, 0)
        text_status = metadata(home, "stream", "status", **nats)
        print(text_status.stdout)
        assert "1..20" in text_status.stdout
        scraped = metadata(home, "stream", "status", "--metrics", **nats).stdout
        assert f'dataplatform_stream_messages{{stream="{stream}"}} 20' in scraped.splitlines()
        assert f'dataplatform_stream_pending{{stream="{stream}"}} 0' in scraped.splitlines()

        replayed = metadata(home, "consume", "--replay-from", "11", "--json", **nats)
        assert replayed.returncode == 0, replayed.stderr
        done = json.loads(replayed.stdout)
        assert (done["delivered"], done["duplicates"]) == (10, 10)  # into the filled store
        empty = f"sqlite:///{tmp_path / 'empty.db'}"
        fresh = metadata(home, "--url", empty, "consume", "--replay-from", "11", "--json", **nats)
        assert fresh.returncode == 0, fresh.stderr
        assert (json.loads(fresh.stdout)["delivered"], stored(empty)) == (10, (10, 10))
        both = metadata(
            home, "consume", "--replay-from", "1", "--replay-since", "2024-01-01T00:00:00Z", **nats
        )
        assert both.returncode == 2 and "give one point" in both.stderr
    finally:
        link = JetStreamLink(nats_url(), stream=stream, prefix=stream.lower())
        link.delete_stream()
        link.close()
