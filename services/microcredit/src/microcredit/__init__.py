"""Fupin microcredit service."""
