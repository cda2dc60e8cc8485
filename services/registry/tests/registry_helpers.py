"""Test data: random valid resident ID numbers (stdnum check digit), division trees, household bodies."""

import datetime as dt
import itertools
import os
import random
from decimal import Decimal
from typing import Any

import httpx
from conftest import token
from stdnum.cn import ric

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
WRITE = token("registry:read registry:write")
READ = token("registry:read")
INDICATORS_OK = {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
                 "housing_safe": True, "drinking_water_safe": True}


def id_number(born: dt.date | None = None, area: str = "610723") -> str:
    """A random valid 18-character resident ID number (GB 11643, MOD 11-2 check character)."""
    born = born or dt.date(1950, 1, 1) + dt.timedelta(days=random.randrange(365 * 60))
    body = f"{area}{born:%Y%m%d}{random.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects the check position present


def bad_check_digit(number: str) -> str:
    wrong = "0123456789X".replace(number[-1], "")
    return number[:-1] + random.choice(wrong)


_next_code = itertools.count(random.randrange(10**5))


def _six_digit() -> str:
    """A city or county code this process has not handed out before (a random start, then counting up).

    Drawing each code at random made two of a run's few hundred trees share a code often enough to fail a run in
    forty (a birthday collision in 100,000 codes): the second PUT then updated the first test's division.
    """
    return f"6{next(_next_code) % 10**5:05d}"


def codes() -> dict[str, str]:
    """A fresh city → county → town → village code chain that no other test of this run uses."""
    county = _six_digit()
    town = county + f"{random.randrange(1, 1000):03d}"
    return {"city": _six_digit(), "county": county, "town": town,
            "village": town + f"{random.randrange(1, 1000):03d}"}


async def _unused(client: httpx.AsyncClient, *codes_: str) -> bool:
    for code in codes_:
        if (await client.get(f"/registry/divisions/{code}", headers=READ)).status_code != 404:
            return False
    return True


async def make_tree(client: httpx.AsyncClient, *, population: int = 1000, poor: bool = True) -> dict[str, str]:
    c = codes()
    while not await _unused(client, c["city"], c["county"]):  # a long-lived dev database keeps earlier runs' trees
        c = codes()
    for level, parent in (("city", None), ("county", "city"), ("town", "county"), ("village", "town")):
        answer = await client.put(f"/registry/divisions/{c[level]}", headers=WRITE, json={
            "name": f"{level} {c[level]}", "level": level, "parent_code": c[parent] if parent else None,
            "poor": poor, "population": population})
        assert answer.status_code == 201, answer.text
    return c


def member(relation: str = "child", **extra: Any) -> dict[str, Any]:
    return {"id_number": id_number(), "name": "张三丰", "relation": relation, "health": "healthy",
            "disability_grade": None, "labor": "full", "school_stage": None, "boarding": False, **extra}


def household_body(village: str, *, size: int = 3, income: Decimal | str = "6000.00", year: int = 2019,
                   **extra: Any) -> dict[str, Any]:
    members = [member("head")] + [member("child", labor="none", school_stage="primary", boarding=True)
                                  for _ in range(size - 1)]
    return {"village_code": village, "head_id_number": members[0]["id_number"], "annual_income": str(income),
            "income_year": year, "causes": ["illness", "lack_skills"], "indicators": dict(INDICATORS_OK),
            "low_income_guarantee": False, "members": members, **extra}


async def create_household(client: httpx.AsyncClient, village: str, **kwargs: Any) -> dict[str, Any]:
    answer = await client.post("/registry/households", headers=WRITE, json=household_body(village, **kwargs))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def verify(client: httpx.AsyncClient, household_id: str, level: str, approved: bool = True) -> httpx.Response:
    return await client.post(f"/registry/households/{household_id}/verifications", headers=WRITE,
                             json={"level": level, "approved": approved, "officer": f"{level} leader",
                                   "note": "signed"})


async def registered_household(client: httpx.AsyncClient, village: str, **kwargs: Any) -> dict[str, Any]:
    household = await create_household(client, village, **kwargs)
    assert (await verify(client, household["household_id"], "town")).status_code == 201
    assert (await verify(client, household["household_id"], "county")).status_code == 201
    return household
