"""Maker-checker: an allocation above the fund year's approval threshold waits, moving nothing, until another
`finance:write` client approves it; at or below the threshold (or without one) allocations behave as before."""

import asyncio
import random
from collections import Counter
from decimal import Decimal

import httpx
from conftest import READER, WRITER, balance, new_county, receive, token, verify_ledger

from finance.funds.rules import needs_second_approval

CHECKER = token(WRITER, client_id="finance-checker")


def test_only_amounts_above_the_threshold_need_a_second_approval() -> None:
    assert needs_second_approval(Decimal("1000.01"), Decimal("1000.00")) is True
    assert needs_second_approval(Decimal("1000.00"), Decimal("1000.00")) is False
    assert needs_second_approval(Decimal("999999999.99"), None) is False


# Each call its own year, never one another test set: raising a year's threshold is a loosening change, which
# waits for a second approval (maker-checker), so a year drawn twice in a run kept the first test's threshold.
_YEARS = random.sample(range(2040, 2101), 61)


async def year_with_threshold(client: httpx.AsyncClient, threshold: str | None) -> int:
    year = _YEARS.pop()
    while not (await client.get(f"/finance/policies/{year}", headers=token(READER))).json()["is_default"]:
        year = _YEARS.pop()  # set by an earlier run on a database kept between runs
    answer = await client.put(f"/finance/policies/{year}", headers=token(WRITER), json={
        "floor_ratio": "0.02", "min_growth_rate": "0.10", "allocation_approval_threshold": threshold})
    assert answer.status_code == 200, answer.text
    assert answer.json()["allocation_approval_threshold"] == threshold
    return year


async def request(client: httpx.AsyncClient, fund_id: str, amount: str, program: str = "industry") -> dict:  # type: ignore[type-arg]
    answer = await client.post("/finance/allocations", headers=token(WRITER),
                               json={"from_fund_id": fund_id, "program": program, "amount": amount})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def decide(client: httpx.AsyncClient, allocation_id: str, approved: bool,
                 headers: dict[str, str] = CHECKER) -> httpx.Response:
    return await client.post(f"/finance/allocations/{allocation_id}/approval", headers=headers,
                             json={"approved": approved, "note": "checked against the project plan"})


async def test_no_threshold_by_default(client: httpx.AsyncClient) -> None:
    default = await client.get("/finance/policies/2020", headers=token(READER))
    assert default.json()["allocation_approval_threshold"] is None
    county = new_county()
    fund = await receive(client, county, "900000000.00")
    assert (await request(client, fund["fund_id"], "900000000.00"))["status"] == "allocated"


async def test_above_the_threshold_waits_for_another_client(client: httpx.AsyncClient) -> None:
    year = await year_with_threshold(client, "1000.00")
    county = new_county()
    fund = await receive(client, county, "5000.00", year=year)
    at_threshold = await request(client, fund["fund_id"], "1000.00")
    assert at_threshold["status"] == "allocated" and at_threshold["entry_id"] is not None
    waiting = await request(client, fund["fund_id"], "1000.01")
    assert waiting["status"] == "pending_approval" and waiting["entry_id"] is None
    assert waiting["fund_balance"] == "4000.00" and await balance(client, county, "industry") == "1000.00"
    queue = await client.get("/finance/allocations", headers=token(READER), params={"jurisdiction_code": county})
    assert [a["allocation_id"] for a in queue.json()] == [waiting["allocation_id"]]

    own = await decide(client, waiting["allocation_id"], True, headers=token(WRITER))
    assert own.status_code == 403 and own.json()["code"] == "self_approval_forbidden", own.text
    reader = await decide(client, waiting["allocation_id"], True, headers=token(READER, client_id="auditor"))
    assert reader.status_code == 403 and reader.json()["code"] == "forbidden"

    approved = await decide(client, waiting["allocation_id"], True)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "allocated" and body["decided_by"] == "finance-checker" and body["entry_id"]
    assert body["fund_balance"] == "2999.99" and body["account_balance"] == "2000.01"
    again = await decide(client, waiting["allocation_id"], True)
    assert again.status_code == 409 and again.json()["code"] == "allocation_not_pending"
    trail = (await client.get("/finance/ledger/entries", headers=token(READER),
                              params={"reference": waiting["allocation_id"]})).json()
    assert [(e["recorded_by"], e["note"]) for e in trail] == [
        ("finance-checker", "requested by gov-portal, approved by finance-checker: checked against the project plan")]
    await verify_ledger(client)


async def test_refused_allocation_moves_nothing(client: httpx.AsyncClient) -> None:
    year = await year_with_threshold(client, "10.00")
    county = new_county()
    fund = await receive(client, county, "100.00", year=year)
    waiting = await request(client, fund["fund_id"], "60.00")
    refused = await decide(client, waiting["allocation_id"], False)
    assert refused.status_code == 200 and refused.json()["status"] == "rejected", refused.text
    assert refused.json()["fund_balance"] == "100.00" and await balance(client, county, "industry") == "0.00"
    read = await client.get(f"/finance/allocations/{waiting['allocation_id']}", headers=token(READER))
    assert read.json()["status"] == "rejected" and read.json()["decision_note"] == "checked against the project plan"
    disclosed = await client.get(f"/finance/disclosures/{county}")
    assert disclosed.json()["allocations"] == []


