"""POST /microcredit/loans, GET a loan, repayments and defaults: the cap under concurrency, errors and events."""

import asyncio
import json
import uuid

import asyncpg
import httpx
import pytest
from conftest import KAFKA, token
from mc_support import BANK, GOV_READ, GOV_WRITE, OTHER_BANK, Registry, adult_id, member, person_ref

from fupin_kit.testing import wait_for_event

LOANS = "/microcredit/loans"


def loan_body(id_number: str, **change: object) -> dict[str, object]:
    body: dict[str, object] = {"id_number": id_number, "amount": "20000.00", "term_months": 36,
                               "annual_rate": "4.35", "disbursed_on": "2024-03-01", "purpose": "cattle breeding"}
    return {**body, **change}


async def grant(client: httpx.AsyncClient, id_number: str, bank: dict = BANK, **change: object) -> dict:
    answer = await client.post(LOANS, json=loan_body(id_number, **change), headers=token(**bank))
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture
async def borrower(registry: Registry) -> str:
    id_number = adult_id(40)
    await registry.household("registered", member(id_number), village_code="610723102003")
    return id_number


async def test_a_bank_records_a_loan_and_loan_disbursed_is_published(
        client: httpx.AsyncClient, borrower: str) -> None:
    loan = await grant(client, borrower, amount=30000)
    assert loan["status"] == "active"
    assert (loan["bank_code"], loan["amount"], loan["principal_outstanding"]) == ("B001", "30000.00", "30000.00")
    assert (loan["term_months"], loan["annual_rate"], loan["maturity_date"]) == (36, "4.35", "2027-03-01")
    assert loan["masked_id_number"] == borrower[:6] + "********" + borrower[-4:]
    event = await wait_for_event(KAFKA, "loan-disbursed", loan["loan_id"])
    assert event["type"] == "cn.fupin.loan-disbursed" and event["source"] == "microcredit"
    data = event["data"]
    assert {"loan_id", "bank_code", "person_ref", "household_id", "county_code", "amount", "term_months",
            "disbursed_on"} <= set(data)
    assert (data["bank_code"], data["amount"], data["term_months"], data["disbursed_on"]) == (
        "B001", "30000.00", 36, "2024-03-01")
    assert (data["person_ref"], data["county_code"], data["village_code"]) == (
        person_ref(borrower), "610723", "610723102003")
    assert borrower not in json.dumps(event)
    check = await client.post("/microcredit/eligibility-checks", json={"id_number": borrower}, headers=token(**BANK))
    assert check.json()["available_amount"] == "20000.00"


async def test_reading_a_loan(client: httpx.AsyncClient, borrower: str) -> None:
    loan = await grant(client, borrower)
    own = await client.get(f"{LOANS}/{loan['loan_id']}", headers=token(**BANK))
    assert own.status_code == 200 and own.json() == loan
    government = await client.get(f"{LOANS}/{loan['loan_id']}", headers=token(**GOV_READ))
    assert government.status_code == 200 and government.json()["loan_id"] == loan["loan_id"]
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        answer = await client.get(f"{LOANS}/{missing}", headers=token(**BANK))
        assert (answer.status_code, answer.json()["code"]) == (404, "loan_not_found")
    assert (await client.get(f"{LOANS}/{loan['loan_id']}")).status_code == 401
    no_scope = await client.get(f"{LOANS}/{loan['loan_id']}", headers=token("microcredit:eligibility",
                                                                            bank_code="B001"))
    assert no_scope.status_code == 403


async def test_not_eligible_carries_the_reasons(client: httpx.AsyncClient, registry: Registry) -> None:
    id_number = adult_id(40)
    household_id = await registry.household("registered", member(id_number, labor="none"))
    answer = await client.post(LOANS, json=loan_body(id_number), headers=token(**BANK))
    assert (answer.status_code, answer.json()["code"]) == (422, "not_eligible")
    assert answer.json()["reasons"] == ["no_labor_capacity"]
    await registry.publish(household_id, "removed", [member(id_number, labor="none")])
    await registry.wait_for_status(household_id, "removed")
    answer = await client.post(LOANS, json=loan_body(id_number), headers=token(**BANK))
    assert answer.json()["reasons"] == ["not_registered_poor", "no_labor_capacity"]
    unknown = await client.post(LOANS, json=loan_body(adult_id(30)), headers=token(**BANK))
    assert unknown.json()["reasons"] == ["not_registered_poor"]


