"""Every table of the gateway (Alembic's env.py imports this module)."""

from gateway.audit import AuditRecord
from gateway.officials.models import LoginFailure, Official, OfficialSession

__all__ = ["AuditRecord", "LoginFailure", "Official", "OfficialSession"]
