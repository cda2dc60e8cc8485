"""Benchmark: the welfare monthly run (contract v2 §8) for N 低保 cases, and end to end until finance has paid.

Two modes:

* `--mode run` (default, N = 100,000): a throw-away database `welfare_bench` on the local PostgreSQL, migrated with
  Alembic and seeded with N households (3 members each) and N open cases by COPY; then `run_month` — the code behind
  `POST /welfare/runs` — runs in-process, once (N benefits and N `benefit-due` rows in the outbox) and again (the
  idempotent repeat creates nothing), with the CPU seconds of the PostgreSQL backends and of Python beside the wall
  time and the load average; then welfare's `payment-completed` batch handler alone marks all N paid, a poll batch
  of 500 per transaction as the kit's consumer runs it. Nothing is published: the database has no relay. The
  database is dropped after.
* `--mode e2e` (N = 5,000 by default): N cases seeded into the running stack's `welfare` database in a fresh county,
  the county's `minimum_living` account funded through the gateway, `POST /welfare/runs` for the current month through
  the gateway, then the time until finance has paid every benefit and welfare has marked it `paid` (payment-completed).
  The bench's cases are stopped afterwards so later runs create nothing for them. With the dev stack's pid files,
  the CPU seconds of welfare's and finance's processes meanwhile and welfare's RSS (now and its peak since it started)
  are printed too. With 100,000 cases the gateway
  answers 502 after its 30 s upstream timeout on a busy machine; the run goes on, and the bench waits for it.

    python bench/welfare_run.py                       # the run for 100,000 cases
    python bench/welfare_run.py --mode e2e --cases 100000 --timeout 2700

Figures: services/welfare/README.md, "Performance".

Exit status 1 when a check fails (count, amounts, idempotency) or the payments do not all arrive in time.
"""

import argparse
import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from procstat import cpu_seconds

from fupin_kit.clock import today as china_today

