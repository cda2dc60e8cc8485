"""Money crosses services only through Kafka: grants, settlements, subsidies and compensation are paid by finance
from the programme account of the household's county, exactly once, and wait for funds when the account is short."""

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx
import pytest
from conftest import Divisions, eventually, member, register, resident_id

Auth = Callable[[str], Awaitable[dict[str, str]]]



async def fund_program(http: httpx.AsyncClient, gov: dict[str, str], county: str, program: str, amount: str) -> None:
    fund = await http.post("/finance/funds", headers=gov, json={
        "jurisdiction_code": county, "year": 2020, "source": "central", "purpose": program, "amount": amount})
    assert fund.status_code == 201, fund.text
    allocation = await http.post("/finance/allocations", headers=gov, json={
        "from_fund_id": fund.json()["fund_id"], "program": program, "amount": amount})
    assert allocation.status_code == 201, allocation.text


async def payments(http: httpx.AsyncClient, gov: dict[str, str], reference: str) -> list[dict]:
    answer = await http.get("/finance/payments", headers=gov, params={"reference": reference})
    assert answer.status_code == 200, answer.text
    return answer.json()


def paid_status(status: str) -> Callable[[list[dict]], bool]:
    return lambda found: len(found) == 1 and found[0]["status"] == status


async def reaches_service(http: httpx.AsyncClient, headers: dict[str, str], path: str, id_number: str,
                          field: str) -> None:
    answer = await eventually(lambda: http.post(path, headers=headers, json={"id_number": id_number}),
                              lambda r: r.status_code == 200 and r.json()[field])
    assert answer.json()[field], answer.text


