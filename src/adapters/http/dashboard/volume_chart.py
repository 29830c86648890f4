"""The dataset page's volume chart: rows written per run against the usual band."""

from __future__ import annotations

import html
import json
from urllib.parse import quote

from adapters.http.dashboard.markup import time_html
from domain.metadata.payloads import IngestionVolume
from domain.metadata.record import MetadataRecord
from domain.metadata.volume import VolumeBand


def volume_chart(volumes: list[MetadataRecord], band: VolumeBand | None) -> str:
    """Rows written per run, oldest first: a uPlot chart (bars, the usual band shaded, the
    runs outside it in red) drawn from the JSON beside it, and the same figures as a table
    for a reader without script or sight."""
    points = [
        (record, record.payload.rows_written)
        for record in volumes
        if isinstance(record.payload, IngestionVolume)
    ]
    flagged = [band is not None and band.flags(rows) for _, rows in points]
    data = {
        "at": [record.observed_at.timestamp() for record, _ in points],
        "rows": [rows for _, rows in points],
        "low": None if band is None else band.low,
        "high": None if band is None else band.high,
        "flagged": flagged,
    }
    # JSON inside <script>: "<" escaped, so no text in it can close the element.
    embedded = json.dumps(data).replace("<", "\\u003c")
    rows = "".join(
        f'<tr class="{"failed" if flagged else ""}"><td data-label="Run">'
        f'<a href="/ui/runs/{quote(record.run_id.value, safe="")}">'
        f"{html.escape(record.run_id.value)}</a></td>"
        f'<td data-label="Observed">{time_html(record.observed_at)}</td>'
        f'<td data-label="Rows written">{written:,}</td>'
        f'<td data-label="Usual band">{"outside" if flagged else "inside"}</td></tr>'
        for (record, written), flagged in zip(points, flagged, strict=True)
    )
    return (
        f'<script type="application/json" id="volume-data">{embedded}</script>'
        '<figure><div class="chart" data-chart="volume" data-source="volume-data" '
        'role="img" aria-label="rows written per run, with the usual band"></div>'
        "<figcaption>Rows written per run (shaded: the usual band; red: outside it)"
        "</figcaption></figure>"
        f"<details><summary>The figures ({len(points)} runs)</summary>"
        '<div class="wide"><table id="volumes-table"><thead><tr><th scope=col>Run</th>'
        "<th scope=col>Observed</th>"
        "<th scope=col>Rows written</th><th scope=col>Usual band</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></details>"
    )


def snapshot_table(volumes: list[MetadataRecord]) -> str:
    """The Iceberg snapshots the runs committed (newest first), from their volumes: the
    snapshot's id (what a reader's time travel names), when, the run and its rows; empty
    when no run of the dataset committed a snapshot."""
    committed = [
        (record, record.payload)
        for record in reversed(volumes)
        if isinstance(record.payload, IngestionVolume) and record.payload.snapshot_id is not None
    ]
    if not committed:
        return ""
    rows = "".join(
        f'<tr><td data-label="Snapshot"><code>{volume.snapshot_id}</code></td>'
        f'<td data-label="Committed">{time_html(record.observed_at)}</td>'
        f'<td data-label="Run"><a href="/ui/runs/{quote(record.run_id.value, safe="")}">'
        f"{html.escape(record.run_id.value)}</a></td>"
        f'<td data-label="Rows written">{volume.rows_written:,}</td>'
        f'<td data-label="Rows deleted">{volume.rows_deleted or 0:,}</td></tr>'
        for record, volume in committed
        if record.run_id is not None
    )
    return (
        f"<h3>Iceberg snapshots ({len(committed)})</h3>"
        '<div class="wide"><table id="snapshots-table"><thead><tr>'
        "<th scope=col>Snapshot</th><th scope=col>Committed</th><th scope=col>Run</th>"
        "<th scope=col>Rows written</th><th scope=col>Rows deleted</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )
