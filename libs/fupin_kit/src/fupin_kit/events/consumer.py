"""Idempotent consumer: handler and inbox row in one transaction, offsets committed after it, poison to a DLQ."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.db import Database
from fupin_kit.events.models import InboxEvent
from fupin_kit.observability import EVENTS_CONSUMED

log = logging.getLogger("fupin.consumer")

Event = dict[str, Any]
# Failures that come from the event's content, not from the moment: dead-lettered without retries.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (ValidationError, KeyError, TypeError)
Handler = Callable[[AsyncSession, Event], Awaitable[None]]


class EventConsumer:
    def __init__(self, db: Database, *, bootstrap_servers: str, group_id: str, handlers: Mapping[str, Handler],
                 dlq_producer: AIOKafkaProducer, attempts: int = 3) -> None:
        self.db = db
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.handlers = dict(handlers)
        self.dlq_producer = dlq_producer
        self.attempts = attempts

    async def run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                *self.handlers, bootstrap_servers=self.bootstrap_servers, group_id=self.group_id,
                enable_auto_commit=False, auto_offset_reset="earliest", metadata_max_age_ms=5000)
            try:
                await consumer.start()
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer %s stopped; restarting", self.group_id)
                await asyncio.sleep(2)
            finally:
                await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    await self.process(record)
                # Each record's transaction has committed: a crash before this commit only redelivers records
                # that the inbox then skips.
                await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})

    async def process(self, record: ConsumerRecord) -> None:
        """Handle one message at most once; after `attempts` failures it goes to `<topic>.dlq`."""
        try:
            event: Event = json.loads(record.value)
            event_id = str(event["id"])
        except (ValueError, KeyError, TypeError) as exc:
            await self._dead_letter(record, f"unreadable event: {exc}")
            return
        error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                outcome = await self._handle_once(record.topic, event_id, event)
                EVENTS_CONSUMED.labels(self.group_id, record.topic, outcome).inc()
                return
            except asyncio.CancelledError:
                raise
            except PERMANENT_ERRORS as exc:  # the event itself is wrong: retrying cannot help
                error = f"{type(exc).__name__}: {exc}"
                break
            except Exception as exc:  # the handler's failure: retry, then dead-letter
                error = f"{type(exc).__name__}: {exc}"
                # the message may quote event values: it goes to the DLQ header, the log gets the type only
                log.warning("event %s on %s failed (attempt %d): %s", event_id, record.topic, attempt,
                            type(exc).__name__)
                await asyncio.sleep(0.2 * 2**attempt)
        await self._dead_letter(record, error)

    async def _handle_once(self, topic: str, event_id: str, event: Event) -> str:
        async with self.db.session() as session:
            inserted = await session.exec(  # type: ignore[call-overload]
                insert(InboxEvent).values(event_id=event_id, topic=topic)
                .on_conflict_do_nothing().returning(col(InboxEvent.event_id)))
            if inserted.first() is None:
                return "duplicate"
            await self.handlers[topic](session, event)
            await session.commit()
        return "handled"

    async def _dead_letter(self, record: ConsumerRecord, error: str) -> None:
        EVENTS_CONSUMED.labels(self.group_id, record.topic, "dead_letter").inc()
        log.error("event at %s[%d]@%d dead-lettered: %s", record.topic, record.partition, record.offset,
                  error.split(":", 1)[0])
        await self.dlq_producer.send_and_wait(
            f"{record.topic}.dlq", record.value, key=record.key,
            headers=[("error", error[:1000].encode()), ("consumer", self.group_id.encode())])
