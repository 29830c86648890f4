"""The ingestion app: plan, run, backfill and look after pipelines (`ingestion --help`)."""
