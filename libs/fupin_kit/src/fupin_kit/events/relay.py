"""Outbox relay: publish unsent rows in id order with an idempotent producer, then mark them sent.

- One active relay per service database: each batch runs in a transaction holding a transaction-level advisory
  lock, so with several replicas the batches never overlap and rows of one key are published in id order. A replica
  that does not get the lock stays on standby and tries again at its next wake-up.
- A crash between publish and mark publishes the rows again with the same event ids; consumers' inboxes drop the
  second copy.
- LISTEN/NOTIFY wakes it at commit; the listening connection is re-opened after a database restart (and the relay
  polls meanwhile).
- A row that can never be published (too large for the broker, an invalid topic, unserialisable) is parked with the
  error class (`parked_at`, `last_error`, see `fupin_kit.migrations.add_outbox_parking`) instead of blocking the
  outbox; every other failure (broker down, timeouts) leaves the rows unsent and is retried with back-off.
- Throughput: a batch (2,000 rows) is read in one query as stored JSON text, sent without waiting for each
  acknowledgement (the producer packs up to 512 KiB per partition into a request), marked sent with one UPDATE.
  The rows are read on the driver's connection; each key's partition is computed here as the default partitioner
  does (a faster murmur2), and a partition's rows are appended to record batches handed to the producer whole, one
  future per batch: 20 µs of Python per event against 71 (bench/outbox_relay.py, 20,000 events).
  The sends are bounded (`send_timeout`): a stuck producer cannot hold the relay lock of its database for long.
"""

import asyncio
import contextlib
import logging
import os
import signal
import struct
import time
from collections import Counter as Counter_
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from prometheus_client import Counter, Gauge
from sqlalchemy import text

from fupin_kit import telemetry
from fupin_kit.db import Database, asyncpg_dsn, session_driver
from fupin_kit.events.consumer import BURST_RECORDS, Backoff
from fupin_kit.events.outbox import NOTIFY_CHANNEL
from fupin_kit.events.topics import kafka_topic
from fupin_kit.events.topics import topic_prefix as _prefix
from fupin_kit.kafka_security import kafka_client_options
from fupin_kit.memory import release_memory
from fupin_kit.observability import EVENTS_PUBLISHED

log = logging.getLogger("fupin.relay")

# pg_advisory_xact_lock key of "the outbox relay of this database" (advisory locks are per database)
RELAY_LOCK = 0x46555049  # "FUPI"
PARKED = Counter("fupin_outbox_parked_total", "Outbox rows that can never be published, parked", ["component", "error"])
RELAY_FAILURES = Counter("fupin_outbox_relay_failures_total", "Failed relay batches (retried)", ["component", "error"])
UNSENT = Gauge("fupin_outbox_unsent", "Unsent outbox rows seen by the last batch (capped at the batch size)",
               ["component"])

_KAFKA_NEVER = ("MessageSizeTooLargeError", "RecordTooLargeError", "RecordListTooLargeError", "InvalidTopicError",
                "TopicAuthorizationFailedError", "CorruptRecordException")
_NEVER_PUBLISHABLE: tuple[type[BaseException], ...] = (
    *(getattr(kafka_errors, name) for name in _KAFKA_NEVER if hasattr(kafka_errors, name)),
    TypeError, ValueError, UnicodeError)


# Bytes per partition in one produce request: a relay batch goes out in a few requests rather than one per 16 KB
# (aiokafka's default). Below the broker's message.max.bytes (1 MiB), which refuses a larger record batch whole.
MAX_BATCH_BYTES = 512 * 1024


_WORDS: dict[int, Any] = {}  # little-endian 32-bit words of a key, one unpacker per word count


