"""Whether a run could use its paths, asked before it starts: a source it can read, a
target it can write (a directory, a database file's folder). One line naming the path, why
not, and the fix, or None."""

from __future__ import annotations

import os
from pathlib import Path

# Kernel and device file systems: nothing a run writes can live there.
_PSEUDO = ("/proc", "/sys", "/dev")


def path_problem(path: Path, where: str) -> str | None:
    """Why nothing could be created at ``path`` (the nearest folder of it that exists is
    not writable, or is on a read-only file system), or None."""
    absolute = Path(os.path.abspath(path))
    for pseudo in _PSEUDO:
        if str(absolute) == pseudo or str(absolute).startswith(pseudo + "/"):
            return (
                f"{where}: {absolute} is under {pseudo}, a kernel file system; write the "
                f"target elsewhere"
            )
    existing = absolute
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{where}: {existing} is a file, not a folder; name another path"
    try:
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return f"{where}: {existing} is on a read-only file system; write the target elsewhere"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{where}: {existing} is not writable by this user; fix its permissions or write elsewhere"
    return None


# Files looked at in a source directory before a run (a partitioned table has thousands).
_LOOKED_AT = 2000


def readable_problem(path: Path, where: str) -> str | None:
    """Why the files at ``path`` (a file, a directory of parts, or a glob) could not be
    read by this user, or None. Spark says "does not exist" for a file it may not open."""
    if any(mark in str(path) for mark in "*?["):
        return None  # a glob: Spark lists it; what it matches is its business
    if not path.exists():
        return f"{where}: {path} does not exist; check the path (relative paths are relative to the pipeline file)"
    if not os.access(path, os.R_OK) or (path.is_dir() and not os.access(path, os.X_OK)):
        return f"{where}: {path} is not readable by this user; fix its permissions (chmod, chown)"
    if path.is_dir():
        for count, inner in enumerate(path.rglob("*")):
            if count >= _LOOKED_AT:
                break
            if inner.name.startswith((".", "_")):
                continue  # Spark skips hidden and marker files (_SUCCESS)
            if not os.access(inner, os.R_OK) or (inner.is_dir() and not os.access(inner, os.X_OK)):
                return (
                    f"{where}: {inner} (in {path}) is not readable by this user; fix its "
                    f"permissions (chmod, chown)"
                )
    return None
