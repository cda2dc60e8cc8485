"""Payments ordered by real CloudEvents on Kafka: exactly once, from the county's account, queued without funds."""

import datetime as dt
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from conftest import (
    KAFKA,
    READER,
    allocate,
    balance,
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
from fupin_kit.testing import wait_for_event


def grant(county: str, amount: str, household_id: str, grant_id: str | None = None) -> dict[str, Any]:
    return {"grant_id": grant_id or str(uuid.uuid4()), "person_ref": uuid.uuid4().hex, "household_id": household_id,
            "county_code": county, "village_code": village_of(county), "kind": "senior", "amount": amount,
            "academic_year": "2020-2021"}


async def test_grant_is_paid_once_from_the_county_account(http: httpx.AsyncClient,
                                                          producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    fund = await fund_program(http, county, "education_grants", "5000.00")
    data = grant(county, "2000.00", household)
    event = await publish(producer, "grant-awarded", household, data)
    [payment] = await payments_when(http, data["grant_id"], has("paid"))
    assert payment["program"] == "education_grants" and payment["amount"] == "2000.00"
    assert payment["payee"] == f"household:{household}" and payment["reference"] == data["grant_id"]
    assert await balance(http, county, "education_grants") == "3000.00"

    # the same event again, and the same grant under another event id, then a marker behind them on the partition
    await publish(producer, "grant-awarded", household, data, event=event)
    await publish(producer, "grant-awarded", household, data)
    marker = grant(county, "1.00", household)
    await publish(producer, "grant-awarded", household, marker)
    await payments_when(http, marker["grant_id"], has("paid"))
    assert len(await payments_when(http, data["grant_id"], has("paid"))) == 1
    assert await balance(http, county, "education_grants") == "2999.00"

    completed = await wait_for_event(KAFKA, "payment-completed", data["grant_id"])
    assert completed["data"]["payment_id"] == payment["payment_id"] and completed["data"]["status"] == "paid"
    assert completed["data"]["amount"] == "2000.00" and completed["source"] == "finance"
    assert dt.datetime.fromisoformat(completed["data"]["paid_at"]) == dt.datetime.fromisoformat(payment["paid_at"])
    assert completed["data"]["county_code"] == county and completed["data"]["village_code"] == data["village_code"]
    lineage = (await http.get(f"/finance/payments/{payment['payment_id']}/lineage", headers=token(READER))).json()
    assert lineage["sources"] == [{"fund_id": fund["fund_id"], "source": "central", "purpose": "education_grants",
                                   "jurisdiction_code": county, "year": 2020, "amount": "2000.00"}]
    await verify_ledger(http)


async def test_pending_payments_are_paid_oldest_first_when_funds_arrive(http: httpx.AsyncClient,
                                                                        producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    first, second = grant(county, "600.00", household), grant(county, "300.00", household)
    await publish(producer, "grant-awarded", household, first)
    await publish(producer, "grant-awarded", household, second)
    await payments_when(http, second["grant_id"], has("pending_funds"))
    assert (await payments_when(http, first["grant_id"], has("pending_funds")))[0]["amount"] == "600.00"
    pending = (await http.get("/finance/accounts", headers=token(READER),
                              params={"jurisdiction_code": county, "program": "education_grants"})).json()
    assert pending[0]["pending_funds"] == "900.00"

    fund = await receive(http, county, "1000.00")
    released = await allocate(http, fund["fund_id"], "education_grants", "700.00")
    assert released.status_code == 201 and released.json()["account_balance"] == "100.00"
    await payments_when(http, first["grant_id"], has("paid"))
    await payments_when(http, second["grant_id"], has("pending_funds"))  # the 300 does not fit the 100 left

    assert (await allocate(http, fund["fund_id"], "education_grants", "200.00")).status_code == 201
    await payments_when(http, second["grant_id"], has("paid"))
    assert await balance(http, county, "education_grants") == "0.00"
    await verify_ledger(http)


async def test_settlement_pays_the_hospital_and_its_reversal_returns_the_money(
        http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, settlement_id = new_county(), str(uuid.uuid4())
    fund = await fund_program(http, county, "medical_assistance", "20000.00")
    await publish(producer, "settlement-completed", settlement_id, {
        "settlement_id": settlement_id, "person_ref": uuid.uuid4().hex, "county_code": county,
        "village_code": village_of(county), "hospital_code": "H610723001", "medical_assistance": "875.70",
        "supplementary": "14375.30", "amount": "15251.00"})
    [paid] = await payments_when(http, settlement_id, has("paid"))
    assert paid["amount"] == "15251.00" and paid["payee"] == "hospital:H610723001"
    assert paid["program"] == "medical_assistance"
    assert await balance(http, county, "medical_assistance") == "4749.00"

    await publish(producer, "settlement-reversed", settlement_id,
                  {"settlement_id": settlement_id, "reason_code": "billing_error"})
    [reversed_] = await payments_when(http, settlement_id, has("reversed"))
    assert reversed_["payment_id"] == paid["payment_id"]
    assert await balance(http, county, "medical_assistance") == "20000.00"
    announced = await wait_for_event(KAFKA, "payment-completed", settlement_id,
                                     timeout=20, event_type="cn.fupin.payment-completed")
    assert announced["data"]["reference"] == settlement_id
    # the money is back with its lineage: a new payment from this account traces to the same fund
    audit = (await http.get("/finance/ledger/entries", headers=token(READER),
                            params={"reference": paid["payment_id"]})).json()
    assert [e["kind"] for e in audit] == ["payment", "reversal"]
    assert audit[1]["recorded_by"] == "event:test" and "billing_error" in audit[1]["note"]
    assert fund["fund_id"]
    await verify_ledger(http)


async def test_reversal_before_settlement_and_pending_reversal_pay_nothing(
        http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county = new_county()
    early, waiting = str(uuid.uuid4()), str(uuid.uuid4())
    settlement = {"person_ref": "x", "county_code": county, "village_code": village_of(county),
                  "hospital_code": "H1", "medical_assistance": "100.00", "supplementary": "0.00", "amount": "100.00"}
    await publish(producer, "settlement-reversed", early, {"settlement_id": early, "reason_code": "void"})
    await publish(producer, "settlement-completed", waiting, {**settlement, "settlement_id": waiting})
    await payments_when(http, waiting, has("pending_funds"))
    await publish(producer, "settlement-reversed", waiting, {"settlement_id": waiting, "reason_code": "void"})
    await payments_when(http, waiting, has("reversed"))
    await publish(producer, "settlement-completed", early, {**settlement, "settlement_id": early})
    await payments_when(http, early, has("reversed"))
    await fund_program(http, county, "medical_assistance", "500.00")
    assert await balance(http, county, "medical_assistance") == "500.00"


async def test_interest_subsidy_items_are_paid_from_each_loans_county(http: httpx.AsyncClient,
                                                                     producer: AIOKafkaProducer) -> None:
    north, south, claim_id = new_county(), new_county(), str(uuid.uuid4())
    await fund_program(http, north, "loan_interest_subsidy", "100.00")
    await fund_program(http, south, "loan_interest_subsidy", "100.00")
    loans = [str(uuid.uuid4()) for _ in range(3)]
    await publish(producer, "interest-subsidy-claimed", claim_id, {
        "claim_id": claim_id, "bank_code": "B001", "period": "2020Q1", "subsidy_total": "80.00", "items": [
            {"loan_id": loans[0], "county_code": north, "village_code": village_of(north), "subsidy": "50.00"},
            {"loan_id": loans[1], "county_code": south, "village_code": village_of(south), "subsidy": "30.00"},
            {"loan_id": loans[2], "county_code": south, "village_code": village_of(south), "subsidy": "0.00"}]})
    payments = await payments_when(http, claim_id, has("paid", count=2))
    assert {(p["item_reference"], p["county_code"], p["amount"], p["payee"]) for p in payments} == {
        (loans[0], north, "50.00", "bank:B001"), (loans[1], south, "30.00", "bank:B001")}
    assert await balance(http, north, "loan_interest_subsidy") == "50.00"
    assert await balance(http, south, "loan_interest_subsidy") == "70.00"


async def test_risk_compensation_is_paid_to_the_bank(http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, loan_id = new_county(), str(uuid.uuid4())
    await fund_program(http, county, "risk_compensation", "50000.00")
    await publish(producer, "risk-compensation-claimed", loan_id, {
        "loan_id": loan_id, "bank_code": "B002", "county_code": county, "village_code": village_of(county),
        "compensation": "14000.00"})
    [payment] = await payments_when(http, loan_id, has("paid"))
    assert payment["program"] == "risk_compensation" and payment["payee"] == "bank:B002"
    assert payment["amount"] == "14000.00"


async def test_a_malformed_event_does_not_block_the_next(http: httpx.AsyncClient,
                                                         producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    broken = grant(county, "1.00", household)
    del broken["county_code"], broken["village_code"]
    await publish(producer, "grant-awarded", household, broken)
    good = grant(county, "1.00", household)
    await publish(producer, "grant-awarded", household, good)
    await payments_when(http, good["grant_id"], has("pending_funds"))
    assert await payments_when(http, broken["grant_id"], lambda p: p == []) == []


async def test_public_disclosure_shows_money_per_programme_and_village(http: httpx.AsyncClient,
                                                                       producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())
    await fund_program(http, county, "education_grants", "1000.00")
    village_a, village_b = f"{county}101001", f"{county}102001"
    grants = [{**grant(county, amount, household), "village_code": village}
              for amount, village in (("750.00", village_a), ("100.00", village_a), ("50.00", village_b))]
    for data in grants:
        await publish(producer, "grant-awarded", household, data)
    await payments_when(http, grants[-1]["grant_id"], has("paid"))
    year = clock.today().year

    answer = await http.get(f"/finance/disclosures/{county}", params={"year": year})  # no token
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total_paid"] == "900.00"
    assert body["programs"] == [{"program": "education_grants", "payments": 3, "amount": "900.00"}]
    assert [(v["village_code"], v["amount"]) for v in body["villages"]] == [(village_a, "850.00"),
                                                                          (village_b, "50.00")]
    assert body["allocations"] == [{"jurisdiction_code": county, "program": "education_grants", "amount": "1000.00"}]
    assert household not in answer.text and "household" not in answer.text

    village = (await http.get(f"/finance/disclosures/{village_b}", params={"year": year})).json()
    assert village["total_paid"] == "50.00"
    assert (await http.get(f"/finance/disclosures/{county}", params={"year": year - 1})).json()["total_paid"] == "0.00"
    bad = await http.get("/finance/disclosures/12345")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "division_code"
