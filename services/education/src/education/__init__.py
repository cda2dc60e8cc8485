"""Fupin education service."""
