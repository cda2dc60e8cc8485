"""Contract §2 (issue 5) through the gateway: banks check eligibility, record loans under the household cap, repay,
default and claim the quarterly interest subsidy; the government reads loans, policies and the portfolio report.

The money paid by finance for claims and defaults is covered in test_money_flows.py; here the microcredit answers."""

import asyncio
import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from conftest import KAFKA, Divisions, eventually, household_body, member, register, resident_id

from fupin_kit.testing import wait_for_event

Auth = Callable[[str], Awaitable[dict[str, str]]]
CHECKS, LOANS, CLAIMS = "/microcredit/eligibility-checks", "/microcredit/loans", "/microcredit/interest-claims"
ELIGIBILITY_FIELDS = {"eligible", "reasons", "max_amount", "available_amount", "max_term_months", "guarantee_required",
                      "collateral_required", "interest_subsidy", "benchmark_rate", "masked_id_number"}
CHINA = dt.timezone(dt.timedelta(hours=8))
LOGS = Path(__file__).resolve().parents[2] / ".run" / "logs"


def china_today() -> dt.date:
    """The service ages borrowers on China's calendar day."""
    return dt.datetime.now(CHINA).date()


def years_ago(years: int) -> dt.date:
    today = china_today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def person(divisions: Divisions, born: dt.date = dt.date(1985, 8, 8)) -> str:
    return resident_id(divisions.county, born, random.randint(0, 999))


def loan_body(id_number: str, **change: Any) -> dict[str, Any]:
    return {"id_number": id_number, "amount": "10000.00", "term_months": 36, "annual_rate": "4.35",
            "disbursed_on": "2020-01-01", "purpose": "养猪", **change}


def problem_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (answer.status_code, answer.json().get("code")) == (status, code), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return answer.json()


def names_field(answer: httpx.Response, field: str) -> None:
    body = problem_of(answer, 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]], body



async def check(http: httpx.AsyncClient, bank: dict[str, str], id_number: str) -> dict[str, Any]:
    answer = await http.post(CHECKS, headers=bank, json={"id_number": id_number})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def known_to_microcredit(http: httpx.AsyncClient, bank: dict[str, str], *id_numbers: str) -> None:
    """Wait until the household-registered event has reached microcredit's read model for every person."""
    for id_number in id_numbers:
        answer = await eventually(lambda n=id_number: check(http, bank, n),
                                  lambda c: "not_registered_poor" not in c["reasons"])
        assert "not_registered_poor" not in answer["reasons"], answer


async def grant(http: httpx.AsyncClient, bank: dict[str, str], id_number: str, **change: Any) -> dict[str, Any]:
    answer = await http.post(LOANS, headers=bank, json=loan_body(id_number, **change))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def repay(http: httpx.AsyncClient, bank: dict[str, str], loan_id: str, amount: str,
                paid_on: str) -> httpx.Response:
    return await http.post(f"{LOANS}/{loan_id}/repayments", headers=bank, json={"amount": amount, "paid_on": paid_on})


async def claim(http: httpx.AsyncClient, bank: dict[str, str], period: str,
                items: list[tuple[str, str]]) -> httpx.Response:
    return await http.post(CLAIMS, headers=bank, json={
        "period": period, "items": [{"loan_id": loan_id, "interest": interest} for loan_id, interest in items]})


# --- eligibility ------------------------------------------------------------------------------------------------


async def test_eligible_person_gets_exactly_the_contract_terms_and_no_personal_data(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    household_id = await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)

    answer = await http.post(CHECKS, headers=bank, json={"id_number": borrower})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == ELIGIBILITY_FIELDS, body
    assert body == {"eligible": True, "reasons": [], "max_amount": "50000.00", "available_amount": "50000.00",
                    "max_term_months": 36, "guarantee_required": False, "collateral_required": False,
                    "interest_subsidy": "full", "benchmark_rate": "4.35", "masked_id_number": masked(borrower)}
    for private in (borrower, household_id, divisions.village, "王小明", "1985-08-08", "head"):
        assert private not in answer.text
    # the other bank gets the same answer: eligibility is about the household, not about a bank
    assert await check(http, await auth("bank-other"), borrower) == body
    for component in ("gateway", "microcredit"):  # nor does the number reach a log line
        log = LOGS / f"{component}.log"
        assert not log.exists() or borrower not in log.read_text(errors="replace"), component


