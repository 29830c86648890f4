"""The dashboard's pages with 1M records stored, beside the same pages over a store holding
only what those pages show (the baseline: the page's own cost, nothing else stored).

    ./pants run bench/dashboard.py -- [--records 1000000] [--requests 60] [--postgres-url URL]

Two SQLite stores (or two PostgreSQL schemas, --postgres-url): the big one holds --records
records about 1,000 datasets (run events, ingestion volumes, schema snapshots and drifts,
recon results: what the runtimes write), the small one the first 50 datasets' records alone.
Each is served by `metadata serve`'s app in a process of its own; this process signs in like
a browser (the session cookie) and asks each page --requests times, alternating between the
two services so the machine's drift hits both alike. Prints, per page, the median and p95 in
ms on each store and the ratio big/small (1.0: the page does not slow down with the store's
size; the indexes it needs are there).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from service import _free_port, _service_process, _started
from sqlalchemy import text
from sqlalchemy.engine import make_url
from transport import fresh_store

from adapters.serialization.records import RecordConverter
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.tokens import SqlTokenStore
from domain.dataset import DatasetRef, RunId
from domain.metadata.payloads import (
    IngestionVolume,
    ReconResult,
    ReconStatus,
    RunEvent,
    RunEventType,
    SchemaDrift,
    SchemaSnapshot,
)
from domain.metadata.record import MetadataRecord
from domain.metadata.tokens import Scope
from domain.schema.checks import column_changes
from domain.schema.diff import diff
from domain.schema.schema import Column, Schema
from domain.schema.type_syntax import parse_type

SUBJECTS = 1000
SHOWN = 50  # the datasets of the list's first page; the small store holds these alone
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _subject(index: int) -> DatasetRef:
    return DatasetRef("postgres://warehouse:5432", f"sales.schema_{index % 37}.table_{index:05d}")


def _schema(version: int) -> Schema:
    columns = [
        Column("order_id", parse_type("int64"), nullable=False),
        Column("amount", parse_type(f"decimal({10 + version},2)")),
        Column("status", parse_type("string")),
    ]
    columns += [Column(f"extra_{i}", parse_type("string")) for i in range(version)]
    return Schema(tuple(columns))


def _runs_of(index: int, runs: int) -> Iterator[MetadataRecord]:
    """What the runtimes record about one dataset over ``runs`` daily runs: a start and an
    end, the volume, a schema snapshot (and its drift) when the schema changes every 60th
    run, a recon of three checks every 5th."""
    subject = _subject(index)
    rng = random.Random(index)
    version = 0
    for day in range(runs):
        at = T0 + timedelta(days=day, seconds=index)
        run = RunId(f"{day:04d}-{index:05d}-load")

        def record(
            payload: object, seconds: int = 0, run_id: RunId = run, at: datetime = at
        ) -> MetadataRecord:
            return MetadataRecord.create(
                subject=subject,
                run_id=run_id,
                observed_at=at + timedelta(seconds=seconds),
                producer="ingestion",
                payload=payload,  # type: ignore[arg-type]
            )

        yield record(RunEvent(RunEventType.STARTED))
        rows = rng.randrange(90_000, 110_000) if day % 97 else rng.randrange(1_000, 5_000)
        yield record(IngestionVolume(rows_read=rows, rows_written=rows), 50)
        if day % 60 == 0:
            before, version = _schema(version), version + (day > 0)
            yield record(SchemaSnapshot(_schema(version)), 51)
            if day:
                after = _schema(version)
                changes = column_changes(diff(before, after))
                yield record(SchemaDrift(before.fingerprint, after.fingerprint, changes), 52)
        yield record(RunEvent(RunEventType.SUCCEEDED), 60)
        if day % 5 == 0:
            recon = RunId(f"{day:04d}-{index:05d}-recon")
            for check in ("row_count", "key_diff", "aggregates"):
                failed = check == "key_diff" and day % 35 == 0
                yield record(
                    ReconResult(
                        check=check,
                        status=ReconStatus.FAILED if failed else ReconStatus.PASSED,
                        detail="1 changed (threshold 0)" if failed else "ok",
                        samples=((("changed", '{"order_id": 3}'),) if failed else ()),
                    ),
                    600,
                    recon,
                )


def _fill(url: str, records_wanted: int, subjects: int) -> tuple[int, str]:
    """A store at ``url`` with about ``records_wanted`` records over ``subjects`` datasets;
    (records stored, a read token)."""
    engine = fresh_store(url)
    repository = SqlMetadataRepository(engine, RecordConverter())
    per_subject = records_wanted / SUBJECTS
    runs = max(1, math.ceil(per_subject / 3.6))  # about 3.65 records per run (see _runs_of)
    stored, batch = 0, list[MetadataRecord]()
    for index in range(subjects):
        batch += _runs_of(index, runs)
        if len(batch) >= 20_000:
            stored += repository.append(batch).accepted
            batch = []
    stored += repository.append(batch).accepted if batch else 0
    token = SqlTokenStore(engine).create("bench", {Scope.READ}, datetime.now(UTC))
    if engine.dialect.name == "postgresql":
        # The planner's statistics, as autovacuum would gather them after a bulk load (on a
        # server with autovacuum off, as this machine's, a store needs ANALYZE run by hand:
        # without statistics, the runs page sorts every run event instead of using its index).
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return stored, token


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60, help="Requests per page and store.")
    parser.add_argument(
        "--postgres-url",
        help="Measure on PostgreSQL instead of SQLite: two throwaway schemas in this database "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped at the end.",
    )
    args = parser.parse_args()
    with _stores(args.postgres_url) as stores:
        _measure(stores, args.records, args.requests)


@contextlib.contextmanager
def _stores(postgres_url: str | None) -> Iterator[dict[str, str]]:
    """The URLs of the big and the small store: two SQLite files, or two PostgreSQL schemas."""
    if postgres_url is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        try:
            yield {name: f"sqlite:///{folder / f'{name}.db'}" for name in ("big", "small")}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schemas = {name: f"bench_dashboard_{name}_{uuid.uuid4().hex[:8]}" for name in ("big", "small")}
    admin = create_store_engine(postgres_url)
    with admin.begin() as connection:
        for schema in schemas.values():
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {
            name: make_url(postgres_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
            for name, schema in schemas.items()
        }
    finally:
        with admin.begin() as connection:
            for schema in schemas.values():
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _measure(stores: dict[str, str], records: int, requests: int) -> None:
    tokens, counts = {}, {}
    for name, url in stores.items():
        started = time.perf_counter()
        subjects = SUBJECTS if name == "big" else SHOWN
        counts[name], tokens[name] = _fill(url, records, subjects)
        print(
            f"{name}: {counts[name]:,} records about {subjects} datasets stored in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )

    context = multiprocessing.get_context("spawn")
    bases, processes = {}, []
    for name, url in stores.items():
        port = _free_port()
        process = context.Process(target=_service_process, args=(url, port), daemon=True)
        process.start()
        processes.append(process)
        bases[name] = f"http://127.0.0.1:{port}"
        _started(bases[name], process)

    focus = quote(str(_subject(7)), safe="")
    pages = {
        "dataset page": f"/ui/datasets/{focus}",
        "datasets list": "/ui/datasets",
        "datasets search": "/ui/datasets?q=table_0000",
        "runs page": "/ui/runs",
    }
    clients = {name: httpx.Client(base_url=base, timeout=60) for name, base in bases.items()}
    for name, client in clients.items():  # signed in as a browser is: a session cookie
        client.post(
            "/ui/login", data={"token": tokens[name], "next": "/ui/datasets"}, follow_redirects=True
        )
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for page, path in pages.items():
            for client in clients.values():  # warm-up: caches, first connections
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            for _ in range(requests):
                for name, client in clients.items():
                    start = time.perf_counter()
                    answer = client.get(path)
                    times.setdefault((page, name), []).append(time.perf_counter() - start)
                    assert answer.status_code == 200
    finally:
        for client in clients.values():
            client.close()
        for process in processes:
            process.terminate()
            process.join(10)  # its connections closed before the stores go

    print(
        f"\n{'page':<16} {'median big':>11} {'p95 big':>9} {'median small':>13} "
        f"{'p95 small':>10} {'ratio':>6}   (ms; big {counts['big']:,} records, "
        f"small {counts['small']:,})"
    )
    for page in pages:
        big, small = times[(page, "big")], times[(page, "small")]
        ratio = statistics.median(big) / statistics.median(small)
        print(
            f"{page:<16} {statistics.median(big) * 1000:>11.1f} {_percentile(big, 0.95) * 1000:>9.1f} "
            f"{statistics.median(small) * 1000:>13.1f} {_percentile(small, 0.95) * 1000:>10.1f} "
            f"{ratio:>5.2f}x"
        )


if __name__ == "__main__":
    main()
