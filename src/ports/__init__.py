"""Ports: the typing.Protocol interfaces the domain needs from the world."""
