"""File edges: formats read from disk (pipeline files)."""
