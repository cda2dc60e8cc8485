"""The monthly run: one benefit per case and month however many runs, concurrent or repeated; payment-completed
marks benefits paid; household-removed stops cases and cancels unpaid benefits with benefit-cancelled."""

import asyncio
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import READ, WRITE
from wf_support import Bus, member

from fupin_events.payloads import PaymentCompleted
from fupin_kit.clock import today
from welfare.benefits import payments
from welfare.benefits import run as run_module
from welfare.months import add_months, month_of


async def open_case(client: httpx.AsyncClient, bus: Bus, opened_on: str = "2019-01-01") -> tuple[str, str]:
    household_id = await bus.household(member("1980-01-01", labor="none"), member("1982-01-01", relation="spouse"))
    answer = await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": household_id, "annual_income": "1200.00", "assessed_on": opened_on, "opened_on": opened_on})
    assert answer.status_code == 201, answer.text
    return household_id, answer.json()["case_id"]


async def test_concurrent_and_repeated_runs_create_one_benefit_per_case(client: httpx.AsyncClient,
                                                                       bus: Bus) -> None:
    household_id, case_id = await open_case(client, bus)
    answers = await asyncio.gather(*(client.post("/welfare/runs", headers=WRITE, json={"month": "2019-03"})
                                     for _ in range(6)))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert sum(a.json()["created"]["minimum_living"] for a in answers) >= 1
    benefits = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()
    assert [b["month"] for b in benefits] == ["2019-03"]
    assert benefits[0]["amount"] == "524.50"  # 312.25 × 2 − 100.00
    repeated = await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-03"})
    assert repeated.json()["created"] == {"minimum_living": 0, "eco_ranger": 0}
    assert repeated.json()["already_existing"] >= 1 and repeated.json()["total_amount"] == "0.00"
    assert len([d for d in await bus.outbox("benefit-due", household_id) if d["month"] == "2019-03"]) == 1
    run = await client.get(f"/welfare/runs/{repeated.json()['run_id']}", headers=READ)
    assert run.status_code == 200 and run.json()["month"] == "2019-03"
    assert (await client.get("/welfare/runs/nope", headers=READ)).json()["code"] == "run_not_found"


