"""Maker-checker for allocations (issue 4, beyond the contract): above the fund year's approval threshold an allocation
is `201 pending_approval` and moves no money until a different `finance:write` client approves it. Without a
threshold (the default) allocations behave exactly as contract §5 says.

Only `gov-portal` holds `finance:write` among the demo clients, so approval by a second client is proven in the
service's own suite (tests/test_allocation_approval.py); here: the waiting, the refusals, and what stays unmoved."""

import random
import uuid

import httpx
import pytest
from test_finance import Auth, accounts, allocate, fund_balance, new_county, problem, send


async def year_with_threshold(http: httpx.AsyncClient, gov: dict[str, str], threshold: str) -> int:
    year = random.randint(2070, 2099)  # 2040-2069 belong to test_finance.py's policy test
    answer = await send(http, "PUT", f"/finance/policies/{year}", headers=gov, json={
        "floor_ratio": "0.02", "min_growth_rate": "0.10", "allocation_approval_threshold": threshold})
    assert answer.status_code == 200 and answer.json()["allocation_approval_threshold"] == threshold, answer.text
    return year


async def fund_of_year(http: httpx.AsyncClient, gov: dict[str, str], county: str, year: int, amount: str) -> str:
    answer = await send(http, "POST", "/finance/funds", headers=gov, json={
        "jurisdiction_code": county, "year": year, "source": "central", "purpose": "industry", "amount": amount})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["fund_id"])


async def test_default_policy_has_no_threshold(http: httpx.AsyncClient, auth: Auth) -> None:
    policy = await send(http, "GET", "/finance/policies/2020", headers=await auth("auditor"))
    assert policy.status_code == 200 and policy.json()["allocation_approval_threshold"] is None, policy.text


async def test_allocation_above_the_threshold_waits_and_moves_nothing(http: httpx.AsyncClient, auth: Auth) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    year = await year_with_threshold(http, gov, "1000.00")
    county = new_county()
    fund_id = await fund_of_year(http, gov, county, year, "5000.00")

    at_threshold = await allocate(http, gov, fund_id, "industry", "1000.00")
    assert at_threshold.status_code == 201 and at_threshold.json()["status"] == "allocated", at_threshold.text
    waiting = await allocate(http, gov, fund_id, "industry", "1000.01")
    assert waiting.status_code == 201 and waiting.json()["status"] == "pending_approval", waiting.text
    allocation_id = waiting.json()["allocation_id"]
    assert waiting.json()["fund_balance"] == "4000.00" and waiting.json()["entry_id"] is None
    assert await fund_balance(http, auditor, fund_id) == "4000.00"
    assert (await accounts(http, auditor, county))["industry"] == "1000.00"
    # more than the fund holds is refused at once, threshold or not
    problem(await allocate(http, gov, fund_id, "industry", "4000.01"), 422, "insufficient_funds")

    read = await send(http, "GET", f"/finance/allocations/{allocation_id}", headers=auditor)
    assert read.status_code == 200 and read.json()["status"] == "pending_approval", read.text
    queue = await send(http, "GET", "/finance/allocations", headers=auditor, params={"jurisdiction_code": county})
    assert [a["allocation_id"] for a in queue.json()] == [allocation_id], queue.text

    for approved in (True, False):  # the maker can neither approve nor refuse its own allocation
        own = await send(http, "POST", f"/finance/allocations/{allocation_id}/approval", headers=gov,
                         json={"approved": approved, "note": "my own"})
        problem(own, 403, "self_approval_forbidden")
    for client_id in ("auditor", "bank-demo", "his-demo"):
        other = await send(http, "POST", f"/finance/allocations/{allocation_id}/approval",
                           headers=await auth(client_id), json={"approved": True})
        problem(other, 403, "forbidden")
    assert await fund_balance(http, auditor, fund_id) == "4000.00"
    assert (await send(http, "GET", f"/finance/allocations/{allocation_id}", headers=auditor)).json()[
        "status"] == "pending_approval"
    # the public disclosure (this year by default) counts only money that moved
    disclosed = await send(http, "GET", f"/finance/disclosures/{county}")
    assert [a["amount"] for a in disclosed.json()["allocations"]] == ["1000.00"], disclosed.text


@pytest.mark.parametrize("body", [{"approved": "maybe"}, {}])
async def test_approval_errors(http: httpx.AsyncClient, auth: Auth, body: dict) -> None:
    gov = await auth("gov-portal")
    invalid = await send(http, "POST", f"/finance/allocations/{uuid.uuid4()}/approval", headers=gov, json=body)
    assert problem(invalid, 422, "validation_error")["errors"][0]["field"] == "approved"
    unknown = await send(http, "POST", f"/finance/allocations/{uuid.uuid4()}/approval", headers=gov,
                         json={"approved": True})
    problem(unknown, 404, "allocation_not_found")
    problem(await send(http, "GET", f"/finance/allocations/{uuid.uuid4()}", headers=gov), 404, "allocation_not_found")
