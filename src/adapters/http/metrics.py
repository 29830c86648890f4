"""The service's counters for Prometheus: requests by route and status, seconds spent,
records written and duplicates (``GET /metrics``)."""

from __future__ import annotations

import threading

from adapters.serialization.prometheus import Metric, render


class Metrics:
    """Counters for Prometheus: requests by route and status, records, seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.seconds: dict[str, float] = {}
        self.accepted = 0
        self.duplicates = 0

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, status)] = self.requests.get((route, status), 0) + 1
            self.seconds[route] = self.seconds.get(route, 0.0) + seconds

    def text(self) -> str:
        with self._lock:
            requests = sorted(self.requests.items())
            seconds = sorted(self.seconds.items())
            accepted, duplicates = self.accepted, self.duplicates
        metrics = [
            Metric(
                "dataplatform_service_requests_total",
                "requests answered, by route and status",
                "counter",
                [({"route": route, "status": str(status)}, n) for (route, status), n in requests],
            ),
            Metric(
                "dataplatform_service_request_seconds_total",
                "seconds spent answering",
                "counter",
                [({"route": route}, f"{spent:.6f}") for route, spent in seconds],
            ),
            Metric(
                "dataplatform_service_records_total",
                "records written, and duplicates",
                "counter",
                [({"outcome": "accepted"}, accepted), ({"outcome": "duplicate"}, duplicates)],
            ),
        ]
        return render(metrics) + "\n"
