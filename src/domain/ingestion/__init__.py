"""The ingestion runtime's domain: pipeline specs, plans, state and the run use case."""