ROOT = Path(__file__).resolve().parent.parent
WELFARE = ROOT / "services" / "welfare"
PG = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{os.environ.get('FUPIN_PG_PORT', '15432')}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("run", "e2e"), default="run")
    parser.add_argument("--cases", type=int, default=None, help="cases (default 100000 for run, 5000 for e2e)")
    parser.add_argument("--gateway", default=os.environ.get("FUPIN_GATEWAY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default="gov-portal")
    parser.add_argument("--client-secret", default="gov-portal-dev-secret")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for every payment (e2e)")
    return parser.parse_args()


def server_dsn(database: str) -> str:
    return PG.rsplit("/", 1)[0] + f"/{database}" if PG.count("/") > 2 else f"{PG}/{database}"


async def seed(conn: asyncpg.Connection, count: int, county: str, opened_on: dt.date) -> Decimal:
    """N households of 3 members (two adults and a child), each with an open case; returns the expected total of
    one month (standard 333.33 × 3 − income/12, income 0 … 11,999.99 so every case pays)."""
    rng = random.Random(7)
    households, members, cases, assessments = [], [], [], []
    now = dt.datetime.now(dt.UTC)
    expected = Decimal("0.00")
    for i in range(count):
        household_id = str(uuid.uuid4())
        village = f"{county}{100 + i % 50:03d}{1 + i % 200:03d}"
        households.append((household_id, "registered", village, village[:9], county, "[]", now, None))
        for position, born in enumerate((dt.date(1980, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
                                         dt.date(1982, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
                                         dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(1500)))):
            members.append((str(uuid.uuid4()), household_id, uuid.uuid4().hex, born, "other", "full", position))
        case_id = uuid.uuid4()
        income = Decimal(rng.randrange(0, 1_200_000)) / 100
        cases.append((case_id, household_id, county, village, "active", opened_on, "bench", now))
        assessments.append((case_id, opened_on, income, "{}", now))
        expected += Decimal("999.99") - (income / 12).quantize(Decimal("0.01"), "ROUND_HALF_UP") + Decimal("33.33")
    await conn.copy_records_to_table("households", records=households, columns=(
        "household_id", "status", "village_code", "town_code", "county_code", "causes", "occurred_at", "sequence"))
    await conn.copy_records_to_table("members", records=members, columns=(
        "member_id", "household_id", "person_ref", "birth_date", "relation", "labor", "position"))
    await conn.copy_records_to_table("cases", records=cases, columns=(
        "case_id", "household_id", "county_code", "village_code", "status", "opened_on", "created_by", "created_at"))
    await conn.copy_records_to_table("case_assessments", records=assessments, columns=(
        "case_id", "assessed_on", "annual_income", "disabled", "created_at"))
    await conn.execute("ANALYZE")
    return expected


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def memory(pid: int) -> str:
    """A process's resident set now and its peak (VmRSS, VmHWM) from /proc."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except OSError:
        return "unknown"
    mb = {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}
    return f"{mb['VmRSS']:.0f} MB now, peak {mb['VmHWM']:.0f} MB"


def service_pid(name: str) -> int | None:
    """The pid of a service of the dev stack started by `make up` (None elsewhere)."""
    try:
        return int((ROOT / ".run" / "pids" / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None


async def backends_cpu(admin: asyncpg.Connection, database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `database` (the run's chunks use the pool's
    connections besides the request's)."""
    pids = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                             database)
    return {r["pid"]: cpu_seconds(r["pid"]) for r in pids}


async def mark_paid(db: Any) -> int:
    """welfare's side of payment-completed alone: the batch handler's `apply` over every benefit, a poll batch (the
    kit's 500 records) per transaction with its inbox rows, as the kit's consumer runs it (no Kafka, no finance)."""
    from sqlalchemy import text

    from welfare.benefits.payments import Paid, apply

    async with db.session() as session:
        ids = (await session.exec(text("SELECT benefit_id FROM benefits WHERE status = 'due'"))).scalars().all()
    now = dt.datetime.now(dt.UTC)
    started, cpu_started = time.perf_counter(), time.process_time()
    for offset in range(0, len(ids), 500):
        batch = [Paid(benefit_id, now, str(uuid.uuid4())) for benefit_id in ids[offset:offset + 500]]
        async with db.session() as session:
            await session.exec(text("INSERT INTO inbox (event_id, topic) SELECT e, 'payment-completed' "
                                    "FROM unnest(CAST(:ids AS text[])) e ON CONFLICT DO NOTHING"),
                               params={"ids": [p.payment_id for p in batch]})
            await apply(session, batch)
            await session.commit()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    async with db.session() as session:
        paid = int((await session.exec(text("SELECT count(*) FROM benefits WHERE status = 'paid'"))).scalar_one())
    print(f"payment-completed applied by welfare's batch handler: {paid} marked paid in {elapsed:.2f}s "
          f"({paid / elapsed:.0f}/s; Python CPU {cpu:.1f}s; load average {load_average()})")
    return paid


async def run_mode(count: int) -> int:
    """The run in-process on a throw-away database: computation, inserts and outbox staging, nothing published."""
    name = "welfare_bench"
    admin = await asyncpg.connect(server_dsn("postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server_dsn(name).replace("postgresql://", "postgresql+asyncpg://")
    try:
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "alembic", "-c", str(WELFARE / "alembic.ini"), "upgrade", "head"],
            check=True, cwd=WELFARE, env={**os.environ, "WELFARE_DATABASE_URL": url})
        day = china_today()
        month = day.strftime("%Y-%m")
        conn = await asyncpg.connect(server_dsn(name))
        started = time.perf_counter()
        expected = await seed(conn, count, "659901", day.replace(day=1))
        await conn.close()
        print(f"seeded {count} households (3 members) and cases in {time.perf_counter() - started:.1f}s")

        from fupin_kit.db import Database
        from welfare.benefits.run import run_month

        db = Database(url, pool_size=2)
        try:
            for label in ("first run", "repeat run"):
                started, cpu_started = time.perf_counter(), time.process_time()
                async with db.session() as session:
                    await session.connection()
                    backends_started = await backends_cpu(admin, name)
                    if os.environ.get("BENCH_PROFILE") and label == "first run":
                        import cProfile
                        profile = cProfile.Profile()
                        profile.enable()
                        run = await run_month(session, db, month=month, created_by="bench")
                        profile.disable()
                        profile.dump_stats("/tmp/welfare_run.prof")
                    else:
                        run = await run_month(session, db, month=month, created_by="bench")
                    await session.commit()
                    backend_cpu = sum(cpu - backends_started.get(pid, 0.0)
                                      for pid, cpu in (await backends_cpu(admin, name)).items())
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                print(f"{label}: created {run.created_minimum_living} benefits, {run.already_existing} already "
                      f"existing, total {run.total_amount} in {elapsed:.2f}s (CPU: PostgreSQL backends "
                      f"{backend_cpu:.1f}s, Python {cpu:.1f}s; load average {load_average()})")
                if label == "first run" and (run.created_minimum_living != count or run.total_amount != expected):
                    print(f"FAIL: expected {count} benefits totalling {expected}", file=sys.stderr)
                    return 1
                if label == "repeat run" and run.created_minimum_living != 0:
                    print("FAIL: the repeat run created benefits", file=sys.stderr)
                    return 1
            marked = await mark_paid(db)
        finally:
            await db.dispose()
        conn = await asyncpg.connect(server_dsn(name))
        staged = await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'benefit-due'")
        await conn.close()
        print(f"benefit-due events staged in the outbox: {staged}")
        return 0 if staged == count and marked == count else 1
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def e2e_mode(count: int, args: argparse.Namespace) -> int:
    """The run through the gateway on the running stack, until finance has paid and welfare marked every benefit."""
    county = f"65{random.randint(1000, 9999)}"
    day = china_today()
    month = day.strftime("%Y-%m")
    conn = await asyncpg.connect(server_dsn("welfare"))
    try:
        expected = await seed(conn, count, county, day.replace(day=1))
        print(f"seeded {count} cases in county {county}; one month totals {expected}")
        async with httpx.AsyncClient(base_url=args.gateway, timeout=600) as http:
            token = await http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                          "client_id": args.client_id,
                                                          "client_secret": args.client_secret})
            token.raise_for_status()
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            fund = await http.post("/finance/funds", headers=auth, json={
                "jurisdiction_code": county, "year": day.year, "source": "central",
                "purpose": "benchmark: minimum living", "amount": str(expected)})
            fund.raise_for_status()
            allocation = await http.post("/finance/allocations", headers=auth, json={
                "from_fund_id": fund.json()["fund_id"], "program": "minimum_living", "amount": str(expected)})
            allocation.raise_for_status()
            if allocation.json().get("status", "allocated") != "allocated":
                print(f"FAIL: the allocation is {allocation.json()['status']} (an approval threshold for {day.year})",
                      file=sys.stderr)
                return 1
            print(f"load average at the start: {load_average()}")
            services = {name: service_pid(name) for name in ("welfare", "finance")}
            cpu_started = {name: cpu_seconds(pid) for name, pid in services.items() if pid}
            backends_started = {name: await backends_cpu(conn, name) for name in services}
            started, posted_at = time.perf_counter(), dt.datetime.now(dt.UTC)
            run = await http.post("/welfare/runs", headers=auth, json={"month": month})
            answered = time.perf_counter() - started
            if run.status_code == 201:
                print(f"POST /welfare/runs answered in {answered:.2f}s: {run.json()['created']}")
            else:  # the gateway gives up after its upstream timeout (30 s); the run goes on and commits
                print(f"POST /welfare/runs answered {run.status_code} after {answered:.2f}s; waiting for the run")
            # the bench's own polling stays cheap (counting the county's benefits reads the whole month's on a
            # long-lived database): the run's record commits with its last chunk, then one count checks it
            while not await conn.fetchval("SELECT count(*) FROM runs WHERE month = $1 AND created_at >= $2",
                                          month, posted_at):
                if time.perf_counter() - started > args.timeout:
                    print("TIMEOUT: the run did not create every benefit (see welfare's log)", file=sys.stderr)
                    return 1
                await asyncio.sleep(0.5)
            committed = time.perf_counter() - started
            created = await conn.fetchval("SELECT count(*) FROM benefits WHERE county_code = $1 AND month = $2",
                                          county, month)
            print(f"run committed: {created} of {count} benefits by {committed:.1f}s")
            published = paid = finance_paid = -1.0
            reported = 0.0
            while True:
                elapsed = time.perf_counter() - started
                if finance_paid < 0:
                    try:
                        accounts = await http.get("/finance/accounts", headers=auth, params={
                            "jurisdiction_code": county, "program": "minimum_living"})
                    except httpx.TransportError:  # the shared stack's gateway restarted: ask again next time
                        accounts = httpx.Response(503)
                    balances = [a["balance"] for a in (accounts.json() if accounts.status_code == 200 else [])
                                if a.get("program") == "minimum_living"]
                    if balances and Decimal(balances[0]) == 0:
                        finance_paid = elapsed
                        print(f"finance has paid all {count} (account empty) by {finance_paid:.1f}s")
                if published < 0 and await conn.fetchval(
                        "SELECT count(*) FROM outbox WHERE topic = 'benefit-due' AND sent_at IS NULL") == 0:
                    published = elapsed
                    print(f"every benefit-due published by {published:.1f}s")
                # counted every 30 s, and every second once finance has paid everything
                if finance_paid < 0 and elapsed - reported < 30 and elapsed <= args.timeout:
                    await asyncio.sleep(1)
                    continue
                done = await conn.fetchval("SELECT count(*) FROM benefits WHERE county_code = $1 AND month = $2 "
                                           "AND status = 'paid'", county, month)
                if done >= count:
                    paid = elapsed
                    break
                if elapsed - reported >= 30:
                    reported = elapsed
                    print(f"  {elapsed:.0f}s: {done} marked paid in welfare; load average {load_average()}")
                if elapsed > args.timeout:
                    print(f"TIMEOUT: {done} of {count} paid after {elapsed:.0f}s", file=sys.stderr)
                    return 1
                await asyncio.sleep(1)
            print(f"{count} benefits paid by finance and marked paid in welfare {paid:.1f}s after the POST "
                  f"({count / paid:.0f} benefits/s end to end); load average at the end: {load_average()}")
            if services["welfare"]:
                # a few seconds after the last payment notice; the peak is since welfare started (restart it first)
                await asyncio.sleep(5)
                print(f"welfare RSS: {memory(services['welfare'])}")
            used = {name: cpu_seconds(pid) - cpu_started[name] for name, pid in services.items() if pid}
            print("CPU of the services' processes meanwhile: " + ", ".join(
                f"{name} {cpu:.1f}s ({cpu / count * 1e6:.0f} µs/benefit)" for name, cpu in used.items()))
            pg = {name: sum(cpu - backends_started[name].get(pid, 0.0)
                            for pid, cpu in (await backends_cpu(conn, name)).items()) for name in services}
            print("CPU of the backends connected to their databases (ended connections not counted): " + ", ".join(
                f"{name} {cpu:.1f}s ({cpu / count * 1e6:.0f} µs/benefit)" for name, cpu in pg.items()))
            return 0
    finally:
        # stopped (not closed): a case closed today would still be due this month
        await conn.execute("UPDATE cases SET status = 'stopped', closed_on = $2, close_reason = 'bench' "
                           "WHERE county_code = $1", county, day)
        await conn.close()


def main() -> int:
    args = parse_args()
    if args.mode == "run":
        return asyncio.run(run_mode(args.cases or 100_000))
    return asyncio.run(e2e_mode(args.cases or 5_000, args))


if __name__ == "__main__":
    sys.exit(main())
