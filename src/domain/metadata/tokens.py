"""Bearer tokens of the metadata service: who may read, who may write.

A token's secret is shown once, when it is created; the service keeps only its SHA-256
digest (the secret is 32 random bytes: a digest cannot be reversed or guessed), so a leaked
token table grants nothing.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

import attrs

PREFIX = "dpt_"  # marks a token in logs and secret scanners


class Scope(enum.Enum):
    READ = "read"
    WRITE = "write"


@attrs.frozen
class ServiceToken:
    """A token as the service keeps it (never its secret)."""

    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: Scope) -> bool:
        return self.active and scope in self.scopes


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
