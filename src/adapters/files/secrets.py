"""Database passwords for pipeline and recon files, kept out of the files.

A side names where its password is, never the password: ``password_env = "NAME"`` (an
environment variable) or ``password_file = "PATH"`` (its first line; relative to the file).
With neither, a PostgreSQL side takes the password libpq would: the ``PGPASSFILE`` or
``~/.pgpass`` line that matches its host, port, database and user. A literal ``password``
(or one inside a URL) still works, with a warning, so files can move off it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

LITERAL_WARNING = (
    '{where} holds a literal password; move it out of the file: password_env = "NAME" '
    '(an environment variable), password_file = "PATH", or a ~/.pgpass line'
)


class SecretError(ValueError):
    """A password that cannot be read; names the key and the fix, never the secret."""


@attrs.frozen
class Secret:
    """A password found for a side, and the warning its finding gave (or "")."""

    password: str | None
    warning: str = ""


def password_of(
    where: str,
    *,
    literal: str | None,
    env: str | None,
    file: str | None,
    base: Path,
    environ: Mapping[str, str] | None = None,
) -> Secret:
    """The password a side names (``where``: the file and its table, for messages)."""
    environ = os.environ if environ is None else environ
    given = [
        key
        for key, value in (("password", literal), ("password_env", env), ("password_file", file))
        if value
    ]
    if len(given) > 1:
        raise SecretError(f"{where}: give one of {', '.join(given)}, not several")
    if env:
        if env not in environ:
            raise SecretError(
                f"{where}.password_env: the environment variable {env} is not set; export it "
                f"(export {env}=...) or name another"
            )
        return Secret(environ[env])
    if file:
        path = Path(file).expanduser()
        path = path if path.is_absolute() else base / path
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as failed:
            reason = getattr(failed, "strerror", None) or "not UTF-8 text"
            raise SecretError(f"{where}.password_file: {path}: {reason}") from None
        if not lines or not lines[0].strip():
            raise SecretError(
                f"{where}.password_file: {path} is empty; its first line is the password"
            )
        return Secret(lines[0].strip())
    if literal:
        return Secret(literal, LITERAL_WARNING.format(where=where))
    return Secret(None)


def pgpass_password(
    host: str | None,
    port: int | None,
    database: str | None,
    user: str | None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The password libpq would take from ``PGPASSFILE`` (or ``~/.pgpass``) for these, or
    None (no file, an unreadable one, or no matching line)."""
    environ = os.environ if environ is None else environ
    path = Path(environ.get("PGPASSFILE") or Path("~/.pgpass").expanduser())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    wanted = (host or "localhost", str(port or 5432), database or "", user or "")
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = _fields(line)
        if len(fields) != 5:
            continue
        if all(field in ("*", value) for field, value in zip(fields[:4], wanted, strict=True)):
            return fields[4]
    return None


def _fields(line: str) -> list[str]:
    """A .pgpass line's fields: ':' separates them, '\\' escapes ':' and '\\'."""
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields
