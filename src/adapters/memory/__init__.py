"""In-memory adapters for fast tests: repository, state store, catalog, ingestion and recon
engines (they pass the same contract suites)."""
