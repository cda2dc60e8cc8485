"""Fupin welfare (兜底保障): 低保 cases, temporary assistance, ecological rangers, relocation (contract v2 §8)."""