def murmur2(data: bytes, m: int = 0x5BD1E995, mask: int = 0xFFFFFFFF) -> int:
    """Kafka's murmur2 of a record key, as the Java client and aiokafka's `DefaultPartitioner` compute it (same
    values, tests/test_relay_partition.py), about 3 times faster than aiokafka's pure-Python loop: it was a quarter
    of the relay's CPU (29 against 8 µs for a 36-byte key)."""
    n = len(data)
    h = 0x9747B28C ^ n
    if words := n >> 2:
        unpack = _WORDS.get(words)
        if unpack is None:
            unpack = _WORDS[words] = struct.Struct(f"<{words}I").unpack_from
        for k in unpack(data):
            k = k * m & mask
            h = h * m & mask ^ (k ^ k >> 24) * m & mask
    if extra := n & 3:
        base = n - extra
        if extra == 3:
            h ^= data[base + 2] << 16
        if extra >= 2:
            h ^= data[base + 1] << 8
        h = (h ^ data[base]) * m & mask
    h ^= h >> 13
    h = h * m & mask
    return h ^ h >> 15


class SendTimeout(Exception):
    """The producer did not acknowledge a batch in time: the batch is rolled back and retried later."""


def build_producer(bootstrap_servers: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, enable_idempotence=True, acks="all",
        linger_ms=5, max_batch_size=MAX_BATCH_BYTES, request_timeout_ms=15000, **kafka_client_options())


def _injected_fault(component: str) -> None:
    """Fault suite only (tests/faults): with `FUPIN_FAULT_DIR` set and `<dir>/<component>.kill-after-publish`
    present, the process kills itself (SIGKILL) once, after publishing a batch and before marking it sent."""
    folder = os.environ.get("FUPIN_FAULT_DIR")
    if not folder:
        return
    marker = Path(folder) / f"{component}.kill-after-publish"
    if marker.exists():
        marker.unlink(missing_ok=True)
        log.warning("fault injection: killed between publish and mark")
        os.kill(os.getpid(), signal.SIGKILL)


def _end_spans(spans: dict[Any, Any], failure: BaseException | None = None) -> None:
    for span in spans.values():
        if failure is not None:
            telemetry.fail(span, failure)
        span.end()
    spans.clear()


