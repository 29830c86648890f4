"""The Prometheus text exposition format, written once for every figure the platform
exposes (the service's counters, the outboxes' and the stream's gauges)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs


@attrs.frozen
class Metric:
    """One metric: its name, help, type and samples (labels, value as written)."""

    name: str
    help: str
    kind: str  # "gauge" | "counter"
    samples: Sequence[tuple[Mapping[str, str], object]]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(metrics: Iterable[Metric]) -> str:
    """The metrics as exposition text (no trailing newline)."""
    lines = []
    for metric in metrics:
        lines += [f"# HELP {metric.name} {metric.help}", f"# TYPE {metric.name} {metric.kind}"]
        for labels, value in metric.samples:
            named = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(f"{metric.name}{{{named}}} {value}" if named else f"{metric.name} {value}")
    return "\n".join(lines)
