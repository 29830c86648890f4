"""A database table (PostgreSQL or SQLite) as an ingestion target.

A run never writes the target directly. Spark fills staging tables beside it (same schema
of the database, named ``_dp_stage_<target>_<run>_<role>``, ``stage``); then one
transaction (``table.SqlTarget``) applies them - swap the table (full), insert the new
rows (append), upsert and delete by key (scd1), replace the history of the keys the batch
touched (scd2), each in ``modes`` - after applying the allowed drift (``evolve``), and
records the run's commit marker in ``_dataplatform_commits`` of the same database
(``commits``; and, with an asynchronous metadata transport, the run's records in its
``metadata_outbox``). Either all of it commits or none of it does, so the marker says
exactly what the target holds, even when the run was stopped before it could write its
state. Staging tables left by a killed run are dropped by the next run of the same target.
"""
