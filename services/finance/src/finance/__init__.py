"""Fupin finance service."""
