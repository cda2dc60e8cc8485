"""Welfare payments (contract v2 §5): `benefit-due` pays from the county's welfare programme account of its kind,
exactly once however often delivered; `benefit-cancelled` reverses a payment still waiting for funds."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from conftest import (
    KAFKA,
    READER,
    allocate,
    balance,
    deliver,
    fund_program,
    has,
    new_county,
    payments_when,
    publish,
    receive,
    token,
    verify_ledger,
    village_of,
)

from fupin_kit import clock
from fupin_kit.db import Database
from fupin_kit.events.envelope import cloud_event
from fupin_kit.testing import wait_for_event

KINDS = {"minimum_living": "minimum_living", "temporary_assistance": "temporary_assistance",
         "eco_ranger": "eco_rangers", "relocation": "relocation"}


def benefit(county: str, amount: str, *, kind: str = "minimum_living", household_id: str | None = None,
            benefit_id: str | None = None) -> dict[str, Any]:
    return {"benefit_id": benefit_id or str(uuid.uuid4()), "kind": kind, "case_id": str(uuid.uuid4()),
            "household_id": household_id or str(uuid.uuid4()), "county_code": county,
            "village_code": village_of(county), "month": "2026-11", "amount": amount}


def cancellation(data: dict[str, Any]) -> dict[str, Any]:
    return {"benefit_id": data["benefit_id"], "household_id": data["household_id"], "reason_code": "household_removed"}


async def test_each_kind_is_paid_once_from_its_programme_account(http: httpx.AsyncClient,
                                                                 producer: AIOKafkaProducer) -> None:
    county = new_county()
    for program in KINDS.values():
        await fund_program(http, county, program, "1000.00")
    benefits = {kind: benefit(county, "310.50", kind=kind) for kind in KINDS}
    events = {kind: await publish(producer, "benefit-due", data["household_id"], data)
              for kind, data in benefits.items()}
    for kind, data in benefits.items():
        [payment] = await payments_when(http, data["benefit_id"], has("paid"))
        assert payment["program"] == KINDS[kind] and payment["amount"] == "310.50"
        assert payment["payee"] == f"household:{data['household_id']}"
        assert payment["reference"] == data["benefit_id"] and payment["county_code"] == county
        assert payment["village_code"] == data["village_code"]
        assert await balance(http, county, KINDS[kind]) == "689.50"

    # the same events again, and the same benefit under a new event id: nothing more is paid
    data = benefits["minimum_living"]
    await publish(producer, "benefit-due", data["household_id"], data, event=events["minimum_living"])
    await publish(producer, "benefit-due", data["household_id"], data)
    marker = benefit(county, "0.50", household_id=data["household_id"])
    await publish(producer, "benefit-due", data["household_id"], marker)  # same key: behind them on the partition
    await payments_when(http, marker["benefit_id"], has("paid"))
    assert len(await payments_when(http, data["benefit_id"], has("paid"))) == 1
    assert await balance(http, county, "minimum_living") == "689.00"

    completed = await wait_for_event(KAFKA, "payment-completed", data["benefit_id"])
    assert completed["data"]["status"] == "paid" and completed["data"]["program"] == "minimum_living"
    assert completed["data"]["payee"] == f"household:{data['household_id']}"
    assert completed["data"]["amount"] == "310.50" and completed["data"]["county_code"] == county
    assert dt.datetime.fromisoformat(completed["data"]["paid_at"]).tzinfo is not None

    # disclosures show the welfare programmes
    year = clock.today().year
    body = (await http.get(f"/finance/disclosures/{county}", params={"year": year})).json()
    assert {p["program"]: p["amount"] for p in body["programs"]} == {
        "eco_rangers": "310.50", "minimum_living": "311.00", "relocation": "310.50", "temporary_assistance": "310.50"}
    await verify_ledger(http)


async def test_welfare_accounts_accept_allocations(http: httpx.AsyncClient) -> None:
    county = new_county()
    fund = await receive(http, county, "400.00")
    for program in KINDS.values():
        answer = await allocate(http, fund["fund_id"], program, "100.00")
        assert answer.status_code == 201, answer.text
    accounts = (await http.get("/finance/accounts", headers=token(READER),
                               params={"jurisdiction_code": county})).json()
    assert {a["program"]: a["balance"] for a in accounts if a["program"] in KINDS.values()} == {
        program: "100.00" for program in KINDS.values()}


async def test_short_account_waits_and_pays_oldest_first(http: httpx.AsyncClient,
                                                         producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    first, second = (benefit(county, amount, household_id=household) for amount in ("500.00", "400.00"))
    await publish(producer, "benefit-due", household, first)
    await publish(producer, "benefit-due", household, second)
    await payments_when(http, second["benefit_id"], has("pending_funds"))
    await payments_when(http, first["benefit_id"], has("pending_funds"))

    fund = await receive(http, county, "900.00")
    assert (await allocate(http, fund["fund_id"], "minimum_living", "600.00")).status_code == 201
    await payments_when(http, first["benefit_id"], has("paid"))
    await payments_when(http, second["benefit_id"], has("pending_funds"))
    assert (await allocate(http, fund["fund_id"], "minimum_living", "300.00")).status_code == 201
    [paid] = await payments_when(http, second["benefit_id"], has("paid"))
    assert await balance(http, county, "minimum_living") == "0.00"
    first_paid = (await payments_when(http, first["benefit_id"], has("paid")))[0]["paid_at"]
    assert dt.datetime.fromisoformat(first_paid) < dt.datetime.fromisoformat(paid["paid_at"])
    await verify_ledger(http)


async def test_cancellation_reverses_a_waiting_payment_and_leaves_a_paid_one(http: httpx.AsyncClient,
                                                                             producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    await fund_program(http, county, "eco_rangers", "100.00")
    paid = benefit(county, "80.00", kind="eco_ranger", household_id=household)
    waiting = benefit(county, "70.00", kind="eco_ranger", household_id=household)
    await publish(producer, "benefit-due", household, paid)
    await publish(producer, "benefit-due", household, waiting)
    await payments_when(http, waiting["benefit_id"], has("pending_funds"))

    await publish(producer, "benefit-cancelled", household, cancellation(waiting))
    await publish(producer, "benefit-cancelled", household, cancellation(paid))
    [reversed_] = await payments_when(http, waiting["benefit_id"], has("reversed"))
    assert reversed_["reversed_at"] is not None and reversed_["paid_at"] is None
    announced = await wait_for_event(KAFKA, "payment-completed", waiting["benefit_id"])
    assert announced["data"]["status"] == "reversed" and announced["data"]["paid_at"] is None

    # the paid one stays paid, the reversed one moved nothing and is never paid, even when money arrives
    marker = benefit(county, "1.00", kind="eco_ranger", household_id=household)
    await publish(producer, "benefit-cancelled", household, cancellation(paid))  # a redelivery changes nothing
    await publish(producer, "benefit-due", household, marker)
    await payments_when(http, marker["benefit_id"], has("paid"))
    await payments_when(http, paid["benefit_id"], has("paid"))
    assert await balance(http, county, "eco_rangers") == "19.00"
    await fund_program(http, county, "eco_rangers", "100.00")
    await payments_when(http, waiting["benefit_id"], has("reversed"))
    assert await balance(http, county, "eco_rangers") == "119.00"
    await verify_ledger(http)


async def test_cancellation_before_the_benefit_arrives(http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county = new_county()
    await fund_program(http, county, "relocation", "5000.00")
    data = benefit(county, "3000.00", kind="relocation")
    await publish(producer, "benefit-cancelled", data["household_id"], cancellation(data))
    marker = benefit(county, "1.00", kind="relocation", household_id=data["household_id"])
    await publish(producer, "benefit-due", data["household_id"], data)
    await publish(producer, "benefit-due", data["household_id"], marker)
    await payments_when(http, marker["benefit_id"], has("paid"))
    await payments_when(http, data["benefit_id"], has("reversed"))
    assert await balance(http, county, "relocation") == "4999.00"


async def test_a_benefit_that_can_never_be_paid_does_not_block_the_next(http: httpx.AsyncClient,
                                                                       producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    negative = benefit(county, "-5.00", household_id=household)
    unknown = {**benefit(county, "5.00", household_id=household), "kind": "pension"}
    good = benefit(county, "5.00", household_id=household)
    for data in (negative, unknown, good):
        await publish(producer, "benefit-due", household, data)
    await payments_when(http, good["benefit_id"], has("pending_funds"))
    for data in (negative, unknown):
        assert await payments_when(http, data["benefit_id"], lambda p: p == []) == []


# ---- concurrency: handlers run as the kit's consumer runs them (inbox row and handler in one transaction), by many
# replicas at once, straight against the database

def due(data: dict[str, Any]) -> dict[str, Any]:
    return cloud_event(source="welfare", topic="benefit-due", subject=data["household_id"], data=data)


def cancelled(data: dict[str, Any]) -> dict[str, Any]:
    return cloud_event(source="welfare", topic="benefit-cancelled", subject=data["household_id"],
                       data=cancellation(data))


async def test_concurrent_deliveries_pay_once_and_never_overdraw(http: httpx.AsyncClient, db: Database) -> None:
    county = new_county()
    await fund_program(http, county, "temporary_assistance", "755.00")  # 75 benefits of 10.00, not 76
    benefits = [benefit(county, "10.00", kind="temporary_assistance") for _ in range(100)]
    events = [due(b) for b in benefits]
    # every event delivered twice at once (a redelivery after a rebalance) and once more under a new event id
    deliveries = [*events, *events, *(due(b) for b in benefits)]
    outcomes = await asyncio.gather(*(deliver(db, "benefit-due", e) for e in deliveries))
    assert outcomes.count("handled") == 200 and outcomes.count("duplicate") == 100

    statuses: dict[str, int] = {}
    for data in benefits:
        payments = (await http.get("/finance/payments", headers=token(READER),
                                   params={"reference": data["benefit_id"]})).json()
        assert len(payments) == 1, payments
        statuses[payments[0]["status"]] = statuses.get(payments[0]["status"], 0) + 1
    assert statuses == {"paid": 75, "pending_funds": 25}
    assert await balance(http, county, "temporary_assistance") == "5.00"
    await verify_ledger(http)


async def test_cancellation_racing_its_benefit_never_pays_it(http: httpx.AsyncClient, db: Database) -> None:
    county = new_county()
    benefits = [benefit(county, "10.00") for _ in range(40)]  # no money: all would wait
    await asyncio.gather(*(deliver(db, topic, event) for b in benefits
                           for topic, event in (("benefit-cancelled", cancelled(b)), ("benefit-due", due(b)))))
    fund = await receive(http, county, "1000.00")
    assert (await allocate(http, fund["fund_id"], "minimum_living", "1000.00")).status_code == 201
    for data in benefits:
        payments = (await http.get("/finance/payments", headers=token(READER),
                                   params={"reference": data["benefit_id"]})).json()
        assert [p["status"] for p in payments] == ["reversed"], payments
    assert Decimal(await balance(http, county, "minimum_living")) == Decimal("1000.00")
    await verify_ledger(http)
