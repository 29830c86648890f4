"""Entry points: CLIs and services, each with its composition root."""
