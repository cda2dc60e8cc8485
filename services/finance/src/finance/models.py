"""Every table of the finance, imported by Alembic's env.py."""

from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
