"""Adapters: the ports implemented with real technology (SQL, Spark, Iceberg, HTTP, NATS,
files) and in memory."""
