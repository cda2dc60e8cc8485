"""Fupin medical service."""
