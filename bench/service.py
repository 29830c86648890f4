"""Records through `metadata serve` against `emit_many` in-process into the same kind of store.

    ./pants run bench/service.py -- [--records 1000000] [--batch 5000] [--lookups 2000]

1. Throughput: this process emits every record through the gateway over
   HttpMetadataRepository (the remote adapter, as every app uses it for an http:// URL) to
   the service, which runs in a process of its own (`metadata serve`'s app on uvicorn) over
   a SQLite store; against the same records emitted by `emit_many` in-process into an
   identical SQLite store. Both count from the first emit to the last record stored (the
   service stores a batch before it answers). Goal >= 0.5x.
2. `latest` over HTTP: median and p99 of single lookups, beside the same lookups in-process.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from metadata_throughput import latest_latency, make_records
from sqlalchemy import text
from transport import direct, fresh_store

from adapters.http.access import Limits
from adapters.http.client import HttpMetadataRepository
from adapters.http.running import serve
from adapters.http.server import MetadataService
from adapters.serialization.records import RecordConverter
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.tokens import SqlTokenStore
from domain.metadata.gateway import MetadataGateway
from domain.metadata.tokens import Scope

SUBJECTS = 1000


def _service_process(store_url: str, port: int) -> None:
    """`metadata serve` as it runs: the store, its tokens, the app on uvicorn."""
    engine = create_store_engine(store_url)
    service = MetadataService(
        MetadataGateway(SqlMetadataRepository(engine, RecordConverter())),
        RecordConverter(),
        SqlTokenStore(engine),
        limits=Limits(rate_per_s=100_000, burst=100_000),
    )
    serve(service.app(), "127.0.0.1", port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _started(url: str, process: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if not process.is_alive() or time.monotonic() > deadline:
            raise SystemExit(f"the service did not start at {url}")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000, help="Records per emit_many.")
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    records = make_records(args.records, SUBJECTS)
    subjects = sorted({r.subject for r in records}, key=str)
    print(f"{len(records):,} records over {len(subjects)} subjects, {args.batch} per emit_many")

    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        local_url = f"sqlite:///{work / 'local.db'}"
        base = direct(local_url, records, args.batch)
        print(f"  emit_many in-process            {base:8.2f} s", flush=True)

        remote_url = f"sqlite:///{work / 'served.db'}"
        engine = fresh_store(remote_url)
        secret = SqlTokenStore(engine).create("bench", {Scope.READ, Scope.WRITE}, datetime.now(UTC))
        port = _free_port()
        process = multiprocessing.get_context("spawn").Process(
            target=_service_process, args=(remote_url, port)
        )
        process.start()
        url = f"http://127.0.0.1:{port}"
        try:
            _started(url, process)
            client = HttpMetadataRepository(url, secret, RecordConverter())
            remote = MetadataGateway(client)
            start = time.perf_counter()
            for index in range(0, len(records), args.batch):
                remote.emit_many(records[index : index + args.batch])
            served = time.perf_counter() - start
            print(f"  through the service             {served:8.2f} s", flush=True)
            with engine.connect() as connection:
                stored = connection.execute(
                    text("select count(*) from metadata_records")
                ).scalar_one()
            assert stored == len(records), (stored, len(records))

            local_engine = create_store_engine(local_url)
            local = MetadataGateway(SqlMetadataRepository(local_engine, RecordConverter()))
            local_p50, local_p99 = latest_latency(local, subjects, args.lookups)
            http_p50, http_p99 = latest_latency(remote, subjects, args.lookups)
            client.close()
            local_engine.dispose()
        finally:
            process.terminate()
            process.join(30)
            engine.dispose()

    ratio = base / served
    verdict = "meets" if ratio >= 0.5 else "MISSES"
    print()
    print(f"{'':<32}{'records/s':>12}{'ratio':>8}")
    print(f"{'emit_many in-process':<32}{len(records) / base:>12,.0f}{1.0:>8.2f}")
    print(f"{'through the service':<32}{len(records) / served:>12,.0f}{ratio:>8.2f}x")
    print(f"throughput through the service: {ratio:.2f}x of in-process, goal >= 0.5x ({verdict})")
    print(
        f"latest, {args.lookups} lookups: over HTTP median {http_p50:.2f} ms, p99 {http_p99:.2f} ms;"
        f" in-process median {local_p50:.2f} ms, p99 {local_p99:.2f} ms"
    )


if __name__ == "__main__":
    main()
