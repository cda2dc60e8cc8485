"""Benchmark: how fast each consumer of the registry's household snapshots applies them (issue 14 target 5).

Against the running stack (`make up`): publishes N `household-registered` events (built from the event contract by
the kit's test helper, `fupin_kit.testing.household_event`, members with pseudonyms and birth dates only) for a fresh
county straight to Kafka, as the registry's relay would, then watches each service's read model in its own database
until it holds all N households. Every consumer runs at the same time on the same machine, as in production: the
figure of a consumer is N / (seconds from the first event published to its last household seen).

    .venv/bin/python bench/household_consumers.py --households 20000

Prints one line per consumer (`<service> household events: <value> /s (target >= 2000 /s, met: yes|no)`) and one
`BENCH_JSON {...}` line per consumer for `make bench`, with the load average at the start and at the end.
Exit status 1 if a read model does not hold every household in time.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time

import asyncpg
from aiokafka import AIOKafkaProducer
from household_apply import build  # the same burst as the single-consumer benchmark

TARGET = 2000.0  # household events per second per consumer (issue 14 target 5)
# service: the query counting the bench county's households in its read model
READ_MODELS = {
    "microcredit": "SELECT count(*) FROM households WHERE county_code = $1",
    "education": "SELECT count(*) FROM household WHERE county_code = $1",
    "medical": "SELECT count(*) FROM households WHERE county_code = $1",
    "assistance": "SELECT count(*) FROM households WHERE county_code = $1",
    "welfare": "SELECT count(*) FROM households WHERE county_code = $1",
    "dashboard": "SELECT count(*) FROM household WHERE village_code LIKE $1 || '%'",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10000, help="household-registered events to publish")
    parser.add_argument("--members", type=int, default=3, help="members per household")
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--pg", default=f"postgresql://postgres@127.0.0.1:{os.environ.get('FUPIN_PG_PORT', '15432')}",
                        help="the PostgreSQL server of the stack (one database per service)")
    parser.add_argument("--services", default=",".join(READ_MODELS), help="comma-separated consumers to watch")
    parser.add_argument("--timeout", type=float, default=600.0)
    return parser.parse_args()


async def count(pg: str, service: str, county: str) -> int:
    connection = await asyncpg.connect(f"{pg}/{service}")
    try:
        return int(await connection.fetchval(READ_MODELS[service], county))
    finally:
        await connection.close()


async def watch(pg: str, service: str, county: str, expected: int, started: float, timeout: float) -> float | None:
    """Seconds from `started` until the service's read model holds `expected` households (None: timed out)."""
    connection = await asyncpg.connect(f"{pg}/{service}")
    try:
        while time.perf_counter() - started < timeout:
            if int(await connection.fetchval(READ_MODELS[service], county)) >= expected:
                return time.perf_counter() - started
            await asyncio.sleep(0.1)
        return None
    finally:
        await connection.close()


async def main() -> int:
    args = parse_args()
    services = [s for s in args.services.split(",") if s]
    county = str(random.randint(660000, 699999))  # outside the demo's counties
    burst = build(county, args.households, args.members)
    load_before = os.getloadavg()
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka, enable_idempotence=True, acks="all", linger_ms=20,
                                max_batch_size=1 << 20)
    await producer.start()
    print(f"county {county}: publishing {args.households} household-registered events "
          f"({args.members} members each); load average {load_before[0]:.2f}")
    started = time.perf_counter()
    try:
        sends = [await producer.send("household-registered", value, key=key) for key, value in burst]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    published = time.perf_counter() - started
    print(f"published in {published:.2f}s ({args.households / published:.0f} events/s)")
    seconds = await asyncio.gather(*(watch(args.pg, s, county, args.households, started, args.timeout)
                                     for s in services))
    load_after = os.getloadavg()
    failed = False
    for service, elapsed in zip(services, seconds, strict=True):
        if elapsed is None:
            held = await count(args.pg, service, county)
            print(f"TIMEOUT {service}: {held} of {args.households} households after {args.timeout:.0f}s",
                  file=sys.stderr)
            failed = True
            continue
        rate = args.households / elapsed
        print(f"{service} household events: {rate:.0f} /s in {elapsed:.1f}s (target >= {TARGET:.0f} /s, met: "
              f"{'yes' if rate >= TARGET else 'no'})")
        print("BENCH_JSON " + json.dumps({
            "figure": f"{service} household events", "value": round(rate, 1), "unit": "/s", "target": TARGET,
            "met": rate >= TARGET, "events": args.households, "seconds": round(elapsed, 2),
            "load_average": [round(load_before[0], 2), round(load_after[0], 2)]}))
    print(f"load average at the end: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
