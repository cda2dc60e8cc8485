"""Plumbing shared by the Fupin services. Nothing domain-specific lives here."""
