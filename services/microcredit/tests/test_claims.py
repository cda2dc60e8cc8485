"""POST /microcredit/interest-claims: the quarterly subsidy on boundaries, per-item refusals and the event."""

import datetime as dt
import uuid

import httpx
import pytest
from conftest import KAFKA, token
from mc_support import BANK, GOV_WRITE, OTHER_BANK, Registry, member, resident_id

from fupin_kit.clock import today
from fupin_kit.testing import wait_for_event

CLAIMS = "/microcredit/interest-claims"


@pytest.fixture
async def new_loan(client: httpx.AsyncClient, registry: Registry):  # type: ignore[no-untyped-def]
    """Grant a loan to the head of a new registered household (40 years old in 2020)."""
    async def grant(*, amount: str = "50000.00", disbursed_on: str = "2019-12-01", annual_rate: str = "4.35",
                    bank: dict = BANK) -> str:
        id_number = resident_id(dt.date(1980, 3, 3))
        await registry.household("registered", member(id_number), village_code="610723105006")
        answer = await client.post("/microcredit/loans", headers=token(**bank), json={
            "id_number": id_number, "amount": amount, "term_months": 36, "annual_rate": annual_rate,
            "disbursed_on": disbursed_on, "purpose": "greenhouse"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["loan_id"])
    return grant


async def repay(client: httpx.AsyncClient, loan_id: str, amount: str, paid_on: str) -> None:
    answer = await client.post(f"/microcredit/loans/{loan_id}/repayments", json={"amount": amount, "paid_on": paid_on},
                               headers=token(**BANK))
    assert answer.status_code == 200, answer.text


async def claim(client: httpx.AsyncClient, period: str, *items: tuple[str, str], bank: dict = BANK) -> dict:
    answer = await client.post(CLAIMS, headers=token(**bank), json={
        "period": period, "items": [{"loan_id": loan_id, "interest": interest} for loan_id, interest in items]})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_subsidy_on_the_quarter_boundaries(client: httpx.AsyncClient, new_loan) -> None:  # type: ignore[no-untyped-def]
    whole = await new_loan()                                   # the whole leap Q1: 91 days
    mid = await new_loan(disbursed_on="2020-02-15")            # 46 days
    repaid = await new_loan()                                  # repaid in full on 1 Feb: 31 days
    await repay(client, repaid, "50000.00", "2020-02-01")
    partly = await new_loan()                                  # 40000 for 60 days then 20000 for 31
    await repay(client, partly, "10000.00", "2019-12-20")
    await repay(client, partly, "20000.00", "2020-03-01")
    dear = await new_loan(annual_rate="6.00")                  # subsidised at the benchmark only
    capped = await new_loan()                                  # the bank claims less than the formula gives
    body = await claim(client, "2020Q1", (whole, "600.00"), (mid, "300.00"), (repaid, "200.00"),
                       (partly, "400.00"), (dear, "760.00"), (capped, "500.00"))
    assert [(i["loan_id"], i["claimed"], i["subsidy"], i["days_active"], i["reason"]) for i in body["items"]] == [
        (whole, "600.00", "549.79", 91, None),
        (mid, "300.00", "277.92", 46, None),
        (repaid, "200.00", "187.29", 31, None),
        (partly, "400.00", "364.92", 91, None),
        (dear, "760.00", "549.79", 91, None),
        (capped, "500.00", "500.00", 91, None),
    ]
    assert body["subsidy_total"] == "2429.71"
    assert body["period"] == "2020Q1" and body["bank_code"] == "B001"
    event = await wait_for_event(KAFKA, "interest-subsidy-claimed", body["claim_id"])
    data = event["data"]
    assert (data["claim_id"], data["bank_code"], data["period"], data["subsidy_total"]) == (
        body["claim_id"], "B001", "2020Q1", "2429.71")
    assert data["items"][0] == {"loan_id": whole, "county_code": "610723", "village_code": "610723105006",
                                "subsidy": "549.79"}
    assert len(data["items"]) == 6


async def test_refusals_per_item(client: httpx.AsyncClient, new_loan) -> None:  # type: ignore[no-untyped-def]
    active = await new_loan()
    later = await new_loan(disbursed_on="2020-04-01")          # first active day after Q1
    closed = await new_loan()
    await repay(client, closed, "50000.00", "2020-01-01")      # repaid on the quarter's first day: 0 days
    others = await new_loan(bank=OTHER_BANK)
    unknown = str(uuid.uuid4())
    body = await claim(client, "2020Q1", (active, "549.79"), (later, "10.00"), (closed, "10.00"), (others, "10.00"),
                       (unknown, "10.00"), ("rubbish", "10.00"), (active, "549.79"))
    assert [(i["subsidy"], i["reason"]) for i in body["items"]] == [
        ("549.79", None), ("0.00", "not_active"), ("0.00", "not_active"), ("0.00", "loan_not_found"),
        ("0.00", "loan_not_found"), ("0.00", "loan_not_found"), ("0.00", "already_claimed")]
    assert body["subsidy_total"] == "549.79"
    again = await claim(client, "2020Q1", (active, "549.79"))
    assert (again["items"][0]["reason"], again["subsidy_total"]) == ("already_claimed", "0.00")
    next_quarter = await claim(client, "2020Q2", (active, "10.00"), (later, "10.00"))
    assert [i["reason"] for i in next_quarter["items"]] == [None, None]


async def test_concurrent_claims_subsidise_a_loan_once(client: httpx.AsyncClient, new_loan) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    loan_id = await new_loan()
    answers = await asyncio.gather(*[client.post(CLAIMS, headers=token(**BANK), json={
        "period": "2020Q3", "items": [{"loan_id": loan_id, "interest": "1000.00"}]}) for _ in range(4)])
    reasons = sorted(str(a.json()["items"][0]["reason"]) for a in answers)
    assert reasons == ["None", "already_claimed", "already_claimed", "already_claimed"]


async def test_invalid_claims(client: httpx.AsyncClient, new_loan) -> None:  # type: ignore[no-untyped-def]
    loan_id = await new_loan()
    year, quarter = today().year, (today().month - 1) // 3 + 1
    cases = [({"period": f"{year}Q{quarter}"}, "period"), ({"period": "2020Q5"}, "period"),
             ({"period": "2020-1"}, "period"), ({"period": "0000Q1"}, "period"),
             ({"period": "9999Q4"}, "period"), ({"items": []}, "items"),
             ({"items": [{"loan_id": loan_id, "interest": "-1"}]}, "items.0.interest"),
             ({"items": [{"loan_id": loan_id}]}, "items.0.interest"),
             ({"items": [{"loan_id": "a\x00b", "interest": "1.00"}]}, "items.0.loan_id")]  # NUL: was a 500
    for change, field in cases:
        body = {"period": "2020Q1", "items": [{"loan_id": loan_id, "interest": "1.00"}], **change}
        answer = await client.post(CLAIMS, json=body, headers=token(**BANK))
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error"), change
        assert answer.json()["errors"][0]["field"] == field
    assert (await client.post(CLAIMS, json={"period": "2020Q1", "items": []})).status_code == 401
    assert (await client.post(CLAIMS, json={"period": "2020Q1", "items": []},
                              headers=token(**GOV_WRITE))).status_code == 403
