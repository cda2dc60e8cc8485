"""Retention: sent outbox rows, inbox rows and expired Idempotency-Key answers are deleted on a schedule.

Settings (env `FUPIN_RETENTION_*`): days to keep sent outbox rows (7) and inbox rows (30: longer than any redelivery
of a committed offset can reach back; a consumer group reset to the beginning of a compacted topic is a new group's
job and needs no inbox), the Idempotency-Key window in hours (24, contract §0), how often to prune and how many rows
one statement deletes. One replica prunes at a time (a transaction-level advisory lock); deletes are chunked so no
statement holds locks for long. Parked outbox rows are kept for an operator.
"""

import asyncio
import logging

from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text

from fupin_kit.db import Database

log = logging.getLogger("fupin.retention")

PRUNER_LOCK = 0x46555052  # "FUPR"
PRUNED = Counter("fupin_retention_pruned_total", "Rows deleted by the retention pruner", ["component", "table"])


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUPIN_RETENTION_", extra="ignore")

    outbox_days: float = Field(7, gt=0)
    inbox_days: float = Field(30, gt=0)
    idempotency_hours: float = Field(24, gt=0)
    interval_seconds: float = Field(3600, gt=0)
    chunk: int = Field(5000, ge=1)


def _statements(settings: RetentionSettings) -> dict[str, str]:
    """Per table: delete one chunk of what is past its retention."""
    return {
        "outbox": ("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NOT NULL AND sent_at < "
                   f"now() - make_interval(secs => {settings.outbox_days * 86400}) LIMIT {settings.chunk})"),
        "inbox": ("DELETE FROM inbox WHERE event_id IN (SELECT event_id FROM inbox WHERE received_at < "
                  f"now() - make_interval(secs => {settings.inbox_days * 86400}) LIMIT {settings.chunk})"),
        "idempotency_keys": (
            "DELETE FROM idempotency_keys WHERE (client_id, key) IN (SELECT client_id, key FROM idempotency_keys "
            f"WHERE created_at < now() - make_interval(secs => {settings.idempotency_hours * 3600}) "
            f"LIMIT {settings.chunk})"),
    }


async def prune_once(db: Database, *, component: str = "fupin", settings: RetentionSettings | None = None
                     ) -> dict[str, int]:
    """Delete everything past retention now; returns rows deleted per table ({} when another replica prunes)."""
    settings = settings or RetentionSettings()
    deleted: dict[str, int] = {}
    for table, statement in _statements(settings).items():
        total = 0
        while True:
            async with db.session() as session:
                if not (await session.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(  # type: ignore[call-overload]
                        k=PRUNER_LOCK))).scalar():
                    return deleted
                result = await session.exec(text(statement))  # type: ignore[call-overload]
                await session.commit()
            count = int(result.rowcount or 0)
            total += count
            if count < settings.chunk:
                break
        deleted[table] = total
        if total:
            PRUNED.labels(component, table).inc(total)
    return deleted


async def run_pruner(db: Database, *, component: str, settings: RetentionSettings | None = None) -> None:
    """Prune every `interval_seconds` (the first run a minute after start-up) until cancelled."""
    settings = settings or RetentionSettings()
    await asyncio.sleep(min(60.0, settings.interval_seconds))
    while True:
        try:
            if deleted := {t: n for t, n in (await prune_once(db, component=component, settings=settings)).items()
                           if n}:
                log.info("retention: pruned %s", deleted)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("retention: pruning failed (%s); next run in %.0f s", type(exc).__name__,
                        settings.interval_seconds)
        await asyncio.sleep(settings.interval_seconds)
