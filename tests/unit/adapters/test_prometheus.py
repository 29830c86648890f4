"""The Prometheus text format, written once for the service, the outboxes and the stream."""

from __future__ import annotations

from adapters.serialization.prometheus import Metric, render


def test_each_metric_has_its_help_type_and_samples_with_escaped_labels() -> None:
    text = render(
        [
            Metric("a_total", "things", "counter", [({"route": "/x", "status": "200"}, 3)]),
            Metric("b", "a gauge", "gauge", [({"outbox": 'say "hi"\\now'}, 0.5), ({}, 7)]),
        ]
    )
    assert text.splitlines() == [
        "# HELP a_total things",
        "# TYPE a_total counter",
        'a_total{route="/x",status="200"} 3',
        "# HELP b a gauge",
        "# TYPE b gauge",
        'b{outbox="say \\"hi\\"\\\\now"} 0.5',
        "b 7",
    ]
