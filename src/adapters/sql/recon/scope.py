"""The rows a recon compares on a PostgreSQL side, as a ``where`` clause and its parameters:
the spec's row conditions and its scope (a watermark column's range, less its lag)."""

from __future__ import annotations

from typing import Any

from adapters.sql.recon.expressions import ident
from domain.ingestion.durations import lag_amount
from domain.recon.spec import ReconSpec, Side
from domain.schema import Schema
from domain.schema.types import DateType, TimestampType


def where(spec: ReconSpec, role: Side, schema: Schema) -> tuple[str, dict[str, Any]]:
    """The ``role`` side's rows in scope, and limited by the spec's row conditions
    (``schema``: that side's columns)."""
    clauses, params = [], {}
    for n, row in enumerate(spec.rows(role)):
        column = schema.column(row.column)
        if column is None:
            raise ValueError(
                f"the {role} has no column {row.column!r} to limit its rows by; it has "
                f"{', '.join(schema.names)}"
            )
        value = f"cast({ident(column.name)} as text)"
        clauses.append(
            f"({value} is null or {value} <> :row{n})" if row.negate else f"{value} = :row{n}"
        )
        params[f"row{n}"] = row.value
    scope = spec.scope
    if scope is None:
        return " and ".join(clauses) or "true", params
    column = schema.column(scope.column)
    if column is None:
        raise ValueError(
            f"scope: the {role} has no column {scope.column!r}; it has {', '.join(schema.names)}"
        )
    ref = ident(column.name)
    time = isinstance(column.type, TimestampType | DateType)
    cast = "timestamptz" if time else "numeric"
    if scope.since is not None:
        amount = lag_amount(scope.lag) if scope.lag else 0
        shift = f" - make_interval(secs => {amount})" if time else f" - {amount}"
        clauses.append(f"{ref} >= (cast(:since as {cast}){shift})")
        params["since"] = scope.since
    if scope.upto is not None:
        clauses.append(f"{ref} <= cast(:upto as {cast})")
        params["upto"] = scope.upto
    return " and ".join(clauses) or "true", params