async def test_education_grant_waits_for_funds_then_is_paid_once(http: httpx.AsyncClient, auth: Auth,
                                                                 divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    parent = resident_id(divisions.county, dt.date(1982, 2, 2))
    child = resident_id(divisions.county, dt.date(2004, 9, 9))
    await register(http, gov, divisions.village, [
        member(parent), member(child, "child", labor="none", school_stage="senior")])
    enrol = {"id_number": child, "school_code": "S-1", "stage": "senior", "grade": "2", "boarding": False,
             "academic_year": "2020-2021"}
    created = await http.post("/education/enrollments", headers=gov, json=enrol)
    assert created.status_code == 201, created.text
    # the household may reach education after the enrolment: the grant then comes by catch-up, without another call
    enrolled = await eventually(
        lambda: http.get(f"/education/enrollments/{created.json()['enrollment_id']}", headers=gov),
        lambda r: r.status_code == 200 and bool(r.json()["grants"]))
    grant = enrolled.json()["grants"][0]
    assert grant["kind"] == "senior" and Decimal(grant["amount"]) == Decimal("2000.00")

    pending = await eventually(lambda: payments(http, gov, grant["grant_id"]), paid_status("pending_funds"))
    assert paid_status("pending_funds")(pending), pending
    await fund_program(http, gov, divisions.county, "education_grants", "2500.00")
    paid = await eventually(lambda: payments(http, gov, grant["grant_id"]), paid_status("paid"))
    assert paid_status("paid")(paid) and Decimal(paid[0]["amount"]) == Decimal("2000.00"), paid
    assert paid[0]["program"] == "education_grants"

    looked_up = await eventually(
        lambda: http.post("/education/grant-lookups", headers=gov, json={"id_number": child}),
        lambda r: r.status_code == 200 and r.json()["grants"] and r.json()["grants"][0]["status"] == "paid")
    assert looked_up.json()["grants"][0]["status"] == "paid", looked_up.text
    again = await http.post("/education/enrollments", headers=gov, json=enrol)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_enrollment"
    verify = (await http.get("/finance/ledger/verify", headers=gov)).json()
    assert verify["balanced"] is True and verify["negative_balances"] == 0


async def test_settlement_pays_the_hospital_and_reversal_reverses_it(http: httpx.AsyncClient, auth: Auth,
                                                                      divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    patient = resident_id(divisions.county, dt.date(1960, 6, 6))
    await register(http, gov, divisions.village, [member(patient)])
    await fund_program(http, gov, divisions.county, "medical_assistance", "10000.00")
    hospital = f"H{uuid.uuid4().hex[:8]}"
    put = await http.put(f"/medical/hospitals/{hospital}", headers=gov,
                         json={"name": "测试县医院", "level": "county", "county_code": divisions.county})
    assert put.status_code in (200, 201), put.text
    await reaches_service(http, his, "/medical/eligibility-checks", patient, "poor_population")

    discharge = {"encounter_id": f"E-{uuid.uuid4().hex}", "id_number": patient, "hospital_code": hospital,
                 "total_cost": "52000.00", "eligible_cost": "50000.00", "diagnoses": ["C34.9"],
                 "discharged_on": "2020-03-01"}
    settled = await http.post("/medical/settlements", headers=his, json=discharge)
    assert settled.status_code == 201, settled.text
    body = settled.json()
    assert body["breakdown"] == {"basic_insurance": "42245.00", "critical_illness_insurance": "3804.00",
                                 "medical_assistance": "2765.70", "supplementary": "0.00"}
    assert body["patient_pays"] == "3185.30" and "C34.9" not in settled.text
    retry = await http.post("/medical/settlements", headers=his, json=discharge)
    assert retry.status_code == 200 and retry.json()["settlement_id"] == body["settlement_id"]

    settlement_id = body["settlement_id"]
    paid = await eventually(lambda: payments(http, gov, settlement_id), paid_status("paid"))
    assert paid_status("paid")(paid) and Decimal(paid[0]["amount"]) == Decimal("2765.70"), paid
    reversal = await http.post(f"/medical/settlements/{settlement_id}/reversal", headers=his,
                               json={"reason": "billing error"})
    assert reversal.status_code == 200 and reversal.json()["status"] == "reversed", reversal.text
    reversed_ = await eventually(lambda: payments(http, gov, settlement_id), paid_status("reversed"))
    assert paid_status("reversed")(reversed_), reversed_


async def test_bank_claims_subsidy_and_compensation_and_sees_only_its_loans(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, bank, other = await auth("gov-portal"), await auth("bank-demo"), await auth("bank-other")
    borrower = resident_id(divisions.county, dt.date(1985, 8, 8))
    await register(http, gov, divisions.village, [member(borrower)])
    await fund_program(http, gov, divisions.county, "loan_interest_subsidy", "5000.00")
    await fund_program(http, gov, divisions.county, "risk_compensation", "50000.00")
    await reaches_service(http, bank, "/microcredit/eligibility-checks", borrower, "eligible")

    loan = await http.post("/microcredit/loans", headers=bank, json={
        "id_number": borrower, "amount": "30000.00", "term_months": 36, "annual_rate": "4.35",
        "disbursed_on": "2020-01-01", "purpose": "茶叶种植"})
    assert loan.status_code == 201, loan.text
    loan_id = loan.json()["loan_id"]
    assert loan.json()["bank_code"] == "B001" and loan.json()["status"] == "active"
    assert (await http.get(f"/microcredit/loans/{loan_id}", headers=other)).json()["code"] == "loan_not_found"

    claim = await http.post("/microcredit/interest-claims", headers=bank, json={
        "period": "2020Q1", "items": [{"loan_id": loan_id, "interest": "400.00"}]})
    assert claim.status_code == 201, claim.text
    # 30,000.00 x 4.35% x 91 days / 360 = 329.875 -> 329.88
    assert claim.json()["items"][0]["subsidy"] == "329.88"
    claim_id = claim.json()["claim_id"]
    paid = await eventually(lambda: payments(http, gov, claim_id), lambda p: p and p[0]["status"] == "paid")
    assert paid and paid[0]["status"] == "paid" and Decimal(paid[0]["amount"]) == Decimal("329.88"), paid

    default = await http.post(f"/microcredit/loans/{loan_id}/default", headers=bank,
                              json={"unpaid_principal": "30000.00", "declared_on": "2021-06-30"})
    assert default.status_code == 200 and default.json()["status"] == "defaulted", default.text
    compensated = await eventually(lambda: payments(http, gov, loan_id),
                                   lambda p: any(x["status"] == "paid" for x in p))
    assert any(Decimal(x["amount"]) == Decimal("21000.00") and x["status"] == "paid" for x in compensated), compensated


@pytest.mark.parametrize("path", ["/registry/divisions/{village}/public-notice", "/finance/disclosures/{county}"])
async def test_public_pages_need_no_token_and_show_no_id_numbers(http: httpx.AsyncClient, divisions: Divisions,
                                                                 path: str) -> None:
    answer = await http.get(path.format(village=divisions.village, county=divisions.county),
                            params={"year": 2020})
    assert answer.status_code == 200, answer.text
    assert divisions.county + "19" not in answer.text  # no resident ID number of this county's people