async def test_a_run_in_chunks_creates_one_benefit_per_case(client: httpx.AsyncClient, bus: Bus,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The run commits chunks of cases one after the other; concurrent runs in chunks of two still create one
    benefit (and one `benefit-due`) per case, and their counts add up to the month's benefits."""
    monkeypatch.setattr(run_module, "CHUNK", 2)
    cases = [await open_case(client, bus, opened_on="2017-01-01") for _ in range(5)]
    answers = await asyncio.gather(*(client.post("/welfare/runs", headers=WRITE, json={"month": "2017-06"})
                                     for _ in range(3)))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    for household_id, case_id in cases:
        benefits = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()
        assert [(b["month"], b["amount"]) for b in benefits] == [("2017-06", "455.84")]  # 277.92 × 2 − 100.00
        assert len([d for d in await bus.outbox("benefit-due", household_id) if d["month"] == "2017-06"]) == 1
    created = sum(a.json()["created"]["minimum_living"] for a in answers)
    assert created == await bus.fetchval("SELECT count(*) FROM benefits WHERE month = '2017-06'")
    assert sum(Decimal(a.json()["total_amount"]) for a in answers) == await bus.fetchval(
        "SELECT sum(amount) FROM benefits WHERE month = '2017-06'")


async def test_month_in_future_and_validation(client: httpx.AsyncClient) -> None:
    future = await client.post("/welfare/runs", headers=WRITE, json={"month": add_months(month_of(today()), 1)})
    assert future.status_code == 422 and future.json()["code"] == "month_in_future"
    current = await client.post("/welfare/runs", headers=WRITE, json={"month": month_of(today())})
    assert current.status_code == 201
    bad = await client.post("/welfare/runs", headers=WRITE, json={"month": "2020-13"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    assert (await client.post("/welfare/runs", headers=READ, json={"month": "2020-01"})).status_code == 403


async def test_payment_completed_marks_paid(client: httpx.AsyncClient, bus: Bus) -> None:
    _, case_id = await open_case(client, bus)
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-04"})
    benefit = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()[0]
    await bus.pay(benefit)
    await bus.wait_until("SELECT status FROM benefits WHERE benefit_id = $1::uuid", benefit["benefit_id"],
                         expect="paid")
    paid = (await client.get(f"/welfare/benefits/{benefit['benefit_id']}", headers=READ)).json()
    assert paid["status"] == "paid" and paid["paid_at"] is not None


async def test_household_removed_stops_everything_and_cancels_unpaid(client: httpx.AsyncClient, bus: Bus) -> None:
    members = [member("1980-01-01", labor="none"), member("1982-01-01", relation="spouse")]
    household_id = await bus.household(*members)
    case = await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": household_id, "annual_income": "1200.00", "assessed_on": "2019-01-01",
        "opened_on": "2019-01-01"})
    case_id = case.json()["case_id"]
    relocation = await client.post("/welfare/relocations", headers=WRITE, json={
        "household_id": household_id, "destination_village_code": "610723102001", "site_name": "新村",
        "planned_year": 2027})
    for month in ("2019-05", "2019-06", "2019-07"):
        await client.post("/welfare/runs", headers=WRITE, json={"month": month})
    benefits = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()
    await bus.pay(benefits[0])
    await bus.wait_until("SELECT status FROM benefits WHERE benefit_id = $1::uuid", benefits[0]["benefit_id"],
                         expect="paid")

    await bus.set_status(household_id, "removed", members)
    await bus.wait_until("SELECT status FROM cases WHERE case_id = $1::uuid", case_id, expect="stopped")
    after = {b["month"]: b["status"] for b in
             (await client.get(f"/welfare/benefits?household_id={household_id}", headers=READ)).json()}
    assert after == {"2019-05": "paid", "2019-06": "cancelled", "2019-07": "cancelled"}
    cancelled = await bus.outbox("benefit-cancelled", household_id)
    assert sorted(c["benefit_id"] for c in cancelled) == sorted(b["benefit_id"] for b in benefits[1:])
    assert {c["reason_code"] for c in cancelled} == {"household_removed"}
    assert (await client.get(f"/welfare/cases/{case_id}", headers=READ)).json()["status"] == "stopped"
    assert (await client.get(f"/welfare/relocations/{relocation.json()['relocation_id']}",
                             headers=READ)).json()["status"] == "stopped"
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-08"})
    assert len((await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()) == 3
    refused = await client.post("/welfare/temporary-assistance", headers=WRITE, json={
        "household_id": household_id, "amount": "10", "cause": "other", "decided_on": "2019-08-01"})
    assert refused.status_code == 422 and refused.json()["code"] == "not_registered_poor"

    # a payment announced after the cancellation still wins: the money left
    await bus.pay(benefits[1])
    await bus.wait_until("SELECT status FROM benefits WHERE benefit_id = $1::uuid", benefits[1]["benefit_id"],
                         expect="paid")


async def test_case_month_bounds_in_runs(client: httpx.AsyncClient, bus: Bus) -> None:
    _, case_id = await open_case(client, bus, opened_on="2019-09-30")
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-08"})
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-09"})
    await client.post(f"/welfare/cases/{case_id}/closure", headers=WRITE,
                      json={"closed_on": "2019-10-01", "reason": "moved"})
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-10"})
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2019-11"})
    months = [b["month"] for b in (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()]
    assert months == ["2019-09", "2019-10"]




async def test_a_burst_of_payments_marks_each_benefit_paid_once(client: httpx.AsyncClient, bus: Bus) -> None:
    """payment-completed is applied a poll batch at a time: every benefit of the burst is marked paid, the first
    payment of a benefit counts, and events of other programmes, reversals and odd references change nothing."""
    _, case_id = await open_case(client, bus, opened_on="2018-01-01")
    for number in range(1, 13):
        await client.post("/welfare/runs", headers=WRITE, json={"month": f"2018-{number:02d}"})
    benefits = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()
    assert len(benefits) == 12
    first_payment = str(uuid.uuid4())
    await bus.publish("payment-completed", benefits[0]["benefit_id"], payment(benefits[0], first_payment),
                      source="finance")
    await bus.publish("payment-completed", benefits[0]["benefit_id"], payment(benefits[0], str(uuid.uuid4())),
                      source="finance")
    await bus.publish("payment-completed", "loan-1", {**payment(benefits[1], str(uuid.uuid4())),
                                                      "program": "loan_interest_subsidy", "reference": "loan-1"},
                      source="finance")
    await bus.publish("payment-completed", benefits[1]["benefit_id"],
                      {**payment(benefits[1], str(uuid.uuid4())), "reference": "not-a-benefit"}, source="finance")
    await bus.publish("payment-completed", benefits[2]["benefit_id"],
                      {**payment(benefits[2], str(uuid.uuid4())), "status": "reversed"}, source="finance")
    await asyncio.gather(*(bus.pay(b) for b in benefits[1:]))
    await bus.wait_until("SELECT count(*) FROM benefits WHERE case_id = $1::uuid AND status = 'paid'", case_id,
                         expect=12)
    assert await bus.fetchval("SELECT payment_id FROM benefits WHERE benefit_id = $1::uuid",
                              benefits[0]["benefit_id"]) == first_payment
    assert all(b["paid_at"] for b in (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json())


def payment(benefit: dict[str, Any], payment_id: str) -> dict[str, Any]:
    return PaymentCompleted.model_validate(dict(
        payment_id=payment_id, reference=benefit["benefit_id"], program="minimum_living",
        payee=f"household:{benefit['household_id']}", amount=benefit["amount"], status="paid",
        county_code=benefit["county_code"], village_code=benefit["village_code"],
        paid_at=dt.datetime.now(dt.UTC))).model_dump(mode="json")


def test_a_payment_read_from_its_bytes_is_the_prepared_event() -> None:
    """The batch's fast path (`read`) gives what `prepare` gives from the parsed envelope, for a welfare payment
    (paid_at given or taken from the envelope's time), another programme's and a reversal (None)."""
    benefit = {"benefit_id": str(uuid.uuid4()), "household_id": str(uuid.uuid4()), "amount": "524.50",
               "county_code": "610723", "village_code": "610723100201"}
    paid = payment(benefit, str(uuid.uuid4()))
    for data in (paid, {**paid, "paid_at": None}, {**paid, "program": "loan_interest_subsidy"},
                 {**paid, "status": "reversed"}):
        event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "finance", "time": "2020-03-02T01:00:00Z",
                 "type": "cn.fupin.payment-completed", "subject": benefit["benefit_id"], "data": data}
        assert payments.read(json.dumps(event).encode()) == (event["id"], payments.prepare(event))
    assert payments.read(json.dumps({**event, "data": paid}).encode())[1] is not None
