"""Idempotent consumer: handler and inbox row in one transaction, offsets committed after it.

Failure policy (contract §6), see `fupin_kit.events.failures`:
- transient (database restarting, connection lost, deadlock, pool timeout, broker error): the partition is paused
  and sought back to the failed record, then retried after a capped exponential back-off with jitter, without limit.
  Later records of that partition wait (order is kept); other partitions go on. It shows in the metrics
  (`fupin_consumer_transient_failures_total`, `fupin_consumer_partitions_retrying`) and in readiness `checks`.
- content (validation, unknown or missing fields, a rule raising `PoisonEvent`): the record goes to `<topic>.dlq`
  at once with headers `error` (the exception class only: its text may quote personal data), `consumer`,
  `topic`, `partition`, `offset`; `fupin-dlq replay` sends it back through this same path.
- anything else (a bug): a few quick retries, then the DLQ, so one bad event cannot stop a partition for good.

Batches (issue 14): a topic whose handler is a `BatchHandler` is applied a poll batch per partition in ONE
transaction: the inbox rows of the batch in one `INSERT ... ON CONFLICT DO NOTHING RETURNING event_id` (an id
already there, or twice in the batch, is a duplicate), the handler's `apply` called once with the new events in
offset order, commit, then the offset. A subscription sets its batch size: `BatchHandler(prepare, apply,
max_records=2000)` applies up to 2,000 records of a partition per transaction (500 by default), and the consumer
polls at least that many records. The failure policy is the same: a transient failure holds the partition at
the batch's first record and retries the batch in order; a record that does not read (JSON, `prepare`) takes the
per-record path alone between the batches of its neighbours; any other failure (content the handler refuses, a
bug) rolls the batch back and applies its halves, each the same way, so only the bad record goes through the
per-record path (retried, dead-lettered) and its batch-mates are applied in batches, once each and in order.

Turns: the partitions of a consumer's topics take turns, one batch (or `ONE_BY_ONE_RECORDS` records of a topic
handled one by one) each, so neither a backlog on one topic nor a slow topic holds back the others.
"""

import asyncio
import contextlib
import gc
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import telemetry
from fupin_kit.db import Database
from fupin_kit.events.failures import Failure, PoisonEvent, classify
from fupin_kit.events.models import InboxEvent
from fupin_kit.events.topics import event_topic, kafka_topic
from fupin_kit.events.topics import topic_prefix as _prefix
from fupin_kit.kafka_security import kafka_client_options
from fupin_kit.memory import release_memory
from fupin_kit.observability import EVENTS_CONSUMED

__all__ = ["Backoff", "BatchHandler", "Event", "EventConsumer", "Handler", "PoisonEvent"]

log = logging.getLogger("fupin.consumer")

Event = dict[str, Any]
Handler = Callable[[AsyncSession, Event], Awaitable[None]]
Prepared = TypeVar("Prepared")

BATCH_RECORDS = 500  # records of a partition a batch handler applies in one transaction, unless it says otherwise
ONE_BY_ONE_RECORDS = 100  # records of a partition handled one by one in a turn (the partitions take turns)
# Records applied in a burst after which, once nothing is left to apply, the allocator's free pages go back to the
# system (`release_memory`): a burst (a city's monthly run paid, a bulk import's snapshots) left welfare at 150 MB.
BURST_RECORDS = 10_000
_INBOX_MANY = text(f"INSERT INTO {InboxEvent.__tablename__} (event_id, topic) "
                   "SELECT e, :topic FROM unnest(CAST(:ids AS text[])) e ON CONFLICT DO NOTHING RETURNING event_id")

TRANSIENT_FAILURES = Counter(
    "fupin_consumer_transient_failures_total", "Event handling failures retried without limit (database, broker)",
    ["component", "topic", "error"])
PARTITIONS_RETRYING = Gauge(
    "fupin_consumer_partitions_retrying", "Partitions held back by a transient failure", ["component"])
DEAD_LETTERED = Counter("fupin_consumer_dead_lettered_total", "Events sent to <topic>.dlq",
                        ["component", "topic", "error"])


