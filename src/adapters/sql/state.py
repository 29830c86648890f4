"""Pipeline state in the metadata database (SQLite or PostgreSQL), one row per pipeline."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from adapters.sql.tables import pipeline_state
from domain.dataset import RunId
from domain.ingestion.state import PipelineState


class SqlStateStore:
    """Replaces a pipeline's row in one transaction (delete + insert)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, pipeline: str) -> PipelineState | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(pipeline_state).where(pipeline_state.c.pipeline == pipeline)
            ).one_or_none()
        return None if row is None else _state(row)

    def put(self, state: PipelineState) -> None:
        with self._engine.connect() as connection:
            writer = connection.execution_options(sqlite_immediate=True)
            with writer.begin():
                writer.execute(
                    delete(pipeline_state).where(pipeline_state.c.pipeline == state.pipeline)
                )
                writer.execute(
                    insert(pipeline_state).values(
                        pipeline=state.pipeline,
                        last_run_id=state.last_run_id.value,
                        committed_at=state.committed_at,
                        rows_written=state.rows_written,
                        watermark=state.watermark,
                    )
                )

    def reset(self, pipeline: str) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(pipeline_state).where(pipeline_state.c.pipeline == pipeline)
            )
        return bool(result.rowcount)

    def pipelines(self) -> list[PipelineState]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(pipeline_state).order_by(pipeline_state.c.pipeline)
            ).all()
        return [_state(row) for row in rows]


def _state(row) -> PipelineState:  # type: ignore[no-untyped-def]
    return PipelineState(
        pipeline=row.pipeline,
        last_run_id=RunId(row.last_run_id),
        committed_at=row.committed_at,
        rows_written=int(row.rows_written),
        watermark=row.watermark,
    )
