"""Every path the docs, the examples and the apps' --help name exists: a reader who copies
one never meets "no such file" (recon --help once pointed at a recon file that was gone)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from apps.ingestion.main import cli as ingestion
from apps.metadata.main import cli as metadata
from apps.recon.main import cli as recon

# A path of the repository as prose writes it: a top folder, then a file or a glob.
_PATH = re.compile(
    r"(?<![\w./$-])((?:examples|docs|src|bench|tests|tools|bin)/[A-Za-z0-9_.*/-]*[A-Za-z0-9_*])"
)
# Illustrations, not paths to open: a lint failure's sample output, and placeholders.
_ILLUSTRATIONS = {"src/domain/planted.py", "src/apps/APP/main.py"}


def _named(text: str) -> Iterator[str]:
    for match in _PATH.finditer(text):
        path = match.group(1)
        if text[match.end() : match.end() + 1] in ("$", "{"):
            continue  # a template's stem (orders-batch${n}.jsonl), not a path
        if path not in _ILLUSTRATIONS:
            yield path


def _exists(path: str) -> bool:
    return any(Path().glob(path)) if "*" in path else Path(path).exists()


def _texts() -> Iterator[tuple[str, str]]:
    for page in [Path("README.md"), *sorted(Path("docs").rglob("*.md"))]:
        yield str(page), page.read_text(encoding="utf-8")
    for example in sorted(Path("examples").rglob("*.toml")):
        yield str(example), example.read_text(encoding="utf-8")
    yield "main-job", Path("main-job").read_text(encoding="utf-8")


def _helps(
    command: click.Command, name: str, parent: click.Context | None = None
) -> Iterator[tuple[str, str]]:
    context = click.Context(command, info_name=name, parent=parent)
    yield f"{context.command_path} --help", command.get_help(context)
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            yield from _helps(sub, sub_name, context)


def test_the_texts_are_found() -> None:
    texts = dict(_texts())
    assert "README.md" in texts and "docs/recon.md" in texts and len(texts) > 10


@pytest.mark.parametrize(("where", "text"), list(_texts()), ids=lambda value: str(value)[:40])
def test_every_path_a_doc_or_an_example_names_exists(where: str, text: str) -> None:
    missing = sorted({path for path in _named(text) if not _exists(path)})
    assert not missing, f"{where} names paths that do not exist: {missing}"


@pytest.mark.parametrize(
    ("app", "name"), [(ingestion, "ingestion"), (recon, "recon"), (metadata, "metadata")]
)
def test_every_path_a_help_names_exists(app: click.Group, name: str) -> None:
    helps = dict(_helps(app, name))
    assert len(helps) > 3
    missing = sorted(
        {
            (where, path)
            for where, text in helps.items()
            for path in _named(text)
            if not _exists(path)
        }
    )
    assert not missing, f"--help names paths that do not exist: {missing}"


def test_the_check_finds_a_missing_path() -> None:
    assert list(_named("recon run examples/recon/customers.toml")) == [
        "examples/recon/customers.toml"
    ]
    assert not _exists("examples/recon/customers.toml")
