"""The versioned directory layout of a Parquet target: each run's complete version beside
the old ones (``<parent>/.<name>.versions/<run id>/``), a commit marker in it, and the
target path a symbolic link switched to the new version by one atomic rename."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

COMMIT_MARKER = "_COMMITTED.json"
_KEEP_VERSIONS = 2  # the current one and the one before it (readers still on it)


def link_files(committed: Path, version: Path) -> set[Path]:
    """The committed version's data files, hard-linked into the new version (no copy);
    returns their paths relative to the version."""
    linked = set()
    for source in committed.rglob("*"):
        if source.is_file() and source.name != COMMIT_MARKER:
            relative = source.relative_to(committed)
            (version / relative).parent.mkdir(parents=True, exist_ok=True)
            os.link(source, version / relative)
            linked.add(relative)
    return linked


def versions_of(target: Path) -> Path:
    return target.parent / f".{target.name}.versions"


def switch(target: Path, version: Path) -> None:
    """Point ``target`` at ``version`` with one atomic rename of a new link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    link = target.parent / f".{target.name}.switch-{version.name}"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(version, target.parent))
    os.replace(link, target)


def clean(versions: Path, keep: str) -> None:
    """Delete versions older than the newest committed ones, and uncommitted leftovers
    of killed runs."""
    committed = sorted(
        (v for v in versions.iterdir() if (v / COMMIT_MARKER).is_file()),
        key=lambda v: (v / COMMIT_MARKER).stat().st_mtime,
    )
    kept = {keep, *(v.name for v in committed[-_KEEP_VERSIONS:])}
    for version in versions.iterdir():
        if version.name not in kept:
            shutil.rmtree(version, ignore_errors=True)