async def test_cap_amount_and_term(client: httpx.AsyncClient, registry: Registry) -> None:
    head, spouse = adult_id(40), adult_id(39)
    await registry.household("registered", member(head), member(spouse, relation="spouse"))
    await grant(client, head, amount="40000.00")
    over = await client.post(LOANS, json=loan_body(spouse, amount="10000.01"), headers=token(**OTHER_BANK))
    assert (over.status_code, over.json()["code"], over.json()["available_amount"]) == (
        422, "amount_over_available", "10000.00")
    too_long = await client.post(LOANS, json=loan_body(spouse, amount="100.00", term_months=37), headers=token(**BANK))
    assert (too_long.status_code, too_long.json()["code"]) == (422, "term_too_long")
    await grant(client, spouse, OTHER_BANK, amount="10000.00")
    reached = await client.post(LOANS, json=loan_body(spouse, amount="0.01"), headers=token(**BANK))
    assert (reached.json()["code"], reached.json()["reasons"]) == ("not_eligible", ["cap_reached"])


async def test_two_banks_lending_to_one_household_at_the_same_instant_cannot_exceed_the_cap(
        client: httpx.AsyncClient, registry: Registry, database_url: str) -> None:
    for _ in range(3):
        head, spouse = adult_id(40), adult_id(39)
        household_id = await registry.household("registered", member(head), member(spouse, relation="spouse"))
        answers = await asyncio.gather(
            client.post(LOANS, json=loan_body(head, amount="30000.00"), headers=token(**BANK)),
            client.post(LOANS, json=loan_body(spouse, amount="30000.00"), headers=token(**OTHER_BANK)))
        assert sorted(a.status_code for a in answers) == [201, 422]
        assert [a.json()["code"] for a in answers if a.status_code == 422] == ["amount_over_available"]
        conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            total = await conn.fetchval("SELECT sum(principal_outstanding) FROM loans WHERE household_id = $1",
                                        household_id)
        finally:
            await conn.close()
        assert str(total) == "30000.00"


@pytest.mark.parametrize("change, field", [
    ({"amount": "0.00"}, "amount"), ({"amount": "-5"}, "amount"), ({"amount": "10.001"}, "amount"),
    ({"amount": "lots"}, "amount"), ({"term_months": 0}, "term_months"), ({"annual_rate": "-1"}, "annual_rate"),
    ({"disbursed_on": "2024-02-30"}, "disbursed_on"), ({"purpose": ""}, "purpose"),
    ({"purpose": "seed\x00"}, "purpose"),  # fuzzing: PostgreSQL text cannot hold NUL (was a 500)
    ({"id_number": "610723198001011234"}, "id_number"), ({"disbursed_on": "2999-01-01"}, "disbursed_on"),
])
async def test_invalid_loans_name_the_field_and_write_nothing(
        client: httpx.AsyncClient, borrower: str, change: dict, field: str) -> None:
    answer = await client.post(LOANS, json={**loan_body(borrower), **change}, headers=token(**BANK))
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"
    assert answer.json()["errors"][0]["field"] == field
    check = await client.post("/microcredit/eligibility-checks", json={"id_number": borrower}, headers=token(**BANK))
    assert check.json()["available_amount"] == "50000.00"


async def test_banks_only_and_the_bank_comes_from_the_token(client: httpx.AsyncClient, borrower: str) -> None:
    government = await client.post(LOANS, json=loan_body(borrower), headers=token(**GOV_WRITE))
    assert government.status_code == 403
    no_bank = await client.post(LOANS, json=loan_body(borrower), headers=token("microcredit:loans"))
    assert (no_bank.status_code, no_bank.json()["code"]) == (403, "forbidden")
    loan = await grant(client, borrower, bank_code="B999")  # a body field never chooses the bank
    assert loan["bank_code"] == "B001"