@dataclass(frozen=True)
class Backoff:
    """Capped exponential back-off with full jitter in [delay/2, delay]."""

    initial: float = 0.2
    cap: float = 30.0

    def delay(self, failures: int) -> float:
        base = min(self.cap, self.initial * 2 ** max(0, failures - 1))
        return base * random.uniform(0.5, 1.0)


class BatchHandler(Generic[Prepared]):
    """A handler usable one event at a time (a `Handler`) or for a poll batch in one transaction.

    `prepare(event)` reads an event (raising on content it can never process: `PoisonEvent`, a `ValidationError`)
    and returns what `apply` needs; `apply(session, prepared)` applies many prepared events, in order, inside the
    caller's transaction (set-based SQL: one statement for the batch, not one per event). `max_records`: the most
    records of one partition applied in one transaction (`BATCH_RECORDS` by default); the consumer polls at least
    that many. `read(value)`, if given, does what `json.loads` and `prepare` do from a record's bytes, returning the
    event's id and the prepared event (a faster path for the batch)."""

    def __init__(self, prepare: Callable[[Event], Prepared],
                 apply: Callable[[AsyncSession, Sequence[Prepared]], Awaitable[object]], *,
                 max_records: int = 0, read: Callable[[bytes], tuple[str, Prepared]] | None = None) -> None:
        self.prepare = prepare
        self.apply = apply
        self.max_records = max_records or BATCH_RECORDS
        self.read = read

    async def __call__(self, session: AsyncSession, event: Event) -> None:
        await self.apply(session, [self.prepare(event)])


class _OneByOne(Exception):
    """The batch cannot be applied as one: handle its records one by one."""


_Outcome = tuple[ConsumerRecord | None, tuple[ConsumerRecord, str] | None]
"""The last record done with (its offset is committed), and the record to hold the partition at with the transient
failure's class name."""


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is read and applied: its events (hundreds of objects each) stay
    alive until the batch commits, so the collector would promote them to the old generation and soon scan the whole
    heap, a quarter of the consumer's CPU per event in a profile (issue 14); reference counting frees them after the
    batch and the collector runs again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read(handler: BatchHandler[Prepared], record: ConsumerRecord) -> tuple[str, Prepared]:
    if handler.read is not None:
        return handler.read(record.value)
    event = json.loads(record.value)
    return str(event["id"]), handler.prepare(event)


def _runs(handler: BatchHandler[Any], records: Sequence[ConsumerRecord],
          ) -> list[tuple[list[ConsumerRecord], list[tuple[str, Any]] | None]]:
    """The records in order, as runs of readable records with their events, and each unreadable record alone
    (with None)."""
    runs: list[tuple[list[ConsumerRecord], list[tuple[str, Any]] | None]] = []
    for record in records:
        try:
            event = _read(handler, record)
        except Exception:  # the per-record path dead-letters it (or retries it, if it is a bug)
            runs.append(([record], None))
            continue
        events = runs[-1][1] if runs else None
        if events is None:
            runs.append(([record], [event]))
        else:
            runs[-1][0].append(record)
            events.append(event)
    return runs


@dataclass
class _Retry:
    failures: int
    error: str
    since: float
    resume_at: float


