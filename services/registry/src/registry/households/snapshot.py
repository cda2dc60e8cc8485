"""Re-exports for the bulk importer (`registry.imports.writer`), which stages household snapshots by COPY: the
registry's events are built in `registry.events.published`; the importer's owner switches to it directly."""

from registry.events.published import (
    EXIT_CERTIFIED,
    HOUSEHOLD_REGISTERED,
    RETURNED_TO_POVERTY,
    household_snapshot,
)

__all__ = ["EXIT_CERTIFIED", "HOUSEHOLD_REGISTERED", "RETURNED_TO_POVERTY", "household_snapshot"]
