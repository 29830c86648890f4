"""Who may do what: the one check of a presented token, shared by the API (a bearer token)
and the dashboard (its sign-in form and its sessions)."""

from __future__ import annotations

import attrs

from domain.metadata.tokens import Scope, ServiceToken
from ports.tokens import TokenStore


@attrs.frozen
class Refused:
    """Why a token was refused: unknown or revoked (``name`` None), or it lacks the scope
    (``held``: the scopes it has)."""

    name: str | None = None
    held: str = "none"


def admitted(tokens: TokenStore, secret: str, scope: Scope) -> ServiceToken | Refused:
    """The active token ``secret`` names, when it holds ``scope``; else why not."""
    token = tokens.find(secret) if secret else None
    if token is None or not token.active:
        return Refused()
    if not token.allows(scope):
        return Refused(token.name, ", ".join(sorted(s.value for s in token.scopes)) or "none")
    return token
