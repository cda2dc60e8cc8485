"""The operational gauges on /metrics: outbox backlog and age, consumer lag per partition, DLQ depth, pool use."""

import uuid

from conftest import Widget
from prometheus_client import REGISTRY

from fupin_kit.db import Database
from fupin_kit.events.outbox import enqueue
from fupin_kit.platform_metrics import METRIC_NAMES, PlatformMetrics
from fupin_kit.testing import PrefixedProducer

TOPIC = "kit-test-consumed"


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_gauges_show_the_backlog_the_lag_the_dead_letters_and_the_pool(db: Database, kafka: str) -> None:
    component = f"metrics-{uuid.uuid4().hex[:8]}"
    group = f"group-{uuid.uuid4().hex[:8]}"  # commits nothing: every record kept is lag
    async with db.session() as session:
        session.add(Widget(name="waiting"))
        await enqueue(session, source="kit", topic="kit-test-events", subject=uuid.uuid4().hex, data={"n": 1})
        await session.commit()
    producer = PrefixedProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, b"{}", key=b"k")
        await producer.send_and_wait(f"{TOPIC}.dlq", b"{}", key=b"k")
    finally:
        await producer.stop()

    gauges = PlatformMetrics(component, db, bootstrap_servers=kafka, group_id=group, topics=[TOPIC], min_interval=0)
    try:
        await gauges.refresh()
    finally:
        await gauges.close()
    assert (value("fupin_outbox_backlog", component=component) or 0) >= 1
    assert (value("fupin_outbox_oldest_unsent_age_seconds", component=component) or 0) >= 0
    lag = value("fupin_consumer_lag", component=component, consumergroup=group, topic=TOPIC, partition="0")
    assert lag is not None and lag >= 1
    assert (value("fupin_dlq_depth", component=component, topic=f"{TOPIC}.dlq") or 0) >= 1
    assert value("fupin_db_pool_max", component=component) == db.max_connections
    assert value("fupin_db_pool_in_use", component=component) is not None
    assert value("fupin_platform_metrics_errors_total", component=component, source="kafka",
                 error="KafkaConnectionError") is None
    assert {m for m in METRIC_NAMES} <= {m.name for m in REGISTRY.collect()}


async def test_an_unreachable_broker_leaves_metrics_answering(db: Database) -> None:
    component = f"metrics-{uuid.uuid4().hex[:8]}"
    gauges = PlatformMetrics(component, db, bootstrap_servers="127.0.0.1:1", topics=[TOPIC], min_interval=0,
                             timeout=1.0)
    await gauges.refresh()
    await gauges.close()
    assert value("fupin_db_pool_size", component=component) == db.pool_size
    errors = [s for m in REGISTRY.collect() if m.name == "fupin_platform_metrics_errors"
              for s in m.samples if s.labels.get("component") == component and s.name.endswith("_total")]
    assert errors and errors[0].labels["source"] == "kafka"