async def test_approval_rechecks_the_fund_and_never_overdraws(client: httpx.AsyncClient) -> None:
    year = await year_with_threshold(client, "10.00")
    county = new_county()
    fund = await receive(client, county, "100.00", year=year)
    first = await request(client, fund["fund_id"], "60.00")
    second = await request(client, fund["fund_id"], "60.00")  # each fits the fund alone, not both
    answers = await asyncio.gather(decide(client, first["allocation_id"], True),
                                   decide(client, second["allocation_id"], True))
    assert Counter(a.status_code for a in answers) == {200: 1, 422: 1}, [a.text for a in answers]
    assert next(a for a in answers if a.status_code == 422).json()["code"] == "insufficient_funds"
    still = [a for a in (first, second) if (await client.get(
        f"/finance/allocations/{a['allocation_id']}", headers=token(READER))).json()["status"] == "pending_approval"]
    assert len(still) == 1
    assert await balance(client, county, "industry") == "60.00"
    await verify_ledger(client)


async def test_unknown_allocation_is_not_found(client: httpx.AsyncClient) -> None:
    answer = await decide(client, "7f0c3a52-5d7e-4c7e-9a43-1f5c8d7e2b10", True)
    assert answer.status_code == 404 and answer.json()["code"] == "allocation_not_found"


def test_only_a_loosening_threshold_change_needs_a_second_client() -> None:
    from finance.funds.rules import threshold_change_needs_approval

    assert threshold_change_needs_approval(None, Decimal("1000.00")) is False  # a first threshold: stricter
    assert threshold_change_needs_approval(Decimal("1000.00"), Decimal("1000.00")) is False
    assert threshold_change_needs_approval(Decimal("1000.00"), Decimal("999.99")) is False
    assert threshold_change_needs_approval(Decimal("1000.00"), Decimal("1000.01")) is True
    assert threshold_change_needs_approval(Decimal("1000.00"), None) is True


async def test_the_maker_cannot_raise_the_threshold_alone(client: httpx.AsyncClient) -> None:
    year = 2100  # its own year: the other tests draw theirs from 2040-2099
    first = await client.put(f"/finance/policies/{year}", headers=token(WRITER), json={
        "floor_ratio": "0.02", "min_growth_rate": "0.10", "allocation_approval_threshold": "1000.00"})
    assert first.status_code == 200 and first.json()["allocation_approval_threshold"] == "1000.00", first.text
    raised = await client.put(f"/finance/policies/{year}", headers=token(WRITER), json={
        "floor_ratio": "0.02", "min_growth_rate": "0.10", "allocation_approval_threshold": "900000.00"})
    assert raised.status_code == 200, raised.text
    assert raised.json()["allocation_approval_threshold"] == "1000.00"  # still in force
    assert raised.json()["pending_threshold_change"] == {"allocation_approval_threshold": "900000.00",
                                                         "requested_by": "gov-portal"}
    fund = await receive(client, new_county(), "5000.00", year=year)
    assert (await request(client, fund["fund_id"], "2000.00"))["status"] == "pending_approval"
    own = await client.post(f"/finance/policies/{year}/threshold-approval", headers=token(WRITER),
                            json={"approved": True})
    assert own.status_code == 403 and own.json()["code"] == "self_approval_forbidden"
    approved = await client.post(f"/finance/policies/{year}/threshold-approval", headers=CHECKER,
                                 json={"approved": True})
    assert approved.status_code == 200, approved.text
    assert approved.json()["allocation_approval_threshold"] == "900000.00"
    assert approved.json()["pending_threshold_change"] is None
    assert (await request(client, fund["fund_id"], "2000.00"))["status"] == "allocated"
    none_waiting = await client.post(f"/finance/policies/{year}/threshold-approval", headers=CHECKER,
                                     json={"approved": True})
    assert none_waiting.status_code == 409 and none_waiting.json()["code"] == "no_pending_change"
    # removing it is loosening too; a refusal keeps the threshold
    removed = await client.put(f"/finance/policies/{year}", headers=token(WRITER), json={
        "floor_ratio": "0.02", "min_growth_rate": "0.10", "allocation_approval_threshold": None})
    assert removed.json()["allocation_approval_threshold"] == "900000.00"
    refused = await client.post(f"/finance/policies/{year}/threshold-approval", headers=CHECKER,
                                json={"approved": False})
    assert refused.json()["allocation_approval_threshold"] == "900000.00"
    # lowering applies at once
    lowered = await client.put(f"/finance/policies/{year}", headers=token(WRITER), json={
        "floor_ratio": "0.02", "min_growth_rate": "0.10", "allocation_approval_threshold": "10.00"})
    assert lowered.json()["allocation_approval_threshold"] == "10.00"
