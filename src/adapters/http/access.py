"""Who may do what, and how much: the one check of a presented token, shared by the API (a
bearer token) and the dashboard (its sign-in form), and the service's limits (body size,
records a batch, a rate per token)."""

from __future__ import annotations

import threading
from collections.abc import Callable

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


@attrs.frozen
class Limits:
    max_body_bytes: int = 16 * 1024 * 1024
    max_records: int = 10_000
    rate_per_s: float = 100.0  # requests per token per second, on average
    burst: int = 200  # requests a token may make at once


class RateLimiter:
    """A token bucket per token name; ``take`` answers None or the seconds to wait."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str) -> float | None:
        now = self._clock()
        with self._lock:
            level, since = self._buckets.get(name, (float(self._burst), now))
            level = min(float(self._burst), level + (now - since) * self._rate)
            if level < 1:
                self._buckets[name] = (level, now)
                return (1 - level) / self._rate
            self._buckets[name] = (level - 1, now)
            return None
