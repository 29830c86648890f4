"""The metadata service's tokens in a table of the metadata database (digests only)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Engine, Index, Integer, MetaData, String, Table, select, update

from adapters.sql.tables import UtcTimestamp
from domain.metadata.tokens import Scope, ServiceToken, digest, new_secret

_tables = MetaData()
service_tokens = Table(
    "service_tokens",
    _tables,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("scopes", String(64), nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("revoked_at", UtcTimestamp),
)
Index("ix_service_tokens_name", service_tokens.c.name)
# What a token is, as the store shows it (never the digest).
_SHOWN = select(
    service_tokens.c.name,
    service_tokens.c.scopes,
    service_tokens.c.created_at,
    service_tokens.c.revoked_at,
)


class DuplicateToken(ValueError):
    """An active token of that name exists."""


class SqlTokenStore:
    """Implements the TokenStore port."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._ready = False

    def _tables(self) -> None:
        if not self._ready:
            _tables.create_all(self._engine, checkfirst=True)
            self._ready = True

    def create(self, name: str, scopes: Collection[Scope], now: datetime) -> str:
        self._tables()
        secret = new_secret()
        with self._engine.begin() as connection:
            active = connection.execute(
                select(service_tokens.c.id).where(
                    service_tokens.c.name == name, service_tokens.c.revoked_at.is_(None)
                )
            ).first()
            if active is not None:
                raise DuplicateToken(
                    f"token {name!r} exists; revoke it first or choose another name"
                )
            connection.execute(
                service_tokens.insert().values(
                    name=name,
                    digest=digest(secret),
                    scopes=",".join(sorted(s.value for s in scopes)),
                    created_at=now,
                )
            )
        return secret

    def _token(self, row: Any) -> ServiceToken:
        scopes = frozenset(Scope(s) for s in str(row[1]).split(",") if s)
        return ServiceToken(str(row[0]), scopes, row[2], row[3])

    def find(self, secret: str) -> ServiceToken | None:
        self._tables()
        with self._engine.connect() as connection:
            row = connection.execute(
                _SHOWN.where(service_tokens.c.digest == digest(secret))
            ).first()
        return None if row is None else self._token(row)

    def tokens(self) -> list[ServiceToken]:
        self._tables()
        with self._engine.connect() as connection:
            rows = connection.execute(
                _SHOWN.order_by(service_tokens.c.name, service_tokens.c.id)
            ).all()
        return [self._token(r) for r in rows]

    def revoke(self, name: str, now: datetime) -> bool:
        self._tables()
        with self._engine.begin() as connection:
            done = connection.execute(
                update(service_tokens)
                .where(service_tokens.c.name == name, service_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return bool(done.rowcount)
