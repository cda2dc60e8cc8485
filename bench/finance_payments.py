"""Benchmark: how fast finance pays a burst of `grant-awarded` events, and is the ledger still balanced afterwards.

Against the running stack (`make up`): funds a fresh county's `education_grants` account through the gateway,
publishes N grant-awarded CloudEvents straight to Kafka (as education would), waits until the account has paid all of
them, prints payments per second, then asks `GET /finance/ledger/verify`.

    python bench/finance_payments.py --events 2000
    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 python bench/finance_payments.py --gateway http://127.0.0.1:8000

Prints the figure of issue 14 target 4 last, as a line and as `BENCH_JSON {...}` for `make bench`:
`finance payments from events: <value> /s (target >= 1000 /s, met: yes|no, ledger balanced: yes|no)`.
Exit status 1 if the payments do not all arrive in time or the ledger does not verify.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from procstat import cpu_seconds

from fupin_kit.events.envelope import cloud_event

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{os.environ.get('FUPIN_PG_PORT', '15432')}")
GRANT = Decimal("750.00")
TARGET = 1000.0  # payments per second (issue 14 target 4)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="grant-awarded events in the burst")
    parser.add_argument("--gateway", default=os.environ.get("FUPIN_GATEWAY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--client-id", default="gov-portal")
    parser.add_argument("--client-secret", default="gov-portal-dev-secret")
    parser.add_argument("--token", default=os.environ.get("FUPIN_BENCH_TOKEN"),
                        help="a bearer token to use instead of asking the gateway's /oauth/token")
    parser.add_argument("--county", default=None, help="6-digit county code (default: a random unused one)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every payment")
    return parser.parse_args()


async def access_token(http: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    answer = await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def fund_county(http: httpx.AsyncClient, auth: dict[str, str], county: str, amount: Decimal) -> None:
    fund = await http.post("/finance/funds", headers=auth, json={
        "jurisdiction_code": county, "year": 2020, "source": "central", "purpose": "benchmark: education grants",
        "amount": str(amount)})
    fund.raise_for_status()
    allocation = await http.post("/finance/allocations", headers=auth, json={
        "from_fund_id": fund.json()["fund_id"], "program": "education_grants", "amount": str(amount),
        "note": "benchmark"})
    allocation.raise_for_status()


async def account_balance(http: httpx.AsyncClient, auth: dict[str, str], county: str) -> Decimal:
    answer = await http.get("/finance/accounts", headers=auth,
                            params={"jurisdiction_code": county, "program": "education_grants"})
    answer.raise_for_status()
    return Decimal(answer.json()[0]["balance"])


def finance_pid() -> int | None:
    """The pid of finance on the dev stack started by `make up` (None elsewhere)."""
    try:
        return int((ROOT / ".run" / "pids" / "finance.pid").read_text())
    except (OSError, ValueError):
        return None


async def backends_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to finance's database (empty if PostgreSQL is not local)."""
    try:
        conn = await asyncpg.connect(PG.rsplit("/", 1)[0] + "/finance" if PG.count("/") > 2 else f"{PG}/finance")
    except (OSError, asyncpg.PostgresError):
        return {}
    try:
        pids = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = 'finance' "
                                "AND pid <> pg_backend_pid()")
    finally:
        await conn.close()
    return {r["pid"]: cpu_seconds(r["pid"]) for r in pids}


def build_burst(county: str, count: int) -> list[tuple[str, str, bytes]]:
    """(household_id, grant_id, CloudEvent JSON) per grant, built before the clock starts."""
    burst = []
    for _ in range(count):
        household_id, grant_id = str(uuid.uuid4()), str(uuid.uuid4())
        village = f"{county}{random.randint(100, 199)}{random.randint(1, 999):03d}"
        event = cloud_event(source="bench", topic="grant-awarded", subject=household_id, data={
            "grant_id": grant_id, "person_ref": uuid.uuid4().hex, "household_id": household_id,
            "county_code": county, "village_code": village, "kind": "preschool", "amount": str(GRANT),
            "academic_year": "2020-2021", "enrollment_id": str(uuid.uuid4()), "stage": "preschool"})
        burst.append((household_id, grant_id, json.dumps(event).encode()))
    return burst


