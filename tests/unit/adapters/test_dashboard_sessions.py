"""Dashboard sessions expire, end with their token, and stay bounded in number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.http.dashboard import sessions as module
from adapters.http.dashboard.sessions import DashboardSessions
from domain.metadata.tokens import Scope, ServiceToken

CREATED = datetime(2024, 5, 1, tzinfo=UTC)


class Tokens:
    def __init__(self) -> None:
        self.held = [ServiceToken("ops", frozenset({Scope.READ}), CREATED)]

    def tokens(self) -> list[ServiceToken]:
        return list(self.held)


def test_a_session_lives_until_it_expires() -> None:
    clock = [CREATED]
    tokens = Tokens()
    sessions = DashboardSessions(tokens, timedelta(hours=1), lambda: clock[0])  # type: ignore[arg-type]
    session = sessions.open(tokens.held[0])
    assert len(session) >= 40 and sessions.token(session) == tokens.held[0]
    clock[0] += timedelta(minutes=59)
    assert sessions.token(session) is not None
    clock[0] += timedelta(minutes=2)
    assert sessions.token(session) is None
    assert sessions.token("made-up") is None


def test_a_revoked_or_replaced_token_ends_its_sessions() -> None:
    tokens = Tokens()
    sessions = DashboardSessions(tokens)  # type: ignore[arg-type]
    session = sessions.open(tokens.held[0])
    tokens.held = [ServiceToken("ops", frozenset({Scope.READ}), CREATED, CREATED)]  # revoked
    assert sessions.token(session) is None
    tokens.held = [ServiceToken("ops", frozenset({Scope.READ}), CREATED + timedelta(days=1))]
    assert sessions.token(session) is None  # the same name, another token


def test_sessions_stay_bounded(monkeypatch: object) -> None:
    tokens = Tokens()
    sessions = DashboardSessions(tokens)  # type: ignore[arg-type]
    first = sessions.open(tokens.held[0])
    for _ in range(module.MAX_SESSIONS):
        sessions.open(tokens.held[0])
    assert sessions.token(first) is None and len(sessions._sessions) == module.MAX_SESSIONS
