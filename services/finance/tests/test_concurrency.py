"""Many allocations at once against one fund that covers only part of them: never below zero, exact totals."""

import asyncio
from collections import Counter

import httpx
from conftest import READER, allocate, balance, new_county, receive, token, verify_ledger

ATTEMPTS = 120


async def test_parallel_allocations_never_overdraw(client: httpx.AsyncClient) -> None:
    county = new_county()
    fund = await receive(client, county, "755.00")  # covers 75 allocations of 10.00, not 76
    programs = ("education_grants", "medical_assistance", "industry")
    answers = await asyncio.gather(*(allocate(client, fund["fund_id"], programs[i % 3], "10.00")
                                     for i in range(ATTEMPTS)))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 75, 422: ATTEMPTS - 75}, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 422} == {"insufficient_funds"}
    fund_after = await client.get(f"/finance/funds/{fund['fund_id']}", headers=token(READER))
    assert fund_after.json()["balance"] == "5.00"
    granted = Counter(programs[i % 3] for i, a in enumerate(answers) if a.status_code == 201)
    for program in programs:
        assert await balance(client, county, program) == f"{granted[program] * 10}.00"
    report = await verify_ledger(client)
    assert report["mismatched_accounts"] == []
