"""The service's Kafka side: one producer (outbox relay and dead letters) and its consumers, started lazily so a
broker outage at start-up delays events instead of stopping the service."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer

from fupin_kit.db import Database
from fupin_kit.events.consumer import EventConsumer, Handler
from fupin_kit.events.relay import OutboxRelay, build_producer

log = logging.getLogger("fupin.kafka")


class KafkaRuntime:
    def __init__(self, db: Database, *, component: str, bootstrap_servers: str,
                 handlers: Mapping[str, Handler] | None = None, group_id: str | None = None,
                 topic_prefix: str = "") -> None:
        self.db = db
        self.component = component
        self.bootstrap_servers = bootstrap_servers
        self.handlers = dict(handlers or {})
        self.group_id = group_id or component
        self.topic_prefix = topic_prefix  # the Kafka topics' namespace (fupin_kit.events.topics)
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._broker: tuple[float, bool] = (0.0, False)  # (checked at, reachable): readiness asks often

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._run(), name=f"{self.component}-kafka"))

    async def _run(self) -> None:
        self.producer = await self._connect()
        self.relay = OutboxRelay(self.db, self.producer, component=self.component, topic_prefix=self.topic_prefix)
        jobs = [self.relay.run()]
        if self.handlers:
            self.consumer = EventConsumer(self.db, bootstrap_servers=self.bootstrap_servers, group_id=self.group_id,
                                          handlers=self.handlers, dlq_producer=self.producer,
                                          topic_prefix=self.topic_prefix)
            jobs.append(self.consumer.run())
        await asyncio.gather(*jobs)

    async def _connect(self) -> AIOKafkaProducer:
        while True:
            producer = build_producer(self.bootstrap_servers)
            try:
                await producer.start()
                return producer
            except Exception as exc:
                log.warning("Kafka not reachable at %s (%s); retrying", self.bootstrap_servers, exc)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(2)

    async def ready(self) -> bool:
        """The broker answers a metadata request (cached for a second, bounded to a second)."""
        checked_at, reachable = self._broker
        if time.monotonic() - checked_at < 1.0:
            return reachable
        reachable = False
        if self.producer is not None:
            try:
                await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 1.0)
                reachable = True
            except Exception:
                reachable = False
        self._broker = (time.monotonic(), reachable)
        return reachable

    async def checks(self) -> dict[str, Any]:
        """Readiness `checks` reported, not required (contract §0): the broker, the outbox relay and, when the
        service consumes, whether any partition is held back by a transient failure."""
        found: dict[str, Any] = {"kafka": await self.ready()}
        found["relay"] = self.relay is not None and self.relay.healthy
        if self.handlers:
            found["consumer"] = self.consumer is not None and self.consumer.healthy
            if self.consumer is not None and (retrying := self.consumer.health()["retrying"]):
                found["consumer_retrying"] = retrying
        if self.relay is not None and self.relay.last_error:
            found["relay_error"] = self.relay.last_error
        return found

    async def stop(self, timeout: float = 10.0) -> None:
        """Cancel the relay and the consumers and close the producer, each wait bounded: a shutdown never hangs."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=timeout)
            for task in stuck:
                log.warning("Kafka task %s did not stop within %.0f s; abandoned", task.get_name(), timeout)
        if self.producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.producer.stop(), timeout)
