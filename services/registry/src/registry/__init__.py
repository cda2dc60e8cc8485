"""Fupin registry service."""
