"""Operational gauges read when /metrics is scraped: outbox backlog and age, consumer lag per partition, DLQ depth,
database pool use. deploy/k8s's alert rules (deploy/k8s/generate.py) name these metrics.

Each scrape refreshes them at most every `min_interval` seconds and waits at most `timeout` seconds: a slow
database or an unreachable broker leaves the last values (and `fupin_platform_metrics_errors_total` counts it);
/metrics itself always answers.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import text

from fupin_kit.db import Database
from fupin_kit.events.topics import event_topic, kafka_topic
from fupin_kit.events.topics import topic_prefix as topic_prefix_of_process
from fupin_kit.kafka_security import kafka_client_options

log = logging.getLogger("fupin.metrics")

OUTBOX_BACKLOG = Gauge("fupin_outbox_backlog", "Outbox rows not yet published (parked rows excluded)", ["component"])
OUTBOX_OLDEST_AGE = Gauge("fupin_outbox_oldest_unsent_age_seconds",
                          "Age of the oldest outbox row not yet published (0 when none)", ["component"])
OUTBOX_PARKED = Gauge("fupin_outbox_parked_rows", "Outbox rows parked as never publishable (now)", ["component"])
CONSUMER_LAG = Gauge("fupin_consumer_lag", "Records of a partition after the consumer group's committed offset",
                     ["component", "consumergroup", "topic", "partition"])
DLQ_DEPTH = Gauge("fupin_dlq_depth", "Records held in a dead-letter topic (<topic>.dlq) this component feeds",
                  ["component", "topic"])
DB_POOL_IN_USE = Gauge("fupin_db_pool_in_use", "Database connections checked out of the pool", ["component"])
DB_POOL_SIZE = Gauge("fupin_db_pool_size", "Connections the pool keeps (pool_size)", ["component"])
DB_POOL_MAX = Gauge("fupin_db_pool_max", "Connections the pool may open (pool_size + max_overflow)", ["component"])
ERRORS = Counter("fupin_platform_metrics_errors_total", "Failed refreshes of the platform gauges",
                 ["component", "source", "error"])

METRIC_NAMES = ("fupin_outbox_backlog", "fupin_outbox_oldest_unsent_age_seconds", "fupin_consumer_lag",
                "fupin_dlq_depth", "fupin_db_pool_in_use", "fupin_db_pool_max")

OUTBOX_SQL = ("SELECT count(*) FILTER (WHERE {unsent}) AS backlog, "
              "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE {unsent})), 0) AS oldest, "
              "{parked} AS parked FROM outbox WHERE sent_at IS NULL")


class PlatformMetrics:
    """The gauges of one component: `outbox` when it has one, Kafka lag and DLQ depth for the topics it consumes."""

    def __init__(self, component: str, db: Database | None, *, outbox: bool = True,
                 bootstrap_servers: str | None = None, group_id: str | None = None, topics: Sequence[str] = (),
                 min_interval: float = 5.0, timeout: float = 3.0, topic_prefix: str | None = None) -> None:
        self.component = component
        self.db = db
        self.outbox = outbox and db is not None
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id or component
        self.topics = sorted(topics)
        self.topic_prefix = topic_prefix_of_process() if topic_prefix is None else topic_prefix
        self.min_interval = min_interval
        self.timeout = timeout
        self._refreshed = 0.0
        self._lock = asyncio.Lock()
        self._parking: bool | None = None
        self._admin: Any = None
        self._offsets: Any = None  # a consumer without a group: partitions and log end/start offsets

    async def refresh(self) -> None:
        if time.monotonic() - self._refreshed < self.min_interval or self._lock.locked():
            return
        async with self._lock:
            self._refreshed = time.monotonic()
            self._pool()
            jobs = []
            if self.outbox:
                jobs.append(self._guarded("outbox", self._outbox()))
            if self.bootstrap_servers and self.topics:
                jobs.append(self._guarded("kafka", self._kafka()))
            if jobs:
                await asyncio.gather(*jobs)

    async def _guarded(self, source: str, job: Any) -> None:
        try:
            await asyncio.wait_for(job, self.timeout)
        except Exception as exc:
            ERRORS.labels(self.component, source, type(exc).__name__).inc()
            log.debug("platform metrics: %s failed (%s)", source, type(exc).__name__)
            if source == "kafka":
                await self._close_kafka()  # connect again at the next scrape

    def _pool(self) -> None:
        if self.db is None:
            return
        pool: Any = self.db.engine.pool
        with contextlib.suppress(AttributeError):
            DB_POOL_IN_USE.labels(self.component).set(pool.checkedout())
        DB_POOL_SIZE.labels(self.component).set(self.db.pool_size)
        DB_POOL_MAX.labels(self.component).set(self.db.max_connections)

    async def _outbox(self) -> None:
        assert self.db is not None
        async with self.db.engine.connect() as conn:
            if self._parking is None:
                found = (await conn.execute(text(
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'outbox' "
                    "AND table_schema = current_schema() AND column_name = 'parked_at'"))).scalar()
                self._parking = bool(found)
            unsent = "parked_at IS NULL" if self._parking else "true"
            parked = "count(*) FILTER (WHERE parked_at IS NOT NULL)" if self._parking else "0"
            row = (await conn.execute(text(OUTBOX_SQL.format(unsent=unsent, parked=parked)))).one()
        OUTBOX_BACKLOG.labels(self.component).set(row.backlog)
        OUTBOX_OLDEST_AGE.labels(self.component).set(float(row.oldest or 0))
        OUTBOX_PARKED.labels(self.component).set(row.parked)

    async def _kafka(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.admin import AIOKafkaAdminClient

        if self._offsets is None:
            options = kafka_client_options()
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, **options)
            offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, group_id=None,
                                       enable_auto_commit=False, **options)
            await admin.start()
            try:
                await offsets.start()
            except BaseException:
                await admin.close()
                raise
            self._admin, self._offsets = admin, offsets
        cluster = await self._offsets._client.fetch_all_metadata()  # fresh: the partitions of each topic
        partitions: list[Any] = []
        dead_letters: list[Any] = []
        for name in self.topics:  # Kafka's names (with the prefix); the gauges are labelled with the event topics
            topic = kafka_topic(name, self.topic_prefix)
            partitions += [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]
            dead_letters += [TopicPartition(f"{topic}.dlq", p)
                             for p in sorted(cluster.partitions_for_topic(f"{topic}.dlq") or ())]
        committed = await self._admin.list_consumer_group_offsets(self.group_id, partitions=partitions)
        ends = await self._offsets.end_offsets(partitions + dead_letters)
        starts = await self._offsets.beginning_offsets(partitions + dead_letters)
        for tp in partitions:
            done = committed.get(tp)  # none yet: the group starts at the earliest record kept
            position = done.offset if done is not None and done.offset >= 0 else starts[tp]
            CONSUMER_LAG.labels(self.component, self.group_id, event_topic(tp.topic, self.topic_prefix),
                                str(tp.partition)).set(
                max(0, ends[tp] - position))
        depth: dict[str, int] = {}
        for tp in dead_letters:
            dlq = event_topic(tp.topic, self.topic_prefix)
            depth[dlq] = depth.get(dlq, 0) + max(0, ends[tp] - starts[tp])
        for topic, held in depth.items():
            DLQ_DEPTH.labels(self.component, topic).set(held)

    async def _close_kafka(self) -> None:
        admin, offsets, self._admin, self._offsets = self._admin, self._offsets, None, None
        for client, stop in ((admin, "close"), (offsets, "stop")):
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(getattr(client, stop)(), 5)

    async def close(self) -> None:
        await self._close_kafka()
