"""Reconciliation's domain: recon specs, column alignment and normalisation, the checks, the
key diff and the run use case."""
