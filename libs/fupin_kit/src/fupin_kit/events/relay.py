"""Outbox relay: claim unsent rows with FOR UPDATE SKIP LOCKED, publish with an idempotent producer, mark sent."""

import asyncio
import contextlib
import datetime as dt
import json
import logging

import asyncpg
from aiokafka import AIOKafkaProducer
from sqlalchemy import update
from sqlmodel import col, select

from fupin_kit.db import Database, asyncpg_dsn
from fupin_kit.events.models import OutboxEvent
from fupin_kit.events.outbox import NOTIFY_CHANNEL
from fupin_kit.observability import EVENTS_PUBLISHED

log = logging.getLogger("fupin.relay")


def build_producer(bootstrap_servers: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, enable_idempotence=True, acks="all",
        linger_ms=5, request_timeout_ms=15000)


class OutboxRelay:
    """Publishes the service's outbox. A broker outage delays events; none is lost, since rows stay unsent."""

    def __init__(self, db: Database, producer: AIOKafkaProducer, *, component: str, batch_size: int = 500,
                 poll_interval: float = 1.0) -> None:
        self.db = db
        self.producer = producer
        self.component = component
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()

    async def run(self) -> None:
        listener = await self._listen()
        try:
            while True:
                try:
                    sent = await self.publish_batch()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox relay failed to publish; will retry")
                    await asyncio.sleep(2)
                    continue
                if sent < self.batch_size:
                    await self._wait()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def publish_batch(self) -> int:
        """Publish one batch of unsent events in id order; returns how many were sent."""
        async with self.db.session() as session:
            rows = (await session.exec(
                select(OutboxEvent).where(OutboxEvent.sent_at.is_(None))  # type: ignore[union-attr]
                .order_by(col(OutboxEvent.id)).limit(self.batch_size).with_for_update(skip_locked=True))).all()
            if not rows:
                return 0
            futures = [await self.producer.send(row.topic, json.dumps(row.payload, ensure_ascii=False).encode(),
                                               key=row.key.encode()) for row in rows]
            await asyncio.gather(*futures)
            await session.exec(update(OutboxEvent).where(OutboxEvent.id.in_([r.id for r in rows]))  # type: ignore[union-attr]
                               .values(sent_at=dt.datetime.now(dt.UTC)))
            await session.commit()
        for row in rows:
            EVENTS_PUBLISHED.labels(self.component, row.topic).inc()
        return len(rows)

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        self._wake.clear()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(self.db.url))
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            return conn
        except Exception:
            log.warning("LISTEN unavailable; the relay polls every %.1fs", self.poll_interval)
            return None
