"""Whether a path could be written (a target directory, a database file's folder), asked
before a run starts: one line naming the path, why not, and the fix, or None."""

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
