"""The kit's consumer, with one transaction per poll batch for the topics that order payments (issue 14 target 4).

`EventConsumer` handles each record in its own transaction (inbox row and handler together). For a topic whose
handler is a `BatchHandler`, this subclass handles all records a poll returned for one partition in ONE transaction:
the inbox rows in one insert (an event id already there, or twice in the batch, is a duplicate and is skipped), the
payments of the new events recorded and paid with set-based SQL (`settle.order_many`), then commit, then the offsets.
What holds as before:
- exactly once: the inbox rows commit with the payments; a redelivered batch finds its event ids and pays nothing;
- offsets after the database commit: a crash in between only redelivers records the inbox then skips;
- order: records are applied in offset order, so `payments.seq` follows the partition;
- failure policy: a transient failure (database restart, deadlock, ...) holds the partition at the batch's first
  record and retries it later, exactly as the kit does for one record; any other failure, or a record whose content
  cannot be read, sends the batch down the kit's per-record path (the transaction rolled back, so nothing is
  doubled), which dead-letters just the bad record.

Installed by `finance.main` in place of the kit's class (`fupin_kit.kafka.EventConsumer`), until the kit takes batch
handlers itself.
"""

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.events.consumer import Event, EventConsumer
from fupin_kit.events.failures import Failure, classify
from fupin_kit.events.models import InboxEvent
from fupin_kit.observability import EVENTS_CONSUMED

log = logging.getLogger("fupin.finance.consumer")

_INBOX = text(f"INSERT INTO {InboxEvent.__tablename__} (event_id, topic) "
              "SELECT e, :topic FROM unnest(CAST(:ids AS text[])) e ON CONFLICT DO NOTHING RETURNING event_id")
BATCH_RECORDS = 500  # records per poll (all partitions): the most one transaction carries


class BatchHandler:
    """A handler usable one event at a time (the kit's `Handler`) or for many events in one transaction.

    `prepare(event)` validates an event and returns what `apply` needs (raising on content it can never process);
    `apply(session, prepared)` applies many prepared events inside the caller's transaction, in order."""

    def __init__(self, prepare: Callable[[Event], Any],
                 apply: Callable[[AsyncSession, Sequence[Any]], Awaitable[object]]) -> None:
        self.prepare = prepare
        self.apply = apply

    async def __call__(self, session: AsyncSession, event: Event) -> None:
        await self.apply(session, [self.prepare(event)])


class _Fallback(Exception):
    """The batch cannot be applied as one: handle its records one by one."""


class PaymentBatchConsumer(EventConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_records = max(self.max_records, BATCH_RECORDS)

    async def _process_partition(self, consumer: AIOKafkaConsumer, tp: TopicPartition,
                                 records: list[ConsumerRecord]) -> None:
        handler = self.handlers.get(tp.topic)
        if not isinstance(handler, BatchHandler) or len(records) < 2 or tp in self._retrying:
            await super()._process_partition(consumer, tp, records)
            return
        try:
            error = await self._process_batch(tp.topic, records, handler)
        except _Fallback:
            await super()._process_partition(consumer, tp, records)
            return
        if error is not None:  # transient: hold the partition at the batch's first record
            self._hold(consumer, tp, records[0], error)
            return
        try:
            await consumer.commit({tp: records[-1].offset + 1})
        except KafkaError as exc:
            log.warning("offset commit for %s[%d] failed (%s); records will be redelivered and skipped",
                        tp.topic, tp.partition, type(exc).__name__)

    async def _process_batch(self, topic: str, records: Sequence[ConsumerRecord], handler: BatchHandler) -> str | None:
        """Apply the batch in one transaction. Returns None when done, else the transient failure's class name."""
        events: list[tuple[str, Any]] = []
        try:
            for record in records:
                event = json.loads(record.value)
                events.append((str(event["id"]), handler.prepare(event)))
        except Exception as exc:  # a record the per-record path will dead-letter
            raise _Fallback from exc
        try:
            async with self.db.session() as session:
                inserted = await session.exec(_INBOX, params={  # type: ignore[call-overload]
                    "ids": [event_id for event_id, _ in events], "topic": topic})
                new = set(inserted.scalars().all())
                fresh, seen = [], set()
                for event_id, prepared in events:
                    if event_id in new and event_id not in seen:
                        seen.add(event_id)
                        fresh.append(prepared)
                if fresh:
                    await handler.apply(session, fresh)
                await session.commit()
        except Exception as exc:
            if classify(exc) is Failure.TRANSIENT:
                return type(exc).__name__
            log.warning("batch of %d on %s failed (%s); handling its records one by one", len(records), topic,
                        type(exc).__name__)
            raise _Fallback from exc
        EVENTS_CONSUMED.labels(self.group_id, topic, "handled").inc(len(fresh))
        if len(events) > len(fresh):
            EVENTS_CONSUMED.labels(self.group_id, topic, "duplicate").inc(len(events) - len(fresh))
        return None