class EventConsumer:
    def __init__(self, db: Database, *, bootstrap_servers: str, group_id: str, handlers: Mapping[str, Handler],
                 dlq_producer: AIOKafkaProducer, attempts: int = 4, backoff: Backoff | None = None,
                 max_records: int = 200, topic_prefix: str | None = None) -> None:
        self.db = db
        # handlers, inbox rows and metrics use the event topics; Kafka's topics carry the prefix (events.topics)
        self.topic_prefix = _prefix() if topic_prefix is None else topic_prefix
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.handlers = dict(handlers)
        self.dlq_producer = dlq_producer
        self.attempts = attempts  # for failures neither transient nor content
        self.backoff = backoff or Backoff()
        # records per poll (all partitions): at least what one batch handler applies in a transaction
        self.max_records = max([max_records, *(h.max_records for h in self.handlers.values()
                                               if isinstance(h, BatchHandler))])
        self._retrying: dict[TopicPartition, _Retry] = {}
        self._pending: dict[TopicPartition, list[ConsumerRecord]] = {}  # fetched, waiting for their turn
        self._since_release = 0  # records taken since the last release_memory
        self._connected = False

    # ---- what readiness and metrics report

    def health(self) -> dict[str, Any]:
        """`retrying`: partitions held back by a transient failure, with the error class and for how long."""
        now = time.monotonic()
        return {
            "connected": self._connected,
            "retrying": [{"topic": event_topic(tp.topic, self.topic_prefix), "partition": tp.partition,
                          "error": r.error, "failures": r.failures,
                          "seconds": round(now - r.since, 1)} for tp, r in self._retrying.items()],
        }

    @property
    def healthy(self) -> bool:
        return self._connected and not self._retrying

    # ---- the loop

    async def run(self) -> None:
        failures = 0
        while True:
            consumer = AIOKafkaConsumer(
                *(kafka_topic(t, self.topic_prefix) for t in self.handlers), bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                enable_auto_commit=False, auto_offset_reset="earliest", metadata_max_age_ms=5000,
                **kafka_client_options())
            try:
                await consumer.start()
                self._connected = True
                failures = 0
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("consumer %s stopped (%s); restarting", self.group_id, type(exc).__name__)
                await asyncio.sleep(self.backoff.delay(failures))
            finally:
                self._connected = False
                self._retrying.clear()
                PARTITIONS_RETRYING.labels(self.group_id).set(0)
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        """Partitions take turns: each turn applies at most one batch (`BatchHandler.max_records`) or
        `ONE_BY_ONE_RECORDS` records of a partition, so a backlog on one topic, or a topic handled one by one, does
        not hold back the others; what a turn leaves waits for the partition's next turn, after the others'."""
        self._pending.clear()
        while True:
            self._resume_due(consumer)
            await self._poll(consumer)
            if not self._pending and self._since_release >= BURST_RECORDS:  # a burst is over
                release_memory()
                self._since_release = 0
            for tp in list(self._pending):
                records = self._pending.pop(tp)
                if tp in consumer.paused():  # fetched before the pause: it is sought back, these come again
                    continue
                turn = self._turn(tp)
                if len(records) > turn:
                    self._pending[tp] = records[turn:]  # last in the order: the other partitions go first
                self._since_release += min(turn, len(records))
                await self._process_partition(consumer, tp, records[:turn])
                if tp in self._retrying:  # held at a record of this turn: the rest comes again after the seek
                    self._pending.pop(tp, None)

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        """Fetched records of the partitions with none pending; waits for records only when none is pending."""
        assigned = consumer.assignment()
        for tp in [tp for tp in self._pending if tp not in assigned]:  # revoked: its new owner reads them
            del self._pending[tp]
        if not self._pending:
            batches = await consumer.getmany(timeout_ms=self._poll_timeout_ms(), max_records=self.max_records)
        else:
            idle = [tp for tp in assigned if tp not in self._pending and tp not in consumer.paused()]
            if not idle:
                return
            batches = await consumer.getmany(*idle, timeout_ms=0, max_records=self.max_records)
        # ahead of the partitions with records left from their last turn
        self._pending = {**{tp: records for tp, records in batches.items() if records}, **self._pending}

    def _turn(self, tp: TopicPartition) -> int:
        handler = self.handlers.get(event_topic(tp.topic, self.topic_prefix))
        return handler.max_records if isinstance(handler, BatchHandler) else ONE_BY_ONE_RECORDS

    def _poll_timeout_ms(self) -> int:
        waits = [r.resume_at for r in self._retrying.values() if r.resume_at != float("inf")]
        if not waits:
            return 1000
        return max(10, min(1000, int((min(waits) - time.monotonic()) * 1000)))

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        assigned = consumer.assignment()
        for tp in list(self._retrying):
            if tp not in assigned:  # revoked in a rebalance: its new owner starts from the committed offset
                del self._retrying[tp]
            elif self._retrying[tp].resume_at <= now:
                consumer.resume(tp)
                self._retrying[tp].resume_at = float("inf")  # until the retried record succeeds or fails again
        PARTITIONS_RETRYING.labels(self.group_id).set(len(self._retrying))

    async def _process_partition(self, consumer: AIOKafkaConsumer, tp: TopicPartition,
                                 records: list[ConsumerRecord]) -> None:
        topic = event_topic(tp.topic, self.topic_prefix)
        handler = self.handlers.get(topic)
        retry = self._retrying.get(tp)
        # A batch that failed transiently is retried as a batch, and after a few failures record by record (a batch
        # too large for the statement timeout still moves on).
        if isinstance(handler, BatchHandler) and len(records) > 1 and (retry is None or retry.failures < 3):
            with _collector_paused():
                done, held = await self._apply_in_batches(topic, handler, records)
        else:
            done, held = await self._apply_one_by_one(records)
        if held is not None:  # transient: hold the partition at this record, retry from it in order
            self._hold(consumer, tp, *held)
        elif tp in self._retrying:
            del self._retrying[tp]
            log.info("%s[%d] recovered; consuming again", tp.topic, tp.partition)
        if done is not None:
            await self._commit(consumer, tp, done)

    async def _apply_one_by_one(self, records: Sequence[ConsumerRecord]) -> _Outcome:
        done: ConsumerRecord | None = None
        for record in records:
            error = await self.process(record)
            if error is not None:
                return done, (record, error)
            done = record
        return done, None

    async def _apply_in_batches(self, topic: str, handler: BatchHandler[Any],
                                records: Sequence[ConsumerRecord]) -> _Outcome:
        """The records in order: runs of readable records as batches, an unreadable one alone (the per-record path
        dead-letters it)."""
        done: ConsumerRecord | None = None
        for run, events in _runs(handler, records):
            if events is None:
                last, held = await self._apply_one_by_one(run)
            else:
                last, held = await self._bisect(topic, handler, run, events)
            done = last or done
            if held is not None:
                return done, held
        return done, None

    async def _bisect(self, topic: str, handler: BatchHandler[Any], records: Sequence[ConsumerRecord],
                      events: list[tuple[str, Any]]) -> _Outcome:
        """Apply the records as one batch; when the handler refuses it, each half in turn, down to the record it
        refuses, which alone takes the per-record path (retried, then dead-lettered): its batch-mates still go in
        batches, once each and in order."""
        if len(records) == 1:
            return await self._apply_one_by_one(records)
        try:
            error = await self.process_batch(topic, records, handler, events)
        except _OneByOne:
            middle = len(records) // 2
            done, held = await self._bisect(topic, handler, records[:middle], events[:middle])
            if held is not None:
                return done, held
            last, held = await self._bisect(topic, handler, records[middle:], events[middle:])
            return last or done, held
        if error is not None:
            return None, (records[0], error)
        return records[-1], None

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, done: ConsumerRecord) -> None:
        try:
            # The records' transactions have committed: a crash before this commit only redelivers records that
            # the inbox then skips.
            await consumer.commit({tp: done.offset + 1})
        except KafkaError as exc:
            log.warning("offset commit for %s[%d] failed (%s); records will be redelivered and skipped",
                        tp.topic, tp.partition, type(exc).__name__)

    async def process_batch(self, topic: str, records: Sequence[ConsumerRecord], handler: BatchHandler[Any],
                            events: list[tuple[str, Any]] | None = None) -> str | None:
        """Apply the records (`events`: their ids and prepared events, if read already) in one transaction.
        Returns None when done (applied or duplicates), else the class name of the transient failure that must be
        retried later; raises `_OneByOne` when the batch cannot be applied as one (a record the handler refuses,
        or a failure that is not transient)."""
        if events is None:
            try:
                events = [_read(handler, record) for record in records]
            except Exception as exc:  # a record the per-record path will dead-letter (or retry, if it is a bug)
                raise _OneByOne from exc
        fresh: list[Any] = []
        # One span for the batch, continuing the first record's trace (a single event on an idle stack goes through
        # the per-record path, one span per event).
        try:
            with telemetry.event_span(topic, records[0], consumer=self.group_id, partition=records[0].partition,
                                      offset=records[0].offset, event_id=events[0][0]):
                await self._apply_batch(topic, handler, events, fresh)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if classify(exc) is Failure.TRANSIENT:
                return type(exc).__name__
            log.warning("batch of %d on %s failed (%s); applying its halves", len(records), topic,
                        type(exc).__name__)
            raise _OneByOne from exc
        EVENTS_CONSUMED.labels(self.group_id, topic, "handled").inc(len(fresh))
        if len(events) > len(fresh):
            EVENTS_CONSUMED.labels(self.group_id, topic, "duplicate").inc(len(events) - len(fresh))
        return None

    async def _apply_batch(self, topic: str, handler: BatchHandler[Any], events: list[tuple[str, Any]],
                           fresh: list[Any]) -> None:
        """Inbox rows in one statement, the handler with the new events (appended to `fresh`), commit."""
        async with self.db.session() as session:
            inserted = await session.exec(_INBOX_MANY, params={  # type: ignore[call-overload]
                "ids": [event_id for event_id, _ in events], "topic": topic})
            new = set(inserted.scalars().all())
            for event_id, prepared in events:
                if event_id in new:
                    new.discard(event_id)  # the first of two records with one id is applied, not the second
                    fresh.append(prepared)
            if fresh:
                await handler.apply(session, fresh)
            await session.commit()

    def _hold(self, consumer: AIOKafkaConsumer, tp: TopicPartition, record: ConsumerRecord, error: str) -> None:
        now = time.monotonic()
        previous = self._retrying.get(tp)
        failures = previous.failures + 1 if previous else 1
        delay = self.backoff.delay(failures)
        self._retrying[tp] = _Retry(failures, error, previous.since if previous else now, now + delay)
        consumer.pause(tp)
        consumer.seek(tp, record.offset)
        TRANSIENT_FAILURES.labels(self.group_id, record.topic, error).inc()
        PARTITIONS_RETRYING.labels(self.group_id).set(len(self._retrying))
        log.warning("event at %s[%d]@%d failed transiently (%s, %d in a row); retrying in %.1f s",
                    record.topic, record.partition, record.offset, error, failures, delay)

    async def process(self, record: ConsumerRecord) -> str | None:
        """Handle one record at most once. Returns None when it is done with (handled, a duplicate, or
        dead-lettered), else the class name of the transient failure that must be retried later."""
        try:
            event: Event = json.loads(record.value)
            event_id = str(event["id"])
        except (ValueError, KeyError, TypeError) as exc:
            return await self._dead_letter(record, exc)
        topic = event_topic(record.topic, self.topic_prefix)
        attempt = 0
        while True:
            attempt += 1
            try:
                with telemetry.event_span(topic, record, event, consumer=self.group_id,
                                          partition=record.partition, offset=record.offset, event_id=event_id):
                    outcome = await self._handle_once(topic, event_id, event)
                EVENTS_CONSUMED.labels(self.group_id, topic, outcome).inc()
                return None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                kind = classify(exc)
                if kind is Failure.TRANSIENT:
                    return type(exc).__name__
                if kind is Failure.CONTENT or attempt >= self.attempts:
                    return await self._dead_letter(record, exc)
                log.warning("event %s on %s failed (%s, attempt %d of %d)", event_id, record.topic,
                            type(exc).__name__, attempt, self.attempts)
                await asyncio.sleep(self.backoff.delay(attempt))

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

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException) -> str | None:
        """Send the record to `<topic>.dlq`; a failure to do so is transient (the record is retried later)."""
        error = type(exc).__name__
        headers = [("error", error.encode()), ("consumer", self.group_id.encode()),
                   ("topic", record.topic.encode()), ("partition", str(record.partition).encode()),
                   ("offset", str(record.offset).encode())]
        try:
            await self.dlq_producer.send_and_wait(f"{record.topic}.dlq", record.value, key=record.key,
                                                  headers=headers)
        except Exception as send_exc:
            if classify(send_exc) is Failure.TRANSIENT:
                return type(send_exc).__name__
            raise
        EVENTS_CONSUMED.labels(self.group_id, record.topic, "dead_letter").inc()
        DEAD_LETTERED.labels(self.group_id, record.topic, error).inc()
        log.error("event at %s[%d]@%d dead-lettered: %s", record.topic, record.partition, record.offset, error)
        return None
