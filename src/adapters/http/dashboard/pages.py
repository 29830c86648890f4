"""The dashboard's pages as HTML, each from its read-model value: the sign-in form, the runs,
a run's records, the datasets and a dataset's page (its sections from ``sections``)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlencode

from starlette.responses import HTMLResponse

from adapters.http.dashboard import sections
from adapters.http.dashboard.markup import (
    dataset_link,
    empty,
    escape,
    page,
    run_link,
    state,
    table,
    time_html,
)
from adapters.http.dashboard.read_model import (
    DatasetPage,
    DatasetsPage,
    RunPage,
    RunsPage,
    Section,
)
from domain.dataset import DatasetRef
from domain.metadata.record import MetadataRecord
from domain.runs.lifecycle import outcome

# Each section of a dataset's page: its renderer, and what the link to older ones calls them.
RENDERERS: dict[str, tuple[Callable[[list[MetadataRecord]], str], str]] = {
    "schema": (sections.schema_section, "schema versions"),
    "drift": (sections.drift_section, "drift verdicts"),
    "volumes": (sections.volume_section, "loads"),
    "recon": (sections.recon_section, "recon results"),
}


def login_form(problem: str, wanted: str) -> HTMLResponse:
    shown = f'<p role="alert" class="failed">{escape(problem)}</p>' if problem else ""
    return page(
        "Sign in",
        f"{shown}<form method=post action=/ui/login>"
        f'<input type=hidden name=next value="{escape(wanted)}">'
        "<p><label for=token>Token (read scope; <code>metadata tokens create NAME "
        "--scope read</code> makes one)</label></p>"
        "<p><input id=token name=token type=password autocomplete=off size=50 required "
        "autofocus></p><p><button type=submit>Sign in</button></p></form>",
        signed_in=False,
    )


def runs(found: RunsPage) -> HTMLResponse:
    if not found.rows:
        return page(
            "Runs",
            empty(
                "No runs recorded yet. Run a pipeline (<code>ingestion run "
                "PIPELINE.toml</code>), a recon (<code>recon run RECON.toml</code>) or a "
                "harvest against this store, or <code>./main-job</code>, and they appear "
                "here."
            ),
        )
    rows = table(
        ("Run", "Dataset", "Runtime", "State", "Started", "Duration", "Message"),
        (
            (
                run_link(row.run_id),
                dataset_link(row.subject),
                escape(row.producer),
                (escape(row.label or row.state), f"state {row.state}"),
                time_html(row.started_at),
                "-" if row.seconds is None else f"{row.seconds:,.1f} s",
                escape(row.message[:200]),
            )
            for row in found.rows
        ),
    )
    older = (
        f'<p><a href="/ui/runs?cursor={quote(found.older)}">Older runs</a></p>'
        if found.older
        else ""
    )
    return page("Runs", rows + older)


def run(found: RunPage, payload: Callable[[MetadataRecord], str]) -> HTMLResponse:
    """A run's records, each payload shown as ``payload`` writes it."""
    title = f"Run {found.run_id.value}"
    if not found.records:
        return page(title, empty("No records of this run are stored."))
    said = ""
    if found.ended is not None:
        event = found.ended
        said = (
            f"<p>Outcome: {state(event.event.value, outcome(event.event, event.message))} "
            f"{escape(event.message[:300])}</p>"
        )
    records = table(
        ("Observed", "Kind", "Dataset", "Payload"),
        (
            (
                time_html(record.observed_at),
                record.kind.value,
                dataset_link(str(record.subject)),
                f"<details><summary>{record.record_id}</summary>"
                f"<pre>{escape(payload(record))}</pre></details>",
            )
            for record in found.records
        ),
    )
    more = (
        f'<p><a href="/ui/runs/{quote(found.run_id.value, safe="")}?cursor='
        f'{quote(found.later)}">Later records</a></p>'
        if found.later
        else ""
    )
    return page(title, f'<p><a href="/ui/runs">All runs</a></p>{said}{records}{more}')


def datasets(found: DatasetsPage) -> HTMLResponse:
    search = found.search
    form = (
        "<form method=get action=/ui/datasets role=search><label for=q>Find a dataset "
        "(part of namespace::name)</label> <input id=q name=q type=search size=30 "
        f'maxlength=200 value="{escape(search or "")}"> <button type=submit>Find'
        "</button></form>"
    )
    if not found.rows:
        said = (
            f"No dataset matches {escape(repr(search))}. " '<a href="/ui/datasets">All datasets</a>'
            if search
            else "No dataset is recorded yet. Load one (<code>ingestion run "
            "PIPELINE.toml</code>), harvest some (<code>metadata harvest "
            "ENDPOINTS.toml</code>) or run <code>./main-job</code>, and they appear here."
        )
        return page("Datasets", form + empty(said))
    more = ""
    if found.more is not None:
        link = "/ui/datasets?" + urlencode(
            {**({"q": search} if search else {}), "after": str(found.more)}
        )
        more = f'<p><a href="{escape(link)}">More datasets</a></p>'
    rows = [sections.dataset_row(s) for s in found.rows]
    return page("Datasets", form + table(sections.DATASET_COLUMNS, rows) + more)


def _section(subject: DatasetRef, found: Section) -> str:
    """A section's HTML, with a link to its older records when there are some."""
    render, what = RENDERERS[found.name]
    shown = render(found.records)
    if found.older is None:
        return shown
    link = (
        f'<p><a href="/ui/datasets/{quote(str(subject), safe="")}?section={found.name}'
        f'&amp;cursor={quote(found.older, safe="")}">Older {what}</a></p>'
    )
    return shown.removesuffix("</section>") + link + "</section>"


def dataset(found: DatasetPage) -> HTMLResponse:
    subject = found.subject
    if found.is_empty:
        return page(
            str(subject),
            empty(
                "Nothing is recorded about this dataset yet: harvest it (<code>metadata "
                "harvest</code>), load it (<code>ingestion run</code>) or reconcile it "
                "(<code>recon run</code>)."
            ),
        )
    shown = {name: _section(subject, part) for name, part in found.sections.items()}
    profiles = [found.profile] if found.profile is not None else []
    body = [shown["schema"], shown["drift"], shown["volumes"]]
    body += [sections.profile_section(profiles), shown["recon"]]
    return page(str(subject), "".join(body), chart=bool(found.sections["volumes"].records))


def older(subject: DatasetRef, found: Section) -> HTMLResponse:
    """One section of a dataset's page from a cursor on: its older records."""
    _, what = RENDERERS[found.name]
    back = f"<p>Back to {dataset_link(str(subject))}</p>"
    return page(
        f"{subject}: older {what}",
        back + _section(subject, found),
        chart=found.name == "volumes" and bool(found.records),
    )
