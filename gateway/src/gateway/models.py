"""Every table of the gateway (Alembic's env.py imports this module)."""

from gateway.audit import AuditRecord

__all__ = ["AuditRecord"]