class OutboxRelay:
    """Publishes the service's outbox. A broker outage delays events; none is lost, since rows stay unsent."""

    def __init__(self, db: Database, producer: AIOKafkaProducer, *, component: str, batch_size: int = 2000,
                 poll_interval: float = 1.0, backoff: Backoff | None = None, topic_prefix: str | None = None,
                 send_timeout: float = 20.0) -> None:
        self.db = db
        self.producer = producer
        self.component = component
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff(initial=0.5, cap=5.0)
        # the longest a batch's sends may take while the relay holds its transaction and the database's relay lock
        # (well below the session's idle-in-transaction limit, 60 s by default)
        self.send_timeout = send_timeout
        self.topic_prefix = _prefix() if topic_prefix is None else topic_prefix  # Kafka topic = prefix + row.topic
        self.last_error: str | None = None
        self.active = False  # holds the relay lock (the others are on standby)
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._listen_retry_at = 0.0
        self._parking: bool | None = None

    def health(self) -> dict[str, Any]:
        return {"active": self.active, "error": self.last_error, "listening": self._listening()}

    @property
    def healthy(self) -> bool:
        return self.last_error is None

    async def run(self) -> None:
        failures, since_release = 0, 0
        try:
            while True:
                await self._ensure_listener()
                try:
                    sent = await self.publish_batch()
                    failures, self.last_error = 0, None
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failures += 1
                    self.last_error = type(exc).__name__
                    RELAY_FAILURES.labels(self.component, self.last_error).inc()
                    log.warning("outbox relay: batch failed (%s, %d in a row); retrying", self.last_error, failures)
                    await asyncio.sleep(self.backoff.delay(failures))
                    continue
                since_release += sent
                if sent < self.batch_size:
                    if since_release >= BURST_RECORDS:  # a backlog is out: the allocator's free pages go back
                        release_memory()
                        since_release = 0
                    await self._wait()
        finally:
            if self._listener is not None:
                # terminate, not close: a graceful close waits for the server and can hang a shutdown forever
                self._listener.terminate()

    async def publish_batch(self) -> int:
        """Publish one batch of unsent events in id order; returns how many were sent (or parked).

        The rows are read as the JSON text the database holds (no decode and encode again), handed to the producer
        one after the other without waiting for each acknowledgement (it packs them into one request per broker),
        awaited together, and marked sent with one UPDATE. The whole send is bounded by `send_timeout`, well below
        the session's idle-in-transaction limit: a stuck producer rolls the batch back (the advisory lock goes with
        it, so another replica's relay can take over) and the batch is retried later; rows it had sent meanwhile are
        sent again, which the consumers' inboxes absorb."""
        parking = await self._parking_supported()
        unsent = "sent_at IS NULL" + (" AND parked_at IS NULL" if parking else "")
        async with self.db.session() as session:
            if not (await session.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(  # type: ignore[call-overload]
                    k=RELAY_LOCK))).scalar():
                self.active = False
                return 0
            self.active = True
            # read on the driver's connection (in the session's transaction): its records cost less than the ORM's rows
            rows = await (await session_driver(session)).fetch(
                "SELECT id, topic, key, payload::text AS body, payload->>'traceparent' AS traceparent, "
                f"payload->>'id' AS event_id FROM outbox WHERE {unsent} ORDER BY id LIMIT $1", self.batch_size)
            UNSENT.labels(self.component).set(len(rows))
            if not rows:
                return 0
            try:
                async with asyncio.timeout(self.send_timeout):
                    sent, parked = await self._publish(rows, parking)
            except TimeoutError:
                raise SendTimeout(f"{len(rows)} events not acknowledged within {self.send_timeout:.0f}s") from None
            _injected_fault(self.component)
            if sent:
                await session.exec(text("UPDATE outbox SET sent_at = now() WHERE id = ANY(:ids)")  # type: ignore[call-overload]
                                   .bindparams(ids=sent))
            if parked:
                await session.exec(text(  # type: ignore[call-overload]
                    "UPDATE outbox SET parked_at = now(), last_error = p.e "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:errors AS text[])) AS p(i, e) WHERE outbox.id = p.i"
                ).bindparams(ids=[i for i, _ in parked], errors=[e for _, e in parked]))
            await session.commit()
        by_id = {r["id"]: r["topic"] for r in rows}
        for topic, count in Counter_(by_id[row_id] for row_id in sent).items():
            EVENTS_PUBLISHED.labels(self.component, topic).inc(count)
        for row_id, error in parked:
            PARKED.labels(self.component, error).inc()
            log.error("outbox row %d (%s) can never be published (%s): parked", row_id, by_id[row_id], error)
        return len(sent) + len(parked)

    async def _publish(self, rows: list[Any], parking: bool) -> tuple[list[int], list[tuple[int, str]]]:
        """Send every row; returns (ids published, (id, error) to park). A retriable failure raises after the
        rows before it are known to be sent, so the caller marks nothing and the batch is sent again.

        One publish span per topic and trace context in the batch (a monthly run's 100,000 events share one
        context: one span for their batch, not 100,000), a child of the context saved with the rows."""
        # (row ids, the future of their send): one per record batch of a partition, or one per row
        pending: list[tuple[list[int], asyncio.Future[Any]]] = []
        parked: list[tuple[int, str]] = []
        spans: dict[tuple[str, str], Any] = {}
        span_of: dict[int, Any] = {}
        headers: dict[tuple[str, str], list[tuple[str, bytes]] | None] = {}
        traced = telemetry.enabled()
        # With the producer's default partitioner, each key's partition is computed here as it does (murmur2 of the
        # key, modulo the topic's partitions in id order; a faster murmur2, the partitions read once per batch) and
        # the rows of a partition are appended, in id order, to record batches handed over whole (`send_batch`): a
        # future per batch, not per row. A row too large is refused before it joins one, as `send` refuses it.
        keyed = isinstance(getattr(self.producer, "_partitioner", None), DefaultPartitioner)
        max_size = getattr(self.producer, "_max_request_size", 1048576)
        partitions: dict[str, list[int]] = {}
        open_batches: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        try:
            for row in rows:
                # the trace context saved by `enqueue` travels on as the `traceparent` header, from a publish span
                group = (row["topic"], row["traceparent"])
                if group not in headers:
                    span = None
                    if traced and row["traceparent"]:
                        span = telemetry.start_publish_span(row["topic"], row["traceparent"], event_id=row["event_id"])
                        if span is not None:
                            spans[group] = span
                    headers[group] = telemetry.kafka_headers(span, row["traceparent"])
                span_of[row["id"]] = spans.get(group)
                try:
                    topic = kafka_topic(row["topic"], self.topic_prefix)
                    key, value = row["key"].encode(), row["body"].encode()
                    if not keyed:
                        pending.append(([row["id"]], await self.producer.send(
                            topic, value, key=key, headers=headers[group])))
                        continue
                    if (of_topic := partitions.get(topic)) is None:
                        of_topic = partitions[topic] = sorted(await self.producer.partitions_for(topic))
                    partition = of_topic[(murmur2(key) & 0x7FFFFFFF) % len(of_topic)]
                    record_headers = headers[group] or []
                    if DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, record_headers) > max_size:
                        raise kafka_errors.MessageSizeTooLargeError(f"outbox row {row['id']} is larger than "
                                                                    f"the maximum request size ({max_size} bytes)")
                    batch = open_batches.get((topic, partition))
                    if batch is None or batch[0].append(
                            timestamp=None, key=key, value=value, headers=record_headers) is None:
                        if batch is not None:  # full: it goes, and a new one takes the row
                            pending.append((batch[1], await self.producer.send_batch(
                                batch[0], topic, partition=partition)))
                        batch = open_batches[(topic, partition)] = (self.producer.create_batch(), [])
                        batch[0].append(timestamp=None, key=key, value=value, headers=record_headers)
                    batch[1].append(row["id"])
                except _NEVER_PUBLISHABLE as exc:
                    if not parking:
                        raise
                    parked.append((row["id"], type(exc).__name__))
                    telemetry.fail(span_of[row["id"]], exc)
            for (topic, partition), (builder, ids) in open_batches.items():
                pending.append((ids, await self.producer.send_batch(builder, topic, partition=partition)))
            results = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
        except BaseException as exc:
            _end_spans(spans, exc)
            raise
        for (row_ids, _), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                for row_id in row_ids:
                    telemetry.fail(span_of[row_id], result)
        _end_spans(spans)
        sent: list[int] = []
        for (row_ids, _), result in zip(pending, results, strict=True):
            if isinstance(result, _NEVER_PUBLISHABLE) and parking:
                parked.extend((row_id, type(result).__name__) for row_id in row_ids)
            elif isinstance(result, BaseException):
                raise result
            else:
                sent.extend(row_ids)
        return sent, parked

    async def _parking_supported(self) -> bool:
        """True when the outbox has `parked_at`/`last_error` (a service migrated with `add_outbox_parking`)."""
        if self._parking is None:
            async with self.db.session() as session:
                found = (await session.exec(text(  # type: ignore[call-overload]
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'outbox' "
                    "AND table_schema = current_schema() AND column_name IN ('parked_at', 'last_error')"))).scalar()
            self._parking = found == 2
            if not self._parking:
                log.warning("outbox has no parked_at/last_error columns: unpublishable rows block the relay "
                            "(add a migration calling fupin_kit.migrations.add_outbox_parking)")
        return self._parking

    async def _wait(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives as the awaited
        # event is set (a NOTIFY of the last commit just as the app shuts down), and the relay of a stopped app ran on
        # with a stopped producer, holding the relay lock through 40 s metadata waits, so no other relay published.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.poll_interval):
                await self._wake.wait()
        self._wake.clear()

    def _listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def _ensure_listener(self) -> None:
        """LISTEN on a connection of its own; after a database restart it is opened again (meanwhile: polling)."""
        if self._listening() or time.monotonic() < self._listen_retry_at:
            return
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.terminate()
            self._listener = None
        try:
            conn = await asyncpg.connect(asyncpg_dsn(self.db.url), timeout=5)
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            conn.add_termination_listener(lambda *_: self._wake.set())
            self._listener = conn
            self._wake.set()  # events may have been committed while nobody listened
        except Exception as exc:
            self._listen_retry_at = time.monotonic() + 5
            log.warning("LISTEN unavailable (%s); the relay polls every %.1fs", type(exc).__name__,
                        self.poll_interval)
