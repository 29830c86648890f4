"""The drift-policy options that diff and harvest share."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from apps.cli.app import bad_input
from apps.cli.params import ZONE
from apps.metadata.policies import PolicyFileError, load_policies
from domain.schema.policy import NewColumns, Nullability, PolicyBook, RemovedColumns, TypeChanges

F = TypeVar("F", bound=Callable[..., Any])


def _override(name: str, modes: type[enum.Enum], what: str) -> Callable[[F], F]:
    return click.option(
        name, type=click.Choice([m.value for m in modes]), help=f"Override: {what}."
    )


def policy_options(function: F) -> F:
    """Adds --policy-file and the per-aspect overrides to a command."""
    options = [
        click.option(
            "--policy-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help='TOML file of drift policies ([default], [datasets."namespace::name"]).',
        ),
        _override("--new-columns", NewColumns, "what new columns may do"),
        _override("--removed-columns", RemovedColumns, "what removed columns may do"),
        _override("--type-changes", TypeChanges, "which type changes are allowed"),
        _override("--nullability", Nullability, "whether nullability may change"),
        click.option(
            "--naive-timezone",
            type=ZONE,
            help="IANA zone of timestamps without one (lets timestamp_ntz widen to timestamp_tz).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def policies(policy_file: Path | None, **overrides: str | None) -> PolicyBook:
    """The policy book of --policy-file with the command line's overrides on top."""
    try:
        return load_policies(policy_file, {k: v for k, v in overrides.items() if v is not None})
    except PolicyFileError as invalid:
        bad_input(str(invalid))
