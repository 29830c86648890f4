"""The dashboard's sign-in sessions, kept by the service: the browser holds a random session
id (never the bearer token), which expires, and ends when its token is revoked."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs

from domain.metadata.tokens import Scope, ServiceToken
from ports.tokens import TokenStore

LIFETIME = timedelta(hours=8)
# Sign-ins kept at most (the oldest go first): a flood of logins cannot fill the memory.
MAX_SESSIONS = 10_000


@attrs.frozen
class _Session:
    token: str  # the token's name
    created: datetime  # the token's creation: a name reused after a revoke is another token
    expires: datetime


class DashboardSessions:
    """Session ids for signed-in browsers, in this process (a restart signs everyone out)."""

    def __init__(
        self,
        tokens: TokenStore,
        lifetime: timedelta = LIFETIME,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._tokens = tokens
        self._lifetime = lifetime
        self._now = now
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def seconds(self) -> int:
        return int(self._lifetime.total_seconds())

    def open(self, token: ServiceToken) -> str:
        """A new session for ``token`` (checked by the caller); its random id."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = _Session(
                token.name, token.created_at, self._now() + self._lifetime
            )
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session_id

    def token(self, session_id: str) -> ServiceToken | None:
        """The token a live session stands for, while it is active and may read; None for
        an unknown, expired or revoked one (which is then forgotten)."""
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires <= self._now():
            self.close(session_id)
            return None
        found = next(
            (
                t
                for t in self._tokens.tokens()
                if t.name == session.token and t.created_at == session.created
            ),
            None,
        )
        if found is None or not found.allows(Scope.READ):
            self.close(session_id)  # revoked: the session ends with its token
            return None
        return found

    def close(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