async def test_idempotency_key_replays_the_first_answer(client: httpx.AsyncClient, borrower: str) -> None:
    headers = {**token(**BANK), "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post(LOANS, json=loan_body(borrower), headers=headers)
    again = await client.post(LOANS, json=loan_body(borrower), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    check = await client.post("/microcredit/eligibility-checks", json={"id_number": borrower}, headers=token(**BANK))
    assert check.json()["available_amount"] == "30000.00"
    other = await client.post(LOANS, json=loan_body(borrower, amount="1.00"), headers=headers)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")


async def test_repayments_down_to_zero(client: httpx.AsyncClient, borrower: str) -> None:
    loan = await grant(client, borrower, amount="20000.00")
    url = f"{LOANS}/{loan['loan_id']}/repayments"
    part = await client.post(url, json={"amount": "5000.50", "paid_on": "2024-06-01"}, headers=token(**BANK))
    assert part.status_code == 200, part.text
    assert (part.json()["status"], part.json()["principal_outstanding"]) == ("active", "14999.50")
    over = await client.post(url, json={"amount": "14999.51", "paid_on": "2024-07-01"}, headers=token(**BANK))
    assert (over.status_code, over.json()["code"]) == (422, "overpayment")
    early = await client.post(url, json={"amount": "1.00", "paid_on": "2024-05-31"}, headers=token(**BANK))
    assert early.json()["errors"][0]["field"] == "paid_on"
    rest = await client.post(url, json={"amount": "14999.50", "paid_on": "2024-07-01"}, headers=token(**BANK))
    assert (rest.json()["status"], rest.json()["principal_outstanding"], rest.json()["repaid_on"]) == (
        "repaid", "0.00", "2024-07-01")
    assert [r["principal_after"] for r in rest.json()["repayments"]] == ["14999.50", "0.00"]
    after = await client.post(url, json={"amount": "0.01", "paid_on": "2024-07-02"}, headers=token(**BANK))
    assert (after.status_code, after.json()["code"]) == (422, "overpayment")
    check = await client.post("/microcredit/eligibility-checks", json={"id_number": borrower}, headers=token(**BANK))
    assert check.json()["available_amount"] == "50000.00"


async def test_default_compensates_70_percent_and_blocks_the_household(
        client: httpx.AsyncClient, registry: Registry) -> None:
    head, son = adult_id(50), adult_id(25)
    await registry.household("registered", member(head), member(son, relation="child"),
                             village_code="610723104005")
    loan = await grant(client, head, amount="12345.67")
    url = f"{LOANS}/{loan['loan_id']}/default"
    too_much = await client.post(url, json={"unpaid_principal": "12345.68", "declared_on": "2024-09-01"},
                                 headers=token(**BANK))
    assert too_much.json()["errors"][0]["field"] == "unpaid_principal"
    answer = await client.post(url, json={"unpaid_principal": "12345.67", "declared_on": "2024-09-01"},
                               headers=token(**BANK))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["compensation"], answer.json()["defaulted_on"]) == (
        "defaulted", "8641.97", "2024-09-01")
    event = await wait_for_event(KAFKA, "risk-compensation-claimed", loan["loan_id"])
    assert {k: event["data"][k] for k in ("loan_id", "bank_code", "county_code", "village_code", "compensation")} == {
        "loan_id": loan["loan_id"], "bank_code": "B001", "county_code": "610723", "village_code": "610723104005",
        "compensation": "8641.97"}
    check = await client.post("/microcredit/eligibility-checks", json={"id_number": son}, headers=token(**BANK))
    assert check.json()["reasons"] == ["household_in_default"]
    again = await client.post(url, json={"unpaid_principal": "1.00", "declared_on": "2024-09-02"},
                              headers=token(**BANK))
    assert (again.status_code, again.json()["code"]) == (409, "loan_not_active")
    repay = await client.post(f"{LOANS}/{loan['loan_id']}/repayments", json={"amount": "1.00", "paid_on": "2024-09-02"},
                              headers=token(**BANK))
    assert (repay.status_code, repay.json()["code"]) == (409, "loan_not_active")


async def test_another_bank_gets_loan_not_found_on_every_route(client: httpx.AsyncClient, borrower: str) -> None:
    loan = await grant(client, borrower, amount="10000.00", disbursed_on="2020-01-10")
    loan_id = loan["loan_id"]
    other = token(**OTHER_BANK)
    answers = [
        await client.get(f"{LOANS}/{loan_id}", headers=other),
        await client.post(f"{LOANS}/{loan_id}/repayments", json={"amount": "1.00", "paid_on": "2020-02-01"},
                          headers=other),
        await client.post(f"{LOANS}/{loan_id}/default", json={"unpaid_principal": "1.00", "declared_on": "2020-02-01"},
                          headers=other),
    ]
    for answer in answers:
        assert (answer.status_code, answer.json()["code"]) == (404, "loan_not_found"), answer.text
    claim = await client.post("/microcredit/interest-claims",
                              json={"period": "2020Q1", "items": [{"loan_id": loan_id, "interest": "100.00"}]},
                              headers=other)
    assert claim.status_code == 201
    assert claim.json()["items"] == [{"loan_id": loan_id, "claimed": "100.00", "subsidy": "0.00", "days_active": 0,
                                      "reason": "loan_not_found"}]
    unchanged = await client.get(f"{LOANS}/{loan_id}", headers=token(**BANK))
    assert unchanged.json() == loan
    own_claim = await client.post("/microcredit/interest-claims",
                                  json={"period": "2020Q1", "items": [{"loan_id": loan_id, "interest": "100.00"}]},
                                  headers=token(**BANK))
    assert own_claim.json()["items"][0]["reason"] is None  # B002's refused item did not use up the quarter



