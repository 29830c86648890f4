"""A key diff as CSV: the key's columns, its category and the columns that changed (one row
per classified key; a NULL key part as an empty field)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from domain.recon.keydiff import Classified


def write_key_diff(output: str, names: Sequence[str], classified: Classified) -> None:
    with Path(output).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "category", "columns"])
        for key, category, columns in classified.listed():
            writer.writerow([*("" if v is None else v for v in key), category, ",".join(columns)])
