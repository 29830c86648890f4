"""Catalog harvesting: schemas, profiles and drift of every dataset of a catalog."""
