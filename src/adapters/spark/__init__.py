"""Spark: sessions, endpoints, the profiler, load strategies, the ingestion and recon engines
and their targets."""
