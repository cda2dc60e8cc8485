"""Benchmark: how fast the kit's outbox relay publishes a backlog (issue 14 items 4–5, issue 16's monthly run).

A throw-away database `relay_bench` on the local PostgreSQL with the kit's outbox (parking columns included) gets N
rows shaped like welfare's `benefit-due` events, staged by one COPY (`copy_events`, as a monthly run stages them,
all with one trace context); then `OutboxRelay` publishes them to a bench topic of 3 partitions on the local broker
with the kit's producer (`build_producer`) until none is left. Prints events per second with the load average (and a
`BENCH_JSON` line for `make bench`, target 2,000/s: the consumers' rate);
the database is dropped after (the topic stays, its retention deletes the events).

    python bench/outbox_relay.py --events 20000
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid

import asyncpg
from sqlalchemy import text
from sqlmodel import SQLModel

from fupin_kit.db import Database
from fupin_kit.events.models import OutboxEvent
from fupin_kit.events.outbox import copy_events
from fupin_kit.events.relay import OutboxRelay, build_producer
from fupin_kit.testing import ensure_topics, recreate_database

PG = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{os.environ.get('FUPIN_PG_PORT', '15432')}"
                    "/postgres")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
TOPIC = "bench-relay"
DATABASE = "relay_bench"


# the consumers' target (issue 14 item 5): a relay slower than its consumers would be the event path's bottleneck
TARGET = 2000.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    return parser.parse_args()


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


async def main() -> int:
    args = parse_args()
    await ensure_topics(KAFKA, [TOPIC], partitions=3)
    await recreate_database(PG, DATABASE)
    url = PG.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{DATABASE}"
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all, tables=[OutboxEvent.__table__])  # type: ignore[attr-defined]
            await conn.execute(text("ALTER TABLE outbox ADD COLUMN parked_at timestamptz, "
                                    "ADD COLUMN last_error varchar"))
        raw = await asyncpg.connect(PG.rsplit("/", 1)[0] + f"/{DATABASE}")
        try:
            async with raw.transaction():
                await copy_events(raw, [(TOPIC, str(uuid.uuid4()), {
                    "benefit_id": str(uuid.uuid4()), "case_id": str(uuid.uuid4()), "household_id": str(uuid.uuid4()),
                    "program": "minimum_living", "county_code": "530102", "village_code": "530102100001",
                    "period": "2026-11", "amount": "812.34", "kind": "monthly"}) for _ in range(args.events)],
                    source="bench")
        finally:
            await raw.close()
        producer = build_producer(KAFKA)
        await producer.start()
        try:
            relay = OutboxRelay(db, producer, component="bench")
            print(f"{args.events} rows staged; load {load()}")
            load_before = os.getloadavg()[0]
            started, sent = time.perf_counter(), 0
            while n := await relay.publish_batch():
                sent += n
            elapsed = time.perf_counter() - started
        finally:
            await producer.stop()
        print(f"relay published {sent} events in {elapsed:.2f}s: {sent / elapsed:.0f} events/s "
              f"(batch {relay.batch_size}); load {load()}")
        rate = sent / elapsed if elapsed else 0.0
        print("BENCH_JSON " + json.dumps({
            "figure": "outbox relay publishes a backlog", "value": round(rate, 1), "unit": "/s", "target": TARGET,
            "met": rate >= TARGET and sent == args.events, "events": sent, "seconds": round(elapsed, 2),
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)]}))
        return 0 if sent == args.events else 1
    finally:
        await db.dispose()
        conn = await asyncpg.connect(PG)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        finally:
            await conn.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
