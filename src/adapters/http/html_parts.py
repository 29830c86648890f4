"""Pieces of the dashboard's HTML that several of its pages and parts share."""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import quote

from domain.metadata.timestamps import instant_text


def time_html(value: datetime | None) -> str:
    """An instant as <time>: UTC in the page, turned into the viewer's zone by script."""
    if value is None:
        return "-"
    text = instant_text(value)
    return f'<time datetime="{text}">{html.escape(text)}</time>'


def dataset_link(subject: str) -> str:
    """A link to the dataset's page."""
    return f'<a href="/ui/datasets/{quote(subject, safe="")}">{html.escape(subject)}</a>'
