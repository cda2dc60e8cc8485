"""The run computes 低保 amounts in SQL (welfare.benefits.run.RUN_SQL): it must agree to the fen with the pure rule
`welfare.cases.rules.monthly_amount` at every boundary — ages 60 and 18 reached on the first day of the month or the
day after, a 29 February birthday, members born on or after the first day, disability grades 2 and 3, a zero base,
a zero amount (nothing created), shares tied and a zero share — and on random households.

The households and cases are written straight into the service's real database (the read model and `cases`, as the
benchmark seeds them), so that a few hundred of them cost a second; the run goes through `POST /welfare/runs`."""

import datetime as dt
import json
import random
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from conftest import READ, WRITE
from wf_support import Bus

from welfare.cases.rules import Member, monthly_amount
from welfare.policies.models import PolicyIn
from welfare.policies.rules import WelfarePolicy

D = Decimal
VILLAGE = "610798101001"  # a county the demo never funds (see wf_support.TEST_VILLAGE)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


async def seed(dsn: str, households: list[tuple[list[tuple[dt.date, int | None]], Decimal]],
               opened_on: dt.date) -> dict[str, tuple[list[Member], dict[str, int], Decimal]]:
    """Each household: members (birth date, disability grade or None) and the annual income of its open case."""
    now = dt.datetime.now(dt.UTC)
    rows_h, rows_m, rows_c, rows_a = [], [], [], []
    facts = {}
    for members, income in households:
        household_id, case_id = str(uuid.uuid4()), uuid.uuid4()
        rows_h.append((household_id, "registered", VILLAGE, VILLAGE[:9], VILLAGE[:6], "[]", now, None))
        listed, grades = [], {}
        for position, (born, grade) in enumerate(members):
            member_id = str(uuid.uuid4())
            rows_m.append((member_id, household_id, uuid.uuid4().hex, born, "other", "none", position))
            listed.append(Member(member_id, born))
            if grade is not None:
                grades[member_id] = grade
        rows_c.append((case_id, household_id, VILLAGE[:6], VILLAGE, "active", opened_on, "test", now))
        rows_a.append((case_id, opened_on, income, json.dumps(grades), now))
        facts[str(case_id)] = (listed, grades, income)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("households", records=rows_h, columns=(
                "household_id", "status", "village_code", "town_code", "county_code", "causes", "occurred_at",
                "sequence"))
            await conn.copy_records_to_table("members", records=rows_m, columns=(
                "member_id", "household_id", "person_ref", "birth_date", "relation", "labor", "position"))
            await conn.copy_records_to_table("cases", records=rows_c, columns=(
                "case_id", "household_id", "county_code", "village_code", "status", "opened_on", "created_by",
                "created_at"))
            await conn.copy_records_to_table("case_assessments", records=rows_a, columns=(
                "case_id", "assessed_on", "annual_income", "disabled", "created_at"))
    finally:
        await conn.close()
    return facts


async def benefits_of(dsn: str, case_ids: list[str], month: str) -> dict[str, dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT case_id::text AS case_id, amount, breakdown::text AS breakdown FROM benefits "
                                "WHERE case_id = ANY($1::uuid[]) AND month = $2", case_ids, month)
        return {r["case_id"]: {"amount": r["amount"], "breakdown": json.loads(r["breakdown"])} for r in rows}
    finally:
        await conn.close()


async def policy(client: httpx.AsyncClient, year: int) -> WelfarePolicy:
    answer = await client.get(f"/welfare/policies/{year}", headers=READ)
    assert answer.status_code == 200, answer.text
    terms = {k: v for k, v in answer.json().items() if k not in ("year", "is_default")}
    return PolicyIn.model_validate(terms).to_policy()


def boundary_households(day: dt.date) -> list[tuple[list[tuple[dt.date, int | None]], Decimal]]:
    y = day.year
    return [
        ([(day.replace(year=y - 60), None), (day.replace(year=y - 60) + dt.timedelta(days=1), None)], D("0")),
        ([(day.replace(year=y - 18), None), (day.replace(year=y - 18) + dt.timedelta(days=1), None)], D("1200.00")),
        ([(dt.date(y - 60, 2, 29) if y % 4 == 0 else dt.date(y - 61, 2, 28), None), (day, None),
          (day + dt.timedelta(days=1), None)], D("600.06")),
        ([(d("1980-05-05"), 2), (d("1981-05-05"), 3), (d("1950-05-05"), 1), (d("2010-05-05"), 4)], D("5000.00")),
        ([(d("1950-01-01"), 2), (d("2012-01-01"), None)], D("99999.00")),  # base 0, supplements only
        ([(d("1980-01-01"), None), (d("1982-01-01"), None)], D("99999.00")),  # nothing at all: no benefit
        ([(day + dt.timedelta(days=3), None)], D("0")),  # no member yet on the first day: no benefit
        ([(d("1990-06-06"), None)], D("0.06")),  # income / 12 = 0.005: half-up
    ]


def random_households(rng: random.Random, day: dt.date, count: int) -> list[tuple[list[tuple[dt.date, int | None]],
                                                                                 Decimal]]:
    households = []
    for _ in range(count):
        members = [(day - dt.timedelta(days=rng.randrange(-40, 90 * 365)),
                    rng.choice([None, None, None, 1, 2, 3, 4])) for _ in range(rng.randint(1, 6))]
        households.append((members, D(rng.randrange(0, 3_000_000)) / 100))
    return households


async def check_month(client: httpx.AsyncClient, bus: Bus, month: str, seed_value: int) -> None:
    day = d(f"{month}-01")
    facts = await seed(bus.dsn, boundary_households(day) + random_households(random.Random(seed_value), day, 150),
                       opened_on=day)
    run = await client.post("/welfare/runs", headers=WRITE, json={"month": month})
    assert run.status_code == 201, run.text
    rule = await policy(client, day.year)
    created = await benefits_of(bus.dsn, list(facts), month)
    for case_id, (members, grades, income) in facts.items():
        expected = monthly_amount(members, day, income, grades, rule)
        if expected.amount <= 0:
            assert case_id not in created, (month, case_id)
            continue
        assert case_id in created, (month, case_id, expected)
        got = created[case_id]
        assert got["amount"] == expected.amount, (month, members, grades, income, got, expected)
        assert got["breakdown"] == {**expected.breakdown(), "members": expected.members,
                                    "standard": f"{expected.standard:.2f}"}, (month, got, expected)


async def test_run_sql_agrees_with_the_pure_rule_under_the_default_policy(client: httpx.AsyncClient,
                                                                          bus: Bus) -> None:
    await check_month(client, bus, "2017-03", 17)


async def test_run_sql_agrees_with_the_pure_rule_with_tied_and_zero_shares(client: httpx.AsyncClient,
                                                                           bus: Bus) -> None:
    default = (await client.get("/welfare/policies/2016", headers=READ)).json()
    body = {**{k: v for k, v in default.items() if k not in ("year", "is_default")},
            "minimum_living_standard": "246.05",
            "supplements": {"elderly": "0.25", "minor": "0.00", "severe_disability": "0.25"}}
    put = await client.put("/welfare/policies/2016", headers=WRITE, json=body)
    assert put.status_code in (200, 201), put.text
    await check_month(client, bus, "2016-03", 16)