async def test_unknown_and_not_yet_registered_persons_are_not_registered_poor(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    unknown, identified = person(divisions), person(divisions, dt.date(1979, 4, 4))
    created = await http.post("/registry/households", headers=gov,
                              json=household_body(divisions.village, [member(identified)]))
    assert created.status_code == 201, created.text  # identified, not verified: not registered poor
    for id_number in (unknown, identified):
        body = await check(http, bank, id_number)
        assert set(body) == ELIGIBILITY_FIELDS
        assert (body["eligible"], body["reasons"], body["available_amount"]) == (False, ["not_registered_poor"],
                                                                                 "0.00"), body
        assert body["masked_id_number"] == masked(id_number)
        refused = await http.post(LOANS, headers=bank, json=loan_body(id_number))
        assert problem_of(refused, 422, "not_eligible")["reasons"] == ["not_registered_poor"]
    invalid = await http.post(CHECKS, headers=bank, json={"id_number": unknown[:-1] + ("0" if unknown[-1] != "0"
                                                                                         else "1")})
    names_field(invalid, "id_number")
    assert unknown[:-1] not in invalid.text


async def test_removal_revokes_eligibility_within_seconds(http: httpx.AsyncClient, auth: Auth,
                                                          divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower, spouse = person(divisions), person(divisions, dt.date(1987, 3, 3))
    household_id = await register(http, gov, divisions.village, [member(borrower), member(spouse, "spouse")])
    await known_to_microcredit(http, bank, borrower, spouse)

    removed = await http.post(f"/registry/households/{household_id}/removal", headers=gov,
                              json={"reason": "家庭成员有财政供养人员"})
    assert removed.status_code == 200 and removed.json()["status"] == "removed", removed.text
    started = time.monotonic()
    revoked = await eventually(lambda: check(http, bank, borrower), lambda c: not c["eligible"], timeout=10)
    assert time.monotonic() - started < 10
    assert (revoked["eligible"], revoked["reasons"], revoked["available_amount"]) == (
        False, ["not_registered_poor"], "0.00"), revoked
    assert (await check(http, bank, spouse))["reasons"] == ["not_registered_poor"]
    refused = await http.post(LOANS, headers=await auth("bank-other"), json=loan_body(spouse))
    assert problem_of(refused, 422, "not_eligible")["reasons"] == ["not_registered_poor"]

    # a removed household's members may be identified again: registered in a new household, eligible again
    await register(http, gov, divisions.village, [member(borrower)])
    again = await eventually(lambda: check(http, bank, borrower), lambda c: c["eligible"], timeout=10)
    assert (again["eligible"], again["available_amount"]) == (True, "50000.00"), again
    assert (await check(http, bank, spouse))["reasons"] == ["not_registered_poor"]


async def test_exited_and_returned_households_keep_eligibility(http: httpx.AsyncClient, auth: Auth,
                                                               divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    household_id = await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)
    exited = await http.post(f"/registry/households/{household_id}/exit", headers=gov, json={})
    assert exited.status_code == 200 and exited.json()["status"] == "exited", exited.text
    await wait_for_event(KAFKA, "exit-certified", household_id)
    for _ in range(4):  # the exit snapshot reaches microcredit: still eligible (seed §一(二) 继续享受扶持政策)
        assert (await check(http, bank, borrower))["eligible"] is True
        await asyncio.sleep(0.4)
    returned = await http.post(f"/registry/households/{household_id}/return", headers=gov, json={"reason": "灾害"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned", returned.text
    await wait_for_event(KAFKA, "returned-to-poverty", household_id)
    await asyncio.sleep(0.5)
    assert (await check(http, bank, borrower))["eligible"] is True
    assert (await grant(http, bank, borrower))["status"] == "active"


async def test_age_and_labour_capacity_reasons_on_their_boundaries(http: httpx.AsyncClient, auth: Auth,
                                                                   divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    head = person(divisions)
    eighteen_today = person(divisions, years_ago(18))
    eighteen_tomorrow = person(divisions, years_ago(18) + dt.timedelta(days=1))
    sixty_six_tomorrow = person(divisions, years_ago(66) + dt.timedelta(days=1))
    sixty_six_today = person(divisions, years_ago(66))
    no_labour = person(divisions, dt.date(1980, 1, 1))
    old_no_labour = person(divisions, dt.date(1950, 1, 1))
    await register(http, gov, divisions.village, [
        member(head), member(eighteen_today, "child"), member(eighteen_tomorrow, "child"),
        member(sixty_six_tomorrow, "parent", labor="partial"), member(sixty_six_today, "parent", labor="partial"),
        member(no_labour, "sibling", labor="none"), member(old_no_labour, "other", labor="none")])
    await known_to_microcredit(http, bank, head)

    expected = {eighteen_today: [], eighteen_tomorrow: ["age_out_of_range"], sixty_six_tomorrow: [],
                sixty_six_today: ["age_out_of_range"], no_labour: ["no_labor_capacity"],
                old_no_labour: ["age_out_of_range", "no_labor_capacity"]}
    for id_number, reasons in expected.items():
        body = await eventually(lambda n=id_number: check(http, bank, n),
                                lambda c: "not_registered_poor" not in c["reasons"])
        assert set(body) == ELIGIBILITY_FIELDS
        assert (body["eligible"], body["reasons"]) == (not reasons, reasons), (id_number, body)
        assert body["available_amount"] == ("50000.00" if not reasons else "0.00"), body
        assert body["masked_id_number"] == masked(id_number)

    today = china_today().isoformat()
    for id_number in (eighteen_tomorrow, no_labour, old_no_labour):
        refused = await http.post(LOANS, headers=bank, json=loan_body(id_number, disbursed_on=today))
        assert problem_of(refused, 422, "not_eligible")["reasons"] == expected[id_number]
    loan = await grant(http, bank, eighteen_today, disbursed_on=today, amount="5000.00")
    assert loan["masked_id_number"] == masked(eighteen_today)


async def test_cap_reached_then_household_in_default(http: httpx.AsyncClient, auth: Auth,
                                                     divisions: Divisions) -> None:
    gov, bank, other = await auth("gov-portal"), await auth("bank-demo"), await auth("bank-other")
    first, second = person(divisions), person(divisions, dt.date(1986, 6, 6))
    await register(http, gov, divisions.village, [member(first), member(second, "spouse")])
    await known_to_microcredit(http, bank, first, second)

    loan = await grant(http, bank, first, amount="50000.00")
    for id_number in (first, second):  # the cap is per household, whichever member and bank borrowed
        body = await check(http, other, id_number)
        assert (body["eligible"], body["reasons"], body["available_amount"]) == (False, ["cap_reached"], "0.00")
    refused = await http.post(LOANS, headers=other, json=loan_body(second, amount="0.01"))
    assert problem_of(refused, 422, "not_eligible")["reasons"] == ["cap_reached"]

    assert (await repay(http, bank, loan["loan_id"], "20000.00", "2020-06-01")).status_code == 200
    body = await check(http, other, second)
    assert (body["eligible"], body["available_amount"]) == (True, "20000.00"), body
    over = await http.post(LOANS, headers=other, json=loan_body(second, amount="20000.01"))
    assert problem_of(over, 422, "amount_over_available")["available_amount"] == "20000.00"

    default = await http.post(f"{LOANS}/{loan['loan_id']}/default", headers=bank,
                              json={"unpaid_principal": "30000.00", "declared_on": "2021-01-04"})
    assert default.status_code == 200, default.text
    for id_number in (first, second):
        body = await check(http, other, id_number)
        assert (body["eligible"], body["reasons"], body["available_amount"]) == (
            False, ["household_in_default"], "0.00"), body
    refused = await http.post(LOANS, headers=other, json=loan_body(second))
    assert problem_of(refused, 422, "not_eligible")["reasons"] == ["household_in_default"]


# --- loans ------------------------------------------------------------------------------------------------------


async def test_loan_is_recorded_and_read_by_the_owning_bank_and_the_government(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)

    created = await http.post(LOANS, headers=bank, json=loan_body(
        borrower, amount=30000, term_months=36, annual_rate="4.35", disbursed_on="2020-01-31"))
    assert created.status_code == 201, created.text
    loan = created.json()
    assert (loan["status"], loan["bank_code"], loan["amount"], loan["principal_outstanding"]) == (
        "active", "B001", "30000.00", "30000.00")
    assert loan["masked_id_number"] == masked(borrower) and borrower not in created.text
    assert (loan["term_months"], loan["disbursed_on"]) == (36, "2020-01-31")
    assert (await check(http, bank, borrower))["available_amount"] == "20000.00"

    loan_id = loan["loan_id"]
    own = await http.get(f"{LOANS}/{loan_id}", headers=bank)
    assert own.status_code == 200 and own.json() == loan
    for reader in ("auditor", "gov-portal"):
        answer = await http.get(f"{LOANS}/{loan_id}", headers=await auth(reader))
        assert answer.status_code == 200, answer.text
        assert (answer.json()["loan_id"], answer.json()["bank_code"], answer.json()["principal_outstanding"]) == (
            loan_id, "B001", "30000.00")
        assert borrower not in answer.text
    problem_of(await http.get(f"{LOANS}/{loan_id}", headers=await auth("bank-other")), 404, "loan_not_found")
    problem_of(await http.get(f"{LOANS}/{loan_id}", headers=await auth("his-demo")), 403, "forbidden")
    problem_of(await http.get(f"{LOANS}/{loan_id}"), 401, "unauthorized")
    for missing in (str(uuid.uuid4()), "not-a-loan"):
        problem_of(await http.get(f"{LOANS}/{missing}", headers=bank), 404, "loan_not_found")
        problem_of(await http.get(f"{LOANS}/{missing}", headers=await auth("auditor")), 404, "loan_not_found")

    event = await wait_for_event(KAFKA, "loan-disbursed", loan_id)
    assert event["type"] == "cn.fupin.loan-disbursed" and event["subject"] == loan_id
    assert (event["data"]["bank_code"], event["data"]["amount"], event["data"]["county_code"]) == (
        "B001", "30000.00", divisions.county)
    assert borrower not in json.dumps(event) and "王小明" not in json.dumps(event, ensure_ascii=False)


async def test_loan_errors_name_the_rule_or_the_field(http: httpx.AsyncClient, auth: Auth,
                                                      divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)

    too_long = await http.post(LOANS, headers=bank, json=loan_body(borrower, term_months=37))
    problem_of(too_long, 422, "term_too_long")
    over = await http.post(LOANS, headers=bank, json=loan_body(borrower, amount="50000.01"))
    assert problem_of(over, 422, "amount_over_available")["available_amount"] == "50000.00"
    tomorrow = (china_today() + dt.timedelta(days=1)).isoformat()
    broken_id = borrower[:-1] + ("0" if borrower[-1] != "0" else "1")
    invalid = {"amount": {"amount": "0"}, "term_months": {"term_months": "three years"},
               "disbursed_on": {"disbursed_on": tomorrow}, "id_number": {"id_number": broken_id},
               "annual_rate": {"annual_rate": "abc"}}
    for field, change in invalid.items():
        names_field(await http.post(LOANS, headers=bank, json={**loan_body(borrower), **change}), field)
    names_field(await http.post(LOANS, headers=bank, json=loan_body(borrower, amount="100.001")), "amount")
    without_purpose = loan_body(borrower)
    del without_purpose["purpose"]
    names_field(await http.post(LOANS, headers=bank, json=without_purpose), "purpose")
    # none of the refused requests lent anything
    assert (await check(http, bank, borrower))["available_amount"] == "50000.00"
    assert (await grant(http, bank, borrower, amount=50000, term_months=36))["principal_outstanding"] == "50000.00"


async def test_an_idempotent_retry_creates_one_loan(http: httpx.AsyncClient, auth: Auth,
                                                    divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)
    key = {"Idempotency-Key": f"loan-{uuid.uuid4().hex}"}
    first = await http.post(LOANS, headers={**bank, **key}, json=loan_body(borrower, amount="12000.00"))
    retry = await http.post(LOANS, headers={**bank, **key}, json=loan_body(borrower, amount="12000.00"))
    assert first.status_code == retry.status_code == 201, (first.text, retry.text)
    assert retry.json() == first.json()
    assert (await check(http, bank, borrower))["available_amount"] == "38000.00"
    problem_of(await http.post(LOANS, headers={**bank, **key}, json=loan_body(borrower, amount="13000.00")),
               409, "idempotency_conflict")
    assert (await check(http, bank, borrower))["available_amount"] == "38000.00"


async def test_two_banks_lending_to_one_household_at_the_same_instant_never_exceed_the_cap(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank, other = await auth("gov-portal"), await auth("bank-demo"), await auth("bank-other")
    husband, wife = person(divisions), person(divisions, dt.date(1988, 9, 9))
    await register(http, gov, divisions.village, [member(husband), member(wife, "spouse")])
    await known_to_microcredit(http, bank, husband, wife)

    pair = await asyncio.gather(http.post(LOANS, headers=bank, json=loan_body(husband, amount="30000.00")),
                                http.post(LOANS, headers=other, json=loan_body(wife, amount="30000.00")))
    assert sorted(a.status_code for a in pair) == [201, 422], [a.text for a in pair]
    refused = next(a for a in pair if a.status_code == 422)
    assert problem_of(refused, 422, "amount_over_available")["available_amount"] == "20000.00"

    # the 20,000.00 left, asked for four times at once by both banks for both members: exactly two succeed
    requests = [(bank, husband), (other, wife), (other, husband), (bank, wife)]
    answers = await asyncio.gather(*(http.post(LOANS, headers=headers, json=loan_body(who, amount="10000.00"))
                                     for headers, who in requests))
    assert sorted(a.status_code for a in answers) == [201, 201, 422, 422], [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 422:
            assert answer.json()["code"] in ("amount_over_available", "not_eligible"), answer.text
    for id_number in (husband, wife):
        body = await check(http, bank, id_number)
        assert (body["eligible"], body["reasons"], body["available_amount"]) == (False, ["cap_reached"], "0.00")


# --- repayments and defaults ------------------------------------------------------------------------------------


async def test_repayments_lower_the_principal_until_repaid_and_refuse_overpayment(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)
    loan_id = (await grant(http, bank, borrower, amount="10000.00"))["loan_id"]

    # two repayments of 6,000.00 at the same instant: only one fits in the 10,000.00 outstanding
    racing = await asyncio.gather(repay(http, bank, loan_id, "6000.00", "2020-03-01"),
                                  repay(http, bank, loan_id, "6000.00", "2020-03-01"))
    assert sorted(a.status_code for a in racing) == [200, 422], [a.text for a in racing]
    partial = next(a for a in racing if a.status_code == 200)
    assert (partial.json()["status"], partial.json()["principal_outstanding"]) == ("active", "4000.00")
    refused = next(a for a in racing if a.status_code == 422)
    assert problem_of(refused, 422, "overpayment")["principal_outstanding"] == "4000.00"
    assert (await check(http, bank, borrower))["available_amount"] == "46000.00"
    over = await repay(http, bank, loan_id, "4000.01", "2020-04-01")
    assert problem_of(over, 422, "overpayment")["principal_outstanding"] == "4000.00"
    names_field(await repay(http, bank, loan_id, "0", "2020-04-01"), "amount")
    names_field(await repay(http, bank, loan_id, "100.00", "2019-12-31"), "paid_on")
    names_field(await repay(http, bank, loan_id, "100.00", (china_today() + dt.timedelta(days=1)).isoformat()),
                "paid_on")

    repaid = await repay(http, bank, loan_id, 4000, "2020-06-30")  # a JSON number is accepted too
    assert repaid.status_code == 200, repaid.text
    assert (repaid.json()["status"], repaid.json()["principal_outstanding"]) == ("repaid", "0.00")
    problem_of(await repay(http, bank, loan_id, "0.01", "2020-07-01"), 422, "overpayment")
    problem_of(await http.post(f"{LOANS}/{loan_id}/default", headers=bank,
                               json={"unpaid_principal": "1.00", "declared_on": "2020-07-01"}), 409, "loan_not_active")

    read = await http.get(f"{LOANS}/{loan_id}", headers=await auth("auditor"))
    assert (read.json()["status"], read.json()["principal_outstanding"]) == ("repaid", "0.00")
    assert [(r["amount"], r["principal_after"]) for r in read.json()["repayments"]] == [
        ("6000.00", "4000.00"), ("4000.00", "0.00")]
    assert (await check(http, bank, borrower))["available_amount"] == "50000.00"


async def test_default_closes_the_loan_with_70_percent_compensation(http: httpx.AsyncClient, auth: Auth,
                                                                    divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)
    loan_id = (await grant(http, bank, borrower, amount="20000.00"))["loan_id"]
    assert (await repay(http, bank, loan_id, "7654.45", "2020-05-01")).status_code == 200

    too_much = await http.post(f"{LOANS}/{loan_id}/default", headers=bank,
                               json={"unpaid_principal": "12345.56", "declared_on": "2021-01-04"})
    names_field(too_much, "unpaid_principal")
    names_field(await http.post(f"{LOANS}/{loan_id}/default", headers=bank,
                                json={"unpaid_principal": "100.00", "declared_on": "2020-04-30"}), "declared_on")
    default = await http.post(f"{LOANS}/{loan_id}/default", headers=bank,
                              json={"unpaid_principal": "12345.55", "declared_on": "2021-01-04"})
    assert default.status_code == 200, default.text
    body = default.json()
    # 12,345.55 x 70% = 8,641.885: half-up to the fen is 8,641.89 (banker's rounding would give 8,641.88)
    assert (body["status"], body["unpaid_principal"], body["compensation"]) == ("defaulted", "12345.55", "8641.89")
    event = await wait_for_event(KAFKA, "risk-compensation-claimed", loan_id)
    assert (event["data"]["compensation"], event["data"]["bank_code"], event["data"]["county_code"]) == (
        "8641.89", "B001", divisions.county)

    problem_of(await http.post(f"{LOANS}/{loan_id}/default", headers=bank,
                               json={"unpaid_principal": "1.00", "declared_on": "2021-02-01"}), 409, "loan_not_active")
    # 2020Q2: 20,000.00 in April (30 days), 12,345.55 from the repayment on 1 May (61 days) -> 163.4970
    # 2021Q1: active 1-3 January, the default was declared on the 4th -> 12,345.55 x 4.35% x 3/360 = 4.4753
    claims = await claim(http, bank, "2020Q2", [(loan_id, "500.00")]), await claim(http, bank, "2021Q1",
                                                                                  [(loan_id, "500.00")])
    assert [(c.json()["items"][0]["subsidy"], c.json()["items"][0]["reason"]) for c in claims] == [
        ("163.50", None), ("4.48", None)], [c.text for c in claims]
    later = await claim(http, bank, "2021Q2", [(loan_id, "500.00")])
    assert (later.json()["items"][0]["subsidy"], later.json()["items"][0]["reason"]) == ("0.00", "not_active")
    problem_of(await repay(http, bank, loan_id, "1.00", "2021-02-01"), 409, "loan_not_active")
    read = await http.get(f"{LOANS}/{loan_id}", headers=await auth("gov-portal"))
    assert (read.json()["status"], read.json()["compensation"]) == ("defaulted", "8641.89"), read.text


# --- interest claims --------------------------------------------------------------------------------------------


async def test_interest_claim_computes_each_item_on_its_own(http: httpx.AsyncClient, auth: Auth,
                                                            divisions: Divisions) -> None:
    gov, bank, other = await auth("gov-portal"), await auth("bank-demo"), await auth("bank-other")
    members = [person(divisions, dt.date(1980 + i, 1, 1 + i)) for i in range(5)]
    await register(http, gov, divisions.village,
                   [member(members[0])] + [member(m, "sibling") for m in members[1:]])
    await known_to_microcredit(http, bank, *members)

    mid_quarter, repaid, low_rate, later, high_rate = await asyncio.gather(
        grant(http, bank, members[0], disbursed_on="2020-02-15"),
        grant(http, bank, members[1]),
        grant(http, bank, members[2], annual_rate="3.00"),
        grant(http, bank, members[3], disbursed_on="2021-01-01"),
        grant(http, bank, members[4], annual_rate="6.00", amount="9000.00"))
    assert (await repay(http, bank, repaid["loan_id"], "4000.00", "2020-03-01")).status_code == 200
    assert (await repay(http, bank, repaid["loan_id"], "6000.00", "2020-03-11")).json()["status"] == "repaid"
    others_loan = (await grant(http, other, members[4], amount="1000.00"))["loan_id"]

    answer = await claim(http, bank, "2020Q1", [
        (mid_quarter["loan_id"], "100.00"), (repaid["loan_id"], "100.00"), (low_rate["loan_id"], "100.00"),
        (high_rate["loan_id"], "50.00"), (later["loan_id"], "100.00"), (others_loan, "100.00"),
        (str(uuid.uuid4()), "100.00"), ("not-a-loan", "100.00"), (mid_quarter["loan_id"], "100.00")])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    items = [(i["subsidy"], i["reason"]) for i in body["items"]]
    assert items == [
        ("55.58", None),   # disbursed 15 Feb: 46 days of leap-year 2020Q1; 10,000 x 4.35% x 46/360 = 55.583
        ("79.75", None),   # 10,000 for 60 days, 6,000 for 10 days, repaid on 11 Mar: 660,000 x 4.35% / 360
        ("75.83", None),   # 3.00% below the benchmark, 91 days: 10,000 x 3% x 91/360 = 75.833
        ("50.00", None),   # 6.00% capped at 4.35% = 98.96, capped again by the 50.00 claimed
        ("0.00", "not_active"), ("0.00", "loan_not_found"), ("0.00", "loan_not_found"), ("0.00", "loan_not_found"),
        ("0.00", "already_claimed")], body
    assert [i["loan_id"] for i in body["items"][:6]] == [
        mid_quarter["loan_id"], repaid["loan_id"], low_rate["loan_id"], high_rate["loan_id"], later["loan_id"],
        others_loan]
    assert [i["claimed"] for i in body["items"][:4]] == ["100.00", "100.00", "100.00", "50.00"]
    assert body["subsidy_total"] == "261.16" and body["claim_id"]

    again = await claim(http, bank, "2020Q1", [(low_rate["loan_id"], "100.00")])
    assert again.status_code == 201, again.text
    assert (again.json()["subsidy_total"], again.json()["items"][0]["reason"]) == ("0.00", "already_claimed")
    # 2021Q1 has 90 days: 10,000 x 4.35% x 90/360 = 108.75; the loan repaid in 2020 is not active any more
    next_year = await claim(http, bank, "2021Q1", [(later["loan_id"], "200.00"), (repaid["loan_id"], "200.00")])
    assert [(i["subsidy"], i["reason"]) for i in next_year.json()["items"]] == [
        ("108.75", None), ("0.00", "not_active")], next_year.text
    # the other bank cannot claim bank-demo's loan, and its attempt does not use up the quarter
    foreign = await claim(http, other, "2020Q4", [(mid_quarter["loan_id"], "200.00")])
    assert [(i["subsidy"], i["reason"]) for i in foreign.json()["items"]] == [("0.00", "loan_not_found")]
    own = await claim(http, bank, "2020Q4", [(mid_quarter["loan_id"], "200.00")])
    assert [(i["subsidy"], i["reason"]) for i in own.json()["items"]] == [("111.17", None)]  # 92 days

    event = await wait_for_event(KAFKA, "interest-subsidy-claimed", body["claim_id"])
    assert event["data"]["subsidy_total"] == "261.16" and len(event["data"]["items"]) == 4


async def test_concurrent_and_retried_claims_subsidise_a_loan_once_per_quarter(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)
    loan_id = (await grant(http, bank, borrower))["loan_id"]

    racing = await asyncio.gather(*(claim(http, bank, "2020Q1", [(loan_id, "500.00")]) for _ in range(4)))
    assert [a.status_code for a in racing] == [201] * 4, [a.text for a in racing]
    outcomes = sorted((a.json()["items"][0]["subsidy"], a.json()["items"][0]["reason"] or "") for a in racing)
    # 10,000 x 4.35% x 91/360 = 109.958 -> 109.96, once; the other three are refused
    assert outcomes == [("0.00", "already_claimed")] * 3 + [("109.96", "")], outcomes

    key = {"Idempotency-Key": f"claim-{uuid.uuid4().hex}"}
    body = {"period": "2020Q2", "items": [{"loan_id": loan_id, "interest": "500.00"}]}
    first = await http.post(CLAIMS, headers={**bank, **key}, json=body)
    retry = await http.post(CLAIMS, headers={**bank, **key}, json=body)
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json(), retry.text
    assert first.json()["items"][0]["subsidy"] == "109.96"  # 2020Q2 has 91 days too
    fresh = await claim(http, bank, "2020Q2", [(loan_id, "500.00")])
    assert fresh.json()["items"][0]["reason"] == "already_claimed", fresh.text


async def test_interest_claim_refuses_a_quarter_that_has_not_ended_and_a_malformed_period(
        http: httpx.AsyncClient, auth: Auth) -> None:
    bank = await auth("bank-demo")
    today = china_today()
    current = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    for period in (current, f"{today.year + 1}Q1", "2020Q5", "2020-Q1", "0000Q1", "9999Q4"):
        names_field(await claim(http, bank, period, [(str(uuid.uuid4()), "1.00")]), "period")
    names_field(await http.post(CLAIMS, headers=bank, json={"period": "2020Q1", "items": []}), "items")


# --- policies and the portfolio ---------------------------------------------------------------------------------


async def test_policy_defaults_for_a_year_never_set_and_who_may_change_it(http: httpx.AsyncClient,
                                                                          auth: Auth) -> None:
    year = random.randint(2060, 2100)
    for reader in ("gov-portal", "auditor"):
        answer = await http.get(f"/microcredit/policies/{year}", headers=await auth(reader))
        assert answer.status_code == 200, answer.text
        assert {k: answer.json()[k] for k in ("household_cap", "max_term_months", "min_age", "max_age",
                                              "benchmark_rate", "compensation_ratio", "is_default")} == {
            "household_cap": "50000.00", "max_term_months": 36, "min_age": 18, "max_age": 65,
            "benchmark_rate": "4.35", "compensation_ratio": "0.70", "is_default": True}, answer.text
    terms = {"household_cap": "60000.00", "max_term_months": 36, "min_age": 18, "max_age": 65,
             "benchmark_rate": "4.35", "compensation_ratio": "0.70"}
    for client in ("auditor", "bank-demo", "his-demo"):
        problem_of(await http.put(f"/microcredit/policies/{year}", headers=await auth(client), json=terms),
                   403, "forbidden")
    for client in ("bank-demo", "his-demo"):
        problem_of(await http.get(f"/microcredit/policies/{year}", headers=await auth(client)), 403, "forbidden")
    gov = await auth("gov-portal")
    names_field(await http.put(f"/microcredit/policies/{year}", headers=gov,
                               json={**terms, "household_cap": "-1.00"}), "household_cap")
    assert (await http.put(f"/microcredit/policies/{year}", headers=gov, json={**terms, "min_age": 70})
            ).json()["code"] == "validation_error"
    assert (await http.get(f"/microcredit/policies/{year}", headers=gov)).json()["is_default"] is True


POLICY_2001 = {"household_cap": "20000.00", "max_term_months": 24, "min_age": 20, "max_age": 60,
               "benchmark_rate": "3.00", "compensation_ratio": "0.50"}


async def test_the_policy_of_a_year_governs_the_loans_of_that_year(http: httpx.AsyncClient, auth: Auth,
                                                                    divisions: Divisions) -> None:
    gov, bank = await auth("gov-portal"), await auth("bank-demo")
    # 2001 is this test's year; every run sets the same terms, so parallel runs agree
    put = await http.put("/microcredit/policies/2001", headers=gov, json=POLICY_2001)
    assert put.status_code in (200, 201), put.text
    read = await http.get("/microcredit/policies/2001", headers=await auth("auditor"))
    assert {k: read.json()[k] for k in POLICY_2001} == POLICY_2001 and read.json()["is_default"] is False

    borrower, young = person(divisions, dt.date(1970, 5, 5)), person(divisions, dt.date(1982, 6, 1))
    await register(http, gov, divisions.village, [member(borrower), member(young, "sibling")])
    await known_to_microcredit(http, bank, borrower, young)
    assert (await check(http, bank, young))["eligible"] is True  # 44 today, under this year's default policy
    in_2001 = {"disbursed_on": "2001-03-01", "term_months": 24}
    refused = await http.post(LOANS, headers=bank, json=loan_body(young, **in_2001))
    assert problem_of(refused, 422, "not_eligible")["reasons"] == ["age_out_of_range"]  # 18 in 2001, min_age 20
    problem_of(await http.post(LOANS, headers=bank, json=loan_body(borrower, **{**in_2001, "term_months": 25})),
               422, "term_too_long")
    over = await http.post(LOANS, headers=bank, json=loan_body(borrower, amount="20000.01", **in_2001))
    assert problem_of(over, 422, "amount_over_available")["available_amount"] == "20000.00"
    loan_id = (await grant(http, bank, borrower, amount="20000.00", **in_2001))["loan_id"]

    # 2001Q2 at the 3.00% benchmark of 2001: 20,000 x 3% x 91/360 = 151.67
    subsidy = await claim(http, bank, "2001Q2", [(loan_id, "500.00")])
    assert subsidy.json()["items"][0]["subsidy"] == "151.67", subsidy.text
    default = await http.post(f"{LOANS}/{loan_id}/default", headers=bank,
                              json={"unpaid_principal": "20000.00", "declared_on": "2001-12-31"})
    assert default.json()["compensation"] == "10000.00", default.text  # 50% in 2001


async def test_portfolio_report_per_county_with_uptake_overdue_and_defaults(http: httpx.AsyncClient, auth: Auth,
                                                                            divisions: Divisions) -> None:
    gov, bank, other = await auth("gov-portal"), await auth("bank-demo"), await auth("bank-other")
    a1, a2, b, c = (person(divisions, dt.date(1980 + i, 2, 2)) for i in range(4))
    households = await asyncio.gather(
        register(http, gov, divisions.village, [member(a1), member(a2, "spouse")]),
        register(http, gov, divisions.village, [member(b)]),
        register(http, gov, divisions.village, [member(c)]))
    await known_to_microcredit(http, bank, a1, a2, b, c)

    await grant(http, bank, a1, amount="10000.00", disbursed_on="2019-01-01", term_months=12)  # overdue since 2020
    partly_repaid = await grant(http, other, a2, amount="5000.00", disbursed_on="2025-06-01")  # due 2028-06-01
    assert (await repay(http, other, partly_repaid["loan_id"], "1000.00", "2025-07-01")).status_code == 200
    defaulted = await grant(http, bank, b, amount="8000.00", disbursed_on="2020-05-01")
    assert (await http.post(f"{LOANS}/{defaulted['loan_id']}/default", headers=bank,
                            json={"unpaid_principal": "8000.00", "declared_on": "2021-05-01"})).status_code == 200

    async def county(year: int | None = None, client: str = "auditor") -> dict[str, Any]:
        answer = await http.get("/microcredit/reports/portfolio", headers=await auth(client),
                                params={"year": year} if year else {})
        assert answer.status_code == 200, answer.text
        assert {"counties", "banks", "total"} <= set(answer.json())
        if year is None:
            assert {"B001", "B002"} <= {row["bank_code"] for row in answer.json()["banks"]}
        return next(row for row in answer.json()["counties"] if row["county_code"] == divisions.county)

    figures = await county(client="gov-portal")
    assert {k: figures[k] for k in (
        "loans_granted", "amount_granted", "outstanding_principal", "overdue_loans", "overdue_principal",
        "defaulted_loans", "defaulted_principal", "compensation", "borrowing_households",
        "registered_poor_households", "loan_uptake_rate")} == {
        "loans_granted": 3, "amount_granted": "23000.00", "outstanding_principal": "14000.00", "overdue_loans": 1,
        "overdue_principal": "10000.00", "defaulted_loans": 1, "defaulted_principal": "8000.00",
        "compensation": "5600.00", "borrowing_households": 2, "registered_poor_households": 3,
        "loan_uptake_rate": "0.6667"}, figures
    in_2019 = await county(2019)
    assert (in_2019["loans_granted"], in_2019["amount_granted"], in_2019["overdue_loans"],
            in_2019["borrowing_households"], in_2019["loan_uptake_rate"]) == (1, "10000.00", 1, 1, "0.3333"), in_2019
    in_2020 = await county(2020)
    assert (in_2020["loans_granted"], in_2020["amount_granted"], in_2020["outstanding_principal"],
            in_2020["defaulted_loans"], in_2020["compensation"], in_2020["borrowing_households"]) == (
        1, "8000.00", "0.00", 1, "5600.00", 1), in_2020
    in_2025 = await county(2025)
    assert (in_2025["loans_granted"], in_2025["outstanding_principal"], in_2025["overdue_loans"],
            in_2025["defaulted_loans"], in_2025["borrowing_households"]) == (1, "4000.00", 0, 0, 1), in_2025

    # removing the household that never borrowed: 2 borrowing of 2 registered-poor households
    removed = await http.post(f"/registry/households/{households[2]}/removal", headers=gov, json={"reason": "错评"})
    assert removed.status_code == 200, removed.text
    after = await eventually(county, lambda f: f["registered_poor_households"] == 2, timeout=10)
    assert (after["registered_poor_households"], after["loan_uptake_rate"]) == (2, "1.0000"), after
    for client in ("bank-demo", "his-demo"):
        problem_of(await http.get("/microcredit/reports/portfolio", headers=await auth(client)), 403, "forbidden")


# --- scopes and bank isolation ----------------------------------------------------------------------------------


async def test_another_bank_gets_loan_not_found_on_every_route_and_changes_nothing(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank, other = await auth("gov-portal"), await auth("bank-demo"), await auth("bank-other")
    borrower = person(divisions)
    await register(http, gov, divisions.village, [member(borrower)])
    await known_to_microcredit(http, bank, borrower)
    loan = await grant(http, bank, borrower, amount="15000.00")
    loan_id = loan["loan_id"]

    problem_of(await http.get(f"{LOANS}/{loan_id}", headers=other), 404, "loan_not_found")
    problem_of(await repay(http, other, loan_id, "100.00", "2020-02-01"), 404, "loan_not_found")
    problem_of(await http.post(f"{LOANS}/{loan_id}/default", headers=other,
                               json={"unpaid_principal": "15000.00", "declared_on": "2020-02-01"}),
               404, "loan_not_found")
    claimed = await claim(http, other, "2020Q1", [(loan_id, "100.00")])
    assert claimed.status_code == 201, claimed.text
    assert (claimed.json()["subsidy_total"], claimed.json()["items"][0]["reason"]) == ("0.00", "loan_not_found")

    unchanged = (await http.get(f"{LOANS}/{loan_id}", headers=bank)).json()
    assert unchanged == loan and unchanged["repayments"] == []
    own_claim = await claim(http, bank, "2020Q1", [(loan_id, "500.00")])
    # 15,000 x 4.35% x 91/360 = 164.94
    assert [(i["subsidy"], i["reason"]) for i in own_claim.json()["items"]] == [("164.94", None)], own_claim.text


async def test_scopes_guard_every_microcredit_route(http: httpx.AsyncClient, auth: Auth,
                                                    divisions: Divisions) -> None:
    someone = person(divisions)
    loan_id = str(uuid.uuid4())
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", CHECKS, {"id_number": someone}),
        ("POST", LOANS, loan_body(someone)),
        ("GET", f"{LOANS}/{loan_id}", None),
        ("POST", f"{LOANS}/{loan_id}/repayments", {"amount": "1.00", "paid_on": "2020-02-01"}),
        ("POST", f"{LOANS}/{loan_id}/default", {"unpaid_principal": "1.00", "declared_on": "2020-02-01"}),
        ("POST", CLAIMS, {"period": "2020Q1", "items": [{"loan_id": loan_id, "interest": "1.00"}]}),
        ("GET", "/microcredit/policies/2020", None),
        ("PUT", "/microcredit/policies/2020", POLICY_2001),
        ("GET", "/microcredit/reports/portfolio", None),
    ]
    bank_routes = {0, 1, 2, 3, 4, 5}
    allowed = {"his-demo": set(), "auditor": {2, 6, 8}, "gov-portal": {2, 6, 7, 8}}
    for client, may in allowed.items():
        headers = await auth(client)
        for index, (method, path, body) in enumerate(routes):
            if index in may or index == 7:  # never overwrite the shared 2020 policy
                continue
            answer = await http.request(method, path, headers=headers, json=body)
            assert (answer.status_code, answer.json()["code"]) == (403, "forbidden"), (client, method, path)
    bank = await auth("bank-demo")
    for index, (method, path, body) in enumerate(routes):
        if index not in bank_routes:
            answer = await http.request(method, path, headers=bank, json=body)
            assert (answer.status_code, answer.json()["code"]) == (403, "forbidden"), (method, path)
        anonymous = await http.request(method, path, json=body)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized"), (method, path)
    auditor_put = await http.put(f"/microcredit/policies/{random.randint(2060, 2100)}", headers=await auth("auditor"),
                                 json=POLICY_2001)
    assert (auditor_put.status_code, auditor_put.json()["code"]) == (403, "forbidden")
