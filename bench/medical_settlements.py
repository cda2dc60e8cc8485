"""Medical one-stop settlements through the gateway (a script, not a test): settlements/s, p50 and p99.

    python bench/medical_settlements.py                      # 1000 settlements, concurrency 20, 50 patients
    python bench/medical_settlements.py -n 5000 -c 50 --patients 200

Setup (with gov-portal): the division chain of --village, --patients registered-poor households created through
the registry (town then county verification), one county hospital; then it waits until the medical service's read
model knows every patient (eligibility check says poor_population). The measured part is POST /medical/settlements
with his-demo, each call a new encounter for a patient taken round-robin (so calls for one patient queue on that
patient's yearly accumulator row, as real discharges would). Figures go in the README.
"""

import argparse
import asyncio
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx
from fixtures import ensure_divisions  # bench/ is a folder of scripts, not a package
from stdnum.cn import ric


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, seconds: float, status: int) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1


def new_id_number() -> str:
    born = f"{random.randint(1950, 2000)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    stem = f"610723{born}{random.randint(0, 999):03d}"
    return stem + ric.calc_check_digit(stem + "0")


async def token(client: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    answer = await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def ok(answer: httpx.Response, *expected: int) -> httpx.Response:
    if answer.status_code not in expected:
        raise SystemExit(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}")
    return answer


async def registered_patient(client: httpx.AsyncClient, gov: dict[str, str], village: str) -> str:
    """One single-member household, registered through both verifications; returns the head's ID number."""
    number = new_id_number()
    household = ok(await client.post("/registry/households", headers=gov, json={
        "village_code": village, "head_id_number": number, "annual_income": "2000.00", "income_year": 2019,
        "causes": ["illness"], "low_income_guarantee": False,
        "indicators": {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": False,
                       "housing_safe": True, "drinking_water_safe": True},
        "members": [{"id_number": number, "name": "测试", "relation": "head", "health": "serious",
                     "disability_grade": None, "labor": "partial", "school_stage": None, "boarding": False}]}),
        201).json()
    for level in ("town", "county"):
        ok(await client.post(f"/registry/households/{household['household_id']}/verifications", headers=gov,
                             json={"level": level, "approved": True, "officer": "bench", "note": "bench"}), 200, 201)
    return number


async def wait_until_known(client: httpx.AsyncClient, his: dict[str, str], numbers: list[str],
                           timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(numbers)
    while pending:
        answer = ok(await client.post("/medical/eligibility-checks", headers=his, json={"id_number": pending[0]}),
                    200)
        if answer.json()["poor_population"]:
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(pending)} patients never reached the medical read model")
        await asyncio.sleep(0.2)


async def setup(client: httpx.AsyncClient, args: argparse.Namespace) -> tuple[dict[str, str], list[str], str]:
    gov = await token(client, "gov-portal", "gov-portal-dev-secret")
    his = await token(client, "his-demo", "his-demo-dev-secret")
    await ensure_divisions(client, gov, args.village)
    hospital = f"BENCH-{args.village[:6]}"
    ok(await client.put(f"/medical/hospitals/{hospital}", headers=gov, json={
        "name": "bench county hospital", "level": "county", "county_code": args.village[:6]}), 200, 201)
    started = time.perf_counter()
    numbers: list[str] = []
    for start in range(0, args.patients, 10):
        numbers += await asyncio.gather(*(registered_patient(client, gov, args.village)
                                          for _ in range(min(10, args.patients - start))))
    await wait_until_known(client, his, numbers, args.wait)
    print(f"setup: {len(numbers)} registered-poor patients reached medical in {time.perf_counter() - started:.1f}s")
    return his, numbers, hospital


async def measure(client: httpx.AsyncClient, his: dict[str, str], numbers: list[str], hospital: str,
                  args: argparse.Namespace) -> tuple[float, Outcome]:
    outcome = Outcome()
    queue = iter(range(args.requests))

    async def worker() -> None:
        for i in queue:
            body = {"encounter_id": f"BENCH-{uuid.uuid4().hex}", "id_number": numbers[i % len(numbers)],
                    "hospital_code": hospital, "total_cost": "5200.00", "eligible_cost": "5000.00",
                    "diagnoses": ["J18.9"], "discharged_on": args.discharged_on}
            started = time.perf_counter()
            try:
                status = (await client.post("/medical/settlements", headers=his, json=body)).status_code
            except httpx.HTTPError:
                status = 0
            outcome.add(time.perf_counter() - started, status)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return time.perf_counter() - started, outcome


def report(seconds: float, outcome: Outcome, args: argparse.Namespace) -> None:
    ordered = sorted(outcome.latencies)
    created = outcome.statuses.get(201, 0)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{args.requests} settlements, concurrency {args.concurrency}, {args.patients} patients")
    print(f"{'settlements/s':>14} {'p50 ms':>9} {'p99 ms':>9}  statuses")
    print(f"{created / seconds:>14.1f} {p50:>9.2f} {p99:>9.2f}  {dict(sorted(outcome.statuses.items()))}")


async def run(args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=args.concurrency + 10, max_keepalive_connections=args.concurrency + 10)
    async with httpx.AsyncClient(base_url=args.gateway.rstrip("/"), limits=limits, timeout=60) as client:
        his, numbers, hospital = await setup(client, args)
        seconds, outcome = await measure(client, his, numbers, hospital, args)
    report(seconds, outcome, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--village", default="610723100201", help="12-digit village code for the households")
    parser.add_argument("--discharged-on", default="2020-06-30")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the read model")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
