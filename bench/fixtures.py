"""The data `make bench` reads and writes: registered-poor households every service knows, kept between runs.

One village chain, one county hospital and `count` single-member households registered through the registry and
verified (town, then county); ready when the microcredit and medical read models know every member. The ids are
kept in `.run/bench/fixture.json` and checked (not re-created) on the next run while the stack keeps its data.
"""

import asyncio
import datetime as dt
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
VILLAGE = "610723100201"


@dataclass
class Fixture:
    village: str
    hospital: str
    household_ids: list[str]
    id_numbers: list[str]


def resident_id(rng: random.Random) -> str:
    """A valid resident ID number (GB 11643 check character) of an adult born 1970-1995 (of borrowing age)."""
    born = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(25 * 365))
    body = f"{VILLAGE[:6]}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def ok(answer: httpx.Response, *expected: int) -> httpx.Response:
    if answer.status_code not in expected:
        raise SystemExit(f"bench setup: {answer.request.method} {answer.request.url.path}: "
                         f"{answer.status_code} {answer.text[:300]}")
    return answer


async def ensure_divisions(client: httpx.AsyncClient, gov: dict[str, str], village: str) -> None:
    """The village's chain of divisions, each created only where it is missing. The bench's village is in the demo's
    county (洋县, a real region code, which resident ID numbers need), and renaming the demo's divisions to "bench
    ..." changed what the war map, and its e2e browser test, show on the same stack."""
    chain = [(village[:4] + "00", "city", None), (village[:6], "county", village[:4] + "00"),
             (village[:9], "town", village[:6]), (village, "village", village[:9])]
    for code, level, parent in chain:
        if ok(await client.get(f"/registry/divisions/{code}", headers=gov), 200, 404).status_code == 200:
            continue
        ok(await client.put(f"/registry/divisions/{code}", headers=gov, json={
            "name": f"bench {level} {code}", "level": level, "parent_code": parent, "poor": True,
            "population": 100000}), 200, 201)


async def _household(client: httpx.AsyncClient, gov: dict[str, str], village: str, number: str) -> str:
    household = ok(await client.post("/registry/households", headers=gov, json={
        "village_code": village, "head_id_number": number, "annual_income": "2000.00", "income_year": 2019,
        "causes": ["illness"], "low_income_guarantee": False,
        "indicators": {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": False,
                       "housing_safe": True, "drinking_water_safe": True},
        "members": [{"id_number": number, "name": "测试", "relation": "head", "health": "serious",
                     "disability_grade": None, "labor": "partial", "school_stage": None, "boarding": False}]}),
        201).json()
    household_id = str(household["household_id"])
    for level in ("town", "county"):
        ok(await client.post(f"/registry/households/{household_id}/verifications", headers=gov,
                             json={"level": level, "approved": True, "officer": "bench", "note": "bench"}), 200, 201)
    return household_id


async def _known(client: httpx.AsyncClient, bank: dict[str, str], his: dict[str, str], number: str) -> bool:
    medical = ok(await client.post("/medical/eligibility-checks", headers=his, json={"id_number": number}), 200)
    credit = ok(await client.post("/microcredit/eligibility-checks", headers=bank, json={"id_number": number}), 200)
    return bool(medical.json()["poor_population"]) and "not_registered_poor" not in credit.json()["reasons"]


async def _usable(client: httpx.AsyncClient, tokens: dict[str, dict[str, str]], fixture: Fixture) -> bool:
    answer = await client.get(f"/registry/households/{fixture.household_ids[0]}", headers=tokens["gov"])
    if answer.status_code != 200:
        return False
    hospital = await client.get(f"/medical/hospitals/{fixture.hospital}", headers=tokens["gov"])
    if hospital.status_code != 200:
        return False
    return all([await _known(client, tokens["bank"], tokens["his"], n)
                for n in (fixture.id_numbers[0], fixture.id_numbers[-1])])


def ensure(gateway: str, tokens: dict[str, dict[str, str]], path: Path, count: int) -> Fixture:
    """The fixture saved in `path` when the stack still knows it, else a new one (saved in `path`)."""
    saved = Fixture(**json.loads(path.read_text())) if path.is_file() else None
    fixture, created = asyncio.run(_ensure(gateway, tokens, saved, count))
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(fixture), indent=1))
    return fixture


async def _ensure(gateway: str, tokens: dict[str, dict[str, str]], saved: Fixture | None, count: int,
                  wait_seconds: float = 180) -> tuple[Fixture, bool]:
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        if saved is not None and len(saved.id_numbers) >= count and await _usable(client, tokens, saved):
            return saved, False
        started = time.perf_counter()
        gov = tokens["gov"]
        rng = random.Random()
        await ensure_divisions(client, gov, VILLAGE)
        hospital = f"BENCH-{VILLAGE[:6]}"
        ok(await client.put(f"/medical/hospitals/{hospital}", headers=gov, json={
            "name": "bench county hospital", "level": "county", "county_code": VILLAGE[:6]}), 200, 201)
        numbers = [resident_id(rng) for _ in range(count)]
        household_ids: list[str] = []
        for start in range(0, count, 8):
            household_ids += await asyncio.gather(*(_household(client, gov, VILLAGE, n)
                                                    for n in numbers[start:start + 8]))
        fixture = Fixture(VILLAGE, hospital, household_ids, numbers)
        deadline = time.monotonic() + wait_seconds
        pending = list(numbers)
        while pending:
            if await _known(client, tokens["bank"], tokens["his"], pending[0]):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise SystemExit(f"bench setup: {len(pending)} members never reached the microcredit and medical "
                                 f"read models in {wait_seconds:.0f} s (consumers behind?)")
            await asyncio.sleep(0.25)
        print(f"setup: {count} registered-poor households known to microcredit and medical in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        return fixture, True
