"""What the Spark tests ask of a PostgreSQL target's schema."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def staging_tables(sqlalchemy_url: str, schema: str) -> int:
    """How many staging tables ``schema`` holds."""
    engine = create_engine(sqlalchemy_url)
    with engine.connect() as connection:
        left = connection.execute(
            text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s "
                "AND table_name LIKE '\\_dp\\_stage\\_%'"
            ),
            {"s": schema},
        ).scalar_one()
    engine.dispose()
    return int(left)