async def publish_burst(kafka: str, burst: list[tuple[str, str, bytes]]) -> list[str]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all", linger_ms=20,
                                max_batch_size=1 << 20)
    await producer.start()
    try:
        sends = [await producer.send("grant-awarded", value, key=household_id.encode())
                 for household_id, _, value in burst]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return [grant_id for _, grant_id, _ in burst]


async def main() -> int:
    args = parse_args()
    county = args.county or str(random.randint(110000, 659999))
    async with httpx.AsyncClient(base_url=args.gateway, timeout=30) as http:
        auth = ({"Authorization": f"Bearer {args.token}"} if args.token
                else await access_token(http, args.client_id, args.client_secret))
        await fund_county(http, auth, county, GRANT * args.events)
        start_balance = await account_balance(http, auth, county)
        target = start_balance - GRANT * args.events
        print(f"county {county}: education_grants holds {start_balance}; publishing {args.events} grant-awarded "
              f"events to {args.kafka}")
        burst = build_burst(county, args.events)
        pid = finance_pid()
        cpu_started, backends_started = cpu_seconds(pid) if pid else 0.0, await backends_cpu()
        load_started = os.getloadavg()[0]
        started = time.perf_counter()
        grant_ids = await publish_burst(args.kafka, burst)
        published = time.perf_counter()
        print(f"published {len(grant_ids)} events in {published - started:.2f}s "
              f"({len(grant_ids) / max(published - started, 1e-9):.0f} events/s)")
        balance = start_balance
        while balance > target:
            if time.perf_counter() - started > args.timeout:
                paid = (start_balance - balance) / GRANT
                print(f"TIMEOUT: {paid:.0f} of {args.events} paid after {args.timeout:.0f}s", file=sys.stderr)
                return 1
            await asyncio.sleep(0.2)
            balance = await account_balance(http, auth, county)
        elapsed = time.perf_counter() - started
        print(f"paid {args.events} payments in {elapsed:.2f}s: {args.events / elapsed:.1f} payments/s "
              f"(from the first event published to the last payment seen)")
        # the relay's publishing of payment-completed may go on a little longer: a lower bound of the CPU per payment
        python_us = (cpu_seconds(pid) - cpu_started) / args.events * 1e6 if pid else float("nan")
        backend_us = sum(cpu - backends_started.get(p, 0.0) for p, cpu in (await backends_cpu()).items()
                         ) / args.events * 1e6
        print(f"CPU per payment: finance {python_us:.0f} us, its PostgreSQL backends {backend_us:.0f} us "
              f"(ended connections not counted); load average {load_started:.1f} -> {os.getloadavg()[0]:.1f}")
        sample = random.sample(grant_ids, min(20, len(grant_ids)))
        for grant_id in sample:
            answer = (await http.get("/finance/payments", headers=auth, params={"reference": grant_id})).json()
            if [p["status"] for p in answer] != ["paid"]:
                print(f"grant {grant_id}: unexpected payments {answer}", file=sys.stderr)
                return 1
        verify = await http.get("/finance/ledger/verify", headers=auth, timeout=300)
        verify.raise_for_status()
        report = verify.json()
        print("ledger verification:", json.dumps({k: report[k] for k in (
            "balanced", "total_debits", "total_credits", "negative_balances")}))
        balanced = bool(report["balanced"]) and report["negative_balances"] == 0
        rate = args.events / elapsed
        print(f"finance payments from events: {rate:.0f} /s (target >= {TARGET:.0f} /s, met: "
              f"{'yes' if rate >= TARGET else 'no'}, ledger balanced: {'yes' if balanced else 'no'})")
        print("BENCH_JSON " + json.dumps({"figure": "finance payments from events", "value": round(rate, 1),
                                          "unit": "/s", "target": TARGET, "met": rate >= TARGET and balanced,
                                          "events": args.events, "seconds": round(elapsed, 2),
                                          "ledger_balanced": balanced, "finance_cpu_us": round(python_us),
                                          "postgres_cpu_us": round(backend_us)}))
        return 0 if balanced else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
