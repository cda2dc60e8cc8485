"""Benchmark: one consumer applying household snapshots, alone (issue 14 target 5: >= 2,000 events/s per consumer).

For each service, its own household handler (the kit's `HouseholdReadModel` batch handler with the service's tables
and hooks: education's grant catch-up, assistance's history, the dashboard's tallies) runs in the kit's
`EventConsumer` against a scratch database migrated with the service's Alembic (`bench_<service>` on the stack's
PostgreSQL) and a bench topic on the stack's Kafka (3 partitions, like the household topics). N registry snapshots
(built from the event contract by `fupin_kit.testing.household_event`) are published first; the figure is the events
applied per second from the first household seen in the read model to the last, so the group's join is not counted.
The stack's own services are not touched (their databases and topics are not used).

    .venv/bin/python bench/household_apply.py --events 20000
    .venv/bin/python bench/household_apply.py --service microcredit --service education

Prints one line per service and one `BENCH_JSON {...}` line each, with the load average before and after, the
consumer's own CPU time per event and its database backends' (from /proc, PostgreSQL running on this machine): on a
busy machine the wall-clock rate measures the machine, the CPU time per event what the consumer costs, and their sum
what six consumers at once ask of the machine's cores.
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from fupin_kit.db import Database
from fupin_kit.events.consumer import EventConsumer
from fupin_kit.testing import ensure_topics, household_event, migrate, recreate_database, skip_history

ROOT = Path(__file__).resolve().parent.parent
TOPIC = "bench-household-snapshots"
TARGET = 2000.0
# service: (module holding READ_MODEL, the query counting the households of the bench county)
SERVICES = {
    "microcredit": ("microcredit.events.handlers", "SELECT count(*) FROM households WHERE county_code = $1"),
    "education": ("education.events.handlers", "SELECT count(*) FROM household WHERE county_code = $1"),
    "medical": ("medical.events.handlers", "SELECT count(*) FROM households WHERE county_code = $1"),
    "assistance": ("assistance.events.handlers", "SELECT count(*) FROM households WHERE county_code = $1"),
    "welfare": ("welfare.events.handlers", "SELECT count(*) FROM households WHERE county_code = $1"),
    "dashboard": ("dashboard.events.handlers", "SELECT count(*) FROM household WHERE village_code LIKE $1 || '%'"),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000, help="household-registered snapshots")
    parser.add_argument("--members", type=int, default=3, help="members per household")
    parser.add_argument("--service", action="append", default=[], help="a service (repeatable; default: all)")
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--pg", default=f"postgresql://postgres@127.0.0.1:{os.environ.get('FUPIN_PG_PORT', '15432')}")
    parser.add_argument("--timeout", type=float, default=300.0)
    return parser.parse_args()


def backend_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes (PostgreSQL backends), 0 for one that is gone or not ours to
    read."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def build(county: str, count: int, members: int) -> list[tuple[bytes, bytes]]:
    out = []
    for _ in range(count):
        household = uuid.uuid4()
        village = f"{county}{random.randint(100, 199)}{random.randint(1, 999):03d}"
        people = [{"member_id": str(uuid.uuid4()), "person_ref": uuid.uuid4().hex + uuid.uuid4().hex[:8],
                   "birth_date": dt.date(1950 + random.randint(0, 60), random.randint(1, 12),
                                         random.randint(1, 28)).isoformat(),
                   "relation": "head" if i == 0 else "child", "labor": "full"} for i in range(members)]
        event = household_event(household, "registered", people, village_code=village, sequence=1)
        out.append((str(household).encode(), json.dumps(event).encode()))
    return out


async def measure(args: argparse.Namespace, service: str, county: str, group: str) -> dict[str, object]:
    module, query = SERVICES[service]
    name = f"bench_{service}"
    await recreate_database(f"{args.pg}/postgres", name)
    url = f"{args.pg.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    await asyncio.to_thread(migrate, ROOT / "services" / service / "alembic.ini", f"{service.upper()}_DATABASE_URL",
                            url)
    handler = importlib.import_module(module).READ_MODEL.handler()
    db = Database(url)
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka)  # for dead letters (none expected)
    await producer.start()
    consumer = EventConsumer(db, bootstrap_servers=args.kafka, group_id=group, handlers={TOPIC: handler},
                             dlq_producer=producer)
    watcher = await asyncpg.connect(f"{args.pg}/{name}")
    load_before = os.getloadavg()[0]
    task = asyncio.create_task(consumer.run())
    try:
        first: tuple[float, int] | None = None
        deadline = time.perf_counter() + args.timeout
        while time.perf_counter() < deadline:
            held = int(await watcher.fetchval(query, county))
            now = time.perf_counter()
            if first is None and held > 0:
                first, cpu_first = (now, held), time.process_time()
                backends = [int(r[0]) for r in await watcher.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)]
                db_first = backend_cpu(backends)
            if held >= args.events:
                break
            await asyncio.sleep(0.05)
        else:
            raise SystemExit(f"{service}: {held} of {args.events} households after {args.timeout:.0f}s")
        assert first is not None
        rate = (args.events - first[1]) / max(now - first[0], 1e-9)
        cpu = (time.process_time() - cpu_first) / max(args.events - first[1], 1)
        db_cpu = (backend_cpu(backends) - db_first) / max(args.events - first[1], 1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await watcher.close()
        await producer.stop()
        await db.dispose()
    return {"figure": f"{service} applies household events (alone)", "value": round(rate, 1), "unit": "/s",
            "target": TARGET, "met": rate >= TARGET, "events": args.events, "seconds": round(now - first[0], 2),
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            # the consumer's own CPU per event (robust against a busy machine: what one free core would do)
            "consumer_cpu_ms_per_event": round(cpu * 1000, 3), "events_per_consumer_cpu_second": round(1 / cpu),
            "database_cpu_ms_per_event": round(db_cpu * 1000, 3)}


def run_each(args: argparse.Namespace, services: list[str]) -> int:
    """One process per service: their tables share names (one SQLModel metadata per process)."""
    failed = 0
    for service in services:
        failed |= subprocess.run([sys.executable, __file__, "--service", service, "--events", str(args.events),
                                  "--members", str(args.members), "--kafka", args.kafka, "--pg", args.pg,
                                  "--timeout", str(args.timeout)]).returncode
    return 1 if failed else 0


async def main(args: argparse.Namespace, services: list[str]) -> int:
    county = str(random.randint(660000, 699999))
    await ensure_topics(args.kafka, [TOPIC], partitions=3)
    groups = {s: f"bench-{s}-{uuid.uuid4().hex[:8]}" for s in services}
    for group in groups.values():  # start at the burst about to be published
        await skip_history(args.kafka, group, [TOPIC])
    burst = build(county, args.events, args.members)
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka, acks="all", linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        sends = [await producer.send(TOPIC, value, key=key) for key, value in burst]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    print(f"published {args.events} snapshots ({args.members} members each) for county {county}; "
          f"load average {os.getloadavg()[0]:.2f}")
    for service in services:
        row = await measure(args, service, county, groups[service])
        print(f"{row['figure']}: {row['value']:.0f} /s over {row['seconds']}s (target >= {TARGET:.0f} /s, met: "
              f"{'yes' if row['met'] else 'no'}; load average {row['load_average'][0]} -> {row['load_average'][1]}; "
              f"consumer CPU {row['consumer_cpu_ms_per_event']} ms/event = "
              f"{row['events_per_consumer_cpu_second']} events per CPU second; its database backends' CPU "
              f"{row['database_cpu_ms_per_event']} ms/event)")
        print("BENCH_JSON " + json.dumps(row))
    return 0


if __name__ == "__main__":
    arguments = parse_args()
    chosen = arguments.service or list(SERVICES)
    sys.exit(run_each(arguments, chosen) if len(chosen) > 1 else asyncio.run(main(arguments, chosen)))
