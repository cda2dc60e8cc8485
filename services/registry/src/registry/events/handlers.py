"""The registry consumes no topic: it is the source of the household and division events (`events/published.py`).
The empty table keeps the domains alike (`create_service_app(handlers=...)` starts no consumer for it)."""

from fupin_kit.events.consumer import Handler

HANDLERS: dict[str, Handler] = {}
