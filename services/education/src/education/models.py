"""Every table of the education, imported by Alembic's env.py."""

from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
