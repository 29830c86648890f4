"""SQL through SQLAlchemy Core: the metadata store (tables, Alembic migrations, outbox,
tokens), state, catalogs, database targets and recon inside PostgreSQL."""
