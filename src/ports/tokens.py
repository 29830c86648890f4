"""The port behind the metadata service's bearer tokens."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from domain.metadata.tokens import Scope, ServiceToken


class TokenStore(Protocol):
    def create(self, name: str, scopes: Collection[Scope], now: datetime) -> str:
        """Make a token named ``name`` (unique among tokens not revoked); returns its secret,
        which is kept only as a digest."""
        ...

    def find(self, secret: str) -> ServiceToken | None:
        """The token whose secret this is (revoked ones too), or None."""
        ...

    def tokens(self) -> list[ServiceToken]:
        """Every token, by name."""
        ...

    def revoke(self, name: str, now: datetime) -> bool:
        """Revoke the active token ``name``; False when there is none."""
        ...
