"""The war map's figures for a city of 10,000 villages (issue 17: 50 ms p99, a benchmark, not a timed test).

    eval "$(.venv/bin/fupin-dev env)"; .venv/bin/python bench/warmap_dashboard.py [--requests 300] [--nice -10]

Builds a scratch database `dashboard_bench` on the stack's PostgreSQL (migrated like the service), fills the read
model as the event handlers would leave it (1 city, 20 counties, 500 towns, 10,000 villages, the tallies of each),
then calls `GET /dashboard/divisions/{code}` in-process through the service's own app (routing, token check, queries,
JSON) for the city, counties, towns and villages, and prints p50/p95/p99 per level, the CPU time one request costs
(this process and its PostgreSQL backends, from /proc: robust against a busy machine) and the load average. Nothing
of the running stack is touched but a database of its own.
"""

import argparse
import asyncio
import os
import random
import statistics
import time
from pathlib import Path

import asyncpg
from procstat import cpu_seconds

from fupin_kit.testing import generate_keypair, migrate, mint_token, pg_server_dsn, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DB = "dashboard_bench"
COUNTIES, TOWNS, VILLAGES = 20, 25, 20


def tree() -> tuple[list[tuple[str, str, str, str | None, int]], list[str]]:
    rows: list[tuple[str, str, str, str | None, int]] = [("610700", "city", "市", None, 0)]
    villages = []
    for c in range(COUNTIES):
        county = f"61{c + 10:02d}{c + 10:02d}"
        rows.append((county, "county", f"县{c}", "610700", 0))
        for t in range(TOWNS):
            town = f"{county}{100 + t:03d}"
            rows.append((town, "town", f"镇{c}-{t}", county, 0))
            for v in range(VILLAGES):
                village = f"{town}{200 + v:03d}"
                rows.append((village, "village", f"村{c}-{t}-{v}", town, 2000))
                villages.append(village)
    return rows, villages


async def fill(dsn: str) -> tuple[list[str], list[str], list[str]]:
    rows, villages = tree()
    rng = random.Random(7)
    tallies: dict[tuple[str, str], int] = {}
    metrics = ("households.identified", "households.town_verified", "households.registered", "households.exited",
               "households.returned", "households.rejected", "poor_persons", "poor_households", "loans.households",
               "loans.count", "grants.count", "medical.settlements", "funds.education_grants.paid",
               "owed.education_grants", "funds.medical_assistance.paid", "owed.medical_assistance")
    for village in villages:
        for metric in metrics:
            value = rng.randint(0, 120)
            for code in (village, village[:9], village[:6]):
                tallies[(code, metric)] = tallies.get((code, metric), 0) + value
    # allocations (funds-allocated) are tallied on the jurisdiction: every county, and the city's own accounts
    for code in [r[0] for r in rows if r[1] in ("county", "city")]:
        for program in ("education_grants", "medical_assistance", "minimum_living"):
            tallies[(code, f"funds.{program}.allocated")] = rng.randint(100_000, 9_000_000)
    population = {r[0]: r[4] for r in rows}
    for code, level, *_ in rows:
        if level in ("town", "county"):
            population[code] = sum(2000 for v in villages if v.startswith(code))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("division", records=[(c, n, lv, p, False, population[c], False)
                                                               for c, lv, n, p, _ in rows],
                                         columns=["code", "name", "level", "parent_code", "poor", "population",
                                                  "exited"])
        await conn.copy_records_to_table("tally", records=[(c, m, v) for (c, m), v in tallies.items()],
                                         columns=["division_code", "metric", "value"])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    counties = [r[0] for r in rows if r[1] == "county"]
    towns = [r[0] for r in rows if r[1] == "town"]
    return counties, towns, villages


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(requests: int, nice: int | None = None) -> None:
    server = pg_server_dsn()
    await recreate_database(server, DB)
    url = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{DB}"
    migrate(ROOT / "services" / "dashboard" / "alembic.ini", "DASHBOARD_DATABASE_URL", url)
    started = time.monotonic()
    counties, towns, villages = await fill(url.replace("postgresql+asyncpg://", "postgresql://"))
    print(f"filled {len(villages)} villages, {len(towns)} towns, {len(counties)} counties in "
          f"{time.monotonic() - started:.1f} s")

    private, public = generate_keypair()
    os.environ["DASHBOARD_DATABASE_URL"] = url
    from dashboard.main import create_app
    from fupin_kit.auth import TokenVerifier
    from fupin_kit.db import Database
    from fupin_kit.testing import asgi_client

    app = create_app()  # no lifespan: no Kafka consumer, only the route and a database
    app.state.db = Database(url, pool_size=5)
    app.state.token_verifier = TokenVerifier(public, issuer="fupin-gateway", audience="fupin")
    headers = {"Authorization": f"Bearer {mint_token(private, 'bench', 'dashboard:read')}"}
    levels = {"city": ["610700"], "county": counties, "town": towns, "village": villages}
    rng = random.Random(1)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"{'level':8} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'children':>9}")
    async with asgi_client(app) as http:
        for _ in range(20):  # warm the pool and the caches
            await http.get("/dashboard/divisions/610700", headers=headers)
        backends = await backend_pids(url.replace("postgresql+asyncpg://", "postgresql://"))
        if nice is not None:  # this process and only the backends serving its own database
            for pid in [os.getpid(), *backends]:
                os.setpriority(os.PRIO_PROCESS, pid, nice)
            print(f"niceness {nice} for this process and its {len(backends)} PostgreSQL backends")
        for level, codes in levels.items():
            times, children = [], 0
            cpu_before = time.process_time() + sum(map(cpu_seconds, backends))
            for _ in range(requests):
                code = rng.choice(codes)
                t0 = time.perf_counter()
                answer = await http.get(f"/dashboard/divisions/{code}", headers=headers)
                times.append((time.perf_counter() - t0) * 1000)
                assert answer.status_code == 200, answer.text
                children = len(answer.json()["children"])
            cpu = (time.process_time() + sum(map(cpu_seconds, backends)) - cpu_before) / len(times) * 1000
            print(f"{level:8} {len(times):5d} {statistics.median(times):8.1f} {percentile(times, 95):8.1f} "
                  f"{percentile(times, 99):8.1f} {cpu:7.1f} {children:9d}")
    await app.state.db.dispose()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("CPU ms: CPU time per request of this process (app and client) and its PostgreSQL backends, from /proc: "
          "what one request costs on an idle core, whatever else the machine runs")


async def backend_pids(dsn: str) -> list[int]:
    """The PostgreSQL backends serving the app's pool (the bench database's other connections)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", DB)
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="requests per level")
    parser.add_argument("--nice", type=int, default=None,
                        help="run this process and its own PostgreSQL backends at this niceness (e.g. -10, root only): "
                             "on a machine shared with other work, the figures then show the service's latency "
                             "rather than the run queue's")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.requests, arguments.nice))
