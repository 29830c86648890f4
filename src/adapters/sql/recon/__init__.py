"""Reconciliation inside one PostgreSQL database (``engine.SqlReconEngine``): the SQL it
writes (``expressions``), the rows it compares (``scope``) and how it cuts the key space
(``segments``)."""
