"""Benchmark: a bulk import's households in every read model, timed from the import's end (issue 14 target 5).

Against the running stack (`make up`): a county of its own (random code, its towns and villages PUT through the
gateway), a generated file of N member rows in it, all `registered`, uploaded through the gateway
(`POST /registry/imports`) and waited for until the import is done; then each consumer's read model in its own
database (the queries of `household_consumers.READ_MODELS`) is watched until it holds every household the import
created. The figure of a service is the seconds from the import's end to its last household; the target is 60 s for
a 100,000-member import.

    .venv/bin/python bench/import_read_models.py --members 100000

Prints one line per read model and one `BENCH_JSON {...}` line for `make bench` (the slowest read model).
Exit status 1 if a read model does not hold every household in time.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
from household_consumers import READ_MODELS, count, watch

from registry.client import DEV_CLIENT_ID, DEV_CLIENT_SECRET, RegistryClient
from registry.synthetic import city_divisions, households, write_file

TARGET_SECONDS = 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000, help="member rows in the imported file")
    parser.add_argument("--gateway", default=os.environ.get("FUPIN_GATEWAY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--pg", default=f"postgresql://postgres@127.0.0.1:{os.environ.get('FUPIN_PG_PORT', '15432')}",
                        help="the PostgreSQL server of the stack (one database per service)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait after the import's end")
    return parser.parse_args()


async def main() -> int:
    args = parse_args()
    county = str(random.randint(700000, 799999))  # a county of its own, outside the demo's and other benches'
    divisions = city_divisions(counties=((county, f"基准{county}县"),))
    villages = [d.code for d in divisions if d.level == "village"]
    async with httpx.AsyncClient(base_url=args.gateway, timeout=300) as http:
        registry = await RegistryClient.connect(http, client_id=DEV_CLIENT_ID, client_secret=DEV_CLIENT_SECRET)
        await registry.put_divisions([{"code": d.code, **d.body()} for d in divisions])
        before = {s: await count(args.pg, s, county) for s in READ_MODELS}
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench-county.csv"
            rows = write_file(path, households(args.members, villages=villages, statuses={"registered": 1}))
            load_start = os.getloadavg()[0]
            started = time.perf_counter()
            accepted = await registry.upload(path)
            job = await registry.wait_import(accepted["import_id"], interval=0.2)
        ended = time.perf_counter()
    created = int(job["households_created"])
    print(f"county {county}: {rows} members, {created} households imported in {ended - started:.1f} s "
          f"({job['error_count']} row errors); load average {load_start:.2f}")
    seconds = await asyncio.gather(*(watch(args.pg, s, county, before[s] + created, ended, args.timeout)
                                     for s in READ_MODELS))
    load_end = os.getloadavg()[0]
    slowest = 0.0
    failed = False
    for service, elapsed in zip(READ_MODELS, seconds, strict=True):
        if elapsed is None:
            held = await count(args.pg, service, county) - before[service]
            print(f"TIMEOUT {service}: {held} of {created} households {args.timeout:.0f} s after the import's end",
                  file=sys.stderr)
            failed = True
            continue
        slowest = max(slowest, elapsed)
        print(f"{service}: every household {elapsed:.1f} s after the import's end")
    met = not failed and slowest <= TARGET_SECONDS
    print("BENCH_JSON " + json.dumps({
        "figure": f"{rows:,}-member import in every read model, after the import's end",
        "value": None if failed else round(slowest, 1), "unit": "s", "target_text": f"<= {TARGET_SECONDS:g} s",
        "met": met, "members": rows, "households": created, "import_seconds": round(ended - started, 1),
        "load_average": [round(load_start, 2), round(load_end, 2)]}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
