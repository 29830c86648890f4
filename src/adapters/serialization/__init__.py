"""Serialization edges: records as JSON (cattrs), OpenLineage events, the Prometheus text
format."""
