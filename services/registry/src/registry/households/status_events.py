"""Re-exports for the bulk importer (`registry.imports.writer`), which stages `household-status-changed` by COPY: the
registry's events are built in `registry.events.published`; the importer's owner switches to it directly."""

from registry.events.published import (
    ANNOUNCED_BY_SNAPSHOT,
    HOUSEHOLD_STATUS_CHANGED,
    announced_here,
    publish_status,
    status_changed,
)

__all__ = ["ANNOUNCED_BY_SNAPSHOT", "HOUSEHOLD_STATUS_CHANGED", "announced_here", "publish_status", "status_changed"]
