"""Finance (contract §5) end to end with the services that order payments: every yuan paid names the received funds
it came from, and the public disclosure shows what was paid per programme and village without personal data."""

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from conftest import Divisions, eventually, household_body, member, resident_id
from test_finance import assert_ledger_balanced, receive, send

Auth = Callable[[str], Awaitable[dict[str, str]]]


async def register(http: httpx.AsyncClient, gov: dict[str, str], village: str, members: list[dict]) -> str:
    created = await send(http, "POST", "/registry/households", headers=gov, json=household_body(village, members))
    assert created.status_code == 201, created.text
    household_id = created.json()["household_id"]
    for level in ("town", "county"):
        answer = await send(http, "POST", f"/registry/households/{household_id}/verifications", headers=gov,
                            json={"level": level, "approved": True, "officer": level, "note": "e2e"})
        assert answer.status_code in (200, 201), answer.text
    return str(household_id)


async def payments(http: httpx.AsyncClient, headers: dict[str, str], reference: str) -> list[dict[str, Any]]:
    answer = await send(http, "GET", "/finance/payments", headers=headers, params={"reference": reference})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def one_with_status(status: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda found: len(found) == 1 and found[0]["status"] == status


async def disclosure(http: httpx.AsyncClient, code: str, year: int) -> httpx.Response:
    return await send(http, "GET", f"/finance/disclosures/{code}", params={"year": year})  # no token


async def grant_for(http: httpx.AsyncClient, gov: dict[str, str], child: str) -> dict[str, Any]:
    created = await send(http, "POST", "/education/enrollments", headers=gov, json={
        "id_number": child, "school_code": "S-1", "stage": "senior", "grade": "2", "boarding": False,
        "academic_year": "2020-2021"})
    assert created.status_code == 201, created.text
    enrolled = await eventually(
        lambda: send(http, "GET", f"/education/enrollments/{created.json()['enrollment_id']}", headers=gov),
        lambda r: r.status_code == 200 and bool(r.json()["grants"]))
    assert enrolled.json()["grants"], enrolled.text
    return dict(enrolled.json()["grants"][0])


async def settle(http: httpx.AsyncClient, gov: dict[str, str], his: dict[str, str], county: str,
                 patient: str) -> dict[str, Any]:
    hospital = f"H{uuid.uuid4().hex[:8]}"
    put = await send(http, "PUT", f"/medical/hospitals/{hospital}", headers=gov,
                     json={"name": "测试县医院", "level": "county", "county_code": county})
    assert put.status_code in (200, 201), put.text
    eligible = await eventually(
        lambda: send(http, "POST", "/medical/eligibility-checks", headers=his, json={"id_number": patient}),
        lambda r: r.status_code == 200 and r.json()["poor_population"])
    assert eligible.json()["poor_population"], eligible.text
    settled = await send(http, "POST", "/medical/settlements", headers=his, json={
        "encounter_id": f"E-{uuid.uuid4().hex}", "id_number": patient, "hospital_code": hospital,
        "total_cost": "52000.00", "eligible_cost": "50000.00", "diagnoses": ["C34.9"], "discharged_on": "2020-03-01"})
    assert settled.status_code == 201, settled.text
    assert settled.json()["breakdown"]["medical_assistance"] == "2765.70", settled.text
    return dict(settled.json())


async def test_payments_name_their_source_funds_and_the_disclosure_shows_no_person(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, auditor, his = await auth("gov-portal"), await auth("auditor"), await auth("his-demo")
    county, city = divisions.county, divisions.city
    # money: a county central fund and a city provincial fund, integrated, then allocated to two programmes
    central = await receive(http, gov, county, "3000.00", source="central", purpose="education_grants")
    provincial = await receive(http, gov, city, "3000.00", source="provincial", purpose="medical_assistance")
    integrated = await send(http, "POST", "/finance/integrations", headers=gov, json={
        "jurisdiction_code": county, "year": 2020, "items": [{"fund_id": central["fund_id"], "amount": "3000.00"},
                                                              {"fund_id": provincial["fund_id"], "amount": "3000.00"}]})
    assert integrated.status_code == 201, integrated.text
    integrated_id = integrated.json()["fund_id"]
    for program, amount in (("education_grants", "2500.00"), ("medical_assistance", "3500.00")):
        allocation = await send(http, "POST", "/finance/allocations", headers=gov,
                                json={"from_fund_id": integrated_id, "program": program, "amount": amount})
        assert allocation.status_code == 201, allocation.text

    # a household with a patient and a senior-school child: a grant (to the household) and a settlement (to the
    # hospital), each paid from the programme accounts of the household's county
    parent = resident_id(county, dt.date(1961, 3, 3))
    child = resident_id(county, dt.date(2004, 10, 10))
    household_id = await register(http, gov, divisions.village, [
        member(parent), member(child, "child", labor="none", school_stage="senior")])
    grant = await grant_for(http, gov, child)
    settlement = await settle(http, gov, his, county, parent)

    grant_paid = await eventually(lambda: payments(http, auditor, grant["grant_id"]), one_with_status("paid"))
    assert one_with_status("paid")(grant_paid), grant_paid
    assert grant_paid[0]["program"] == "education_grants" and grant_paid[0]["amount"] == "2000.00"
    assert grant_paid[0]["reference"] == grant["grant_id"] and grant_paid[0]["payee"] == f"household:{household_id}"
    settled_paid = await eventually(lambda: payments(http, auditor, settlement["settlement_id"]),
                                    one_with_status("paid"))
    assert one_with_status("paid")(settled_paid), settled_paid
    assert settled_paid[0]["program"] == "medical_assistance" and settled_paid[0]["amount"] == "2765.70"

    # lineage to the fen, FIFO: education took 2,500.00 of the central fund; medical the other 500.00, then provincial
    lineage = await send(http, "GET", f"/finance/payments/{grant_paid[0]['payment_id']}/lineage", headers=auditor)
    assert lineage.status_code == 200, lineage.text
    assert [(s["fund_id"], s["amount"], s["source"]) for s in lineage.json()["sources"]] == [
        (central["fund_id"], "2000.00", "central")]
    lineage = await send(http, "GET", f"/finance/payments/{settled_paid[0]['payment_id']}/lineage", headers=auditor)
    assert [(s["fund_id"], s["amount"]) for s in lineage.json()["sources"]] == [
        (central["fund_id"], "500.00"), (provincial["fund_id"], "2265.70")], lineage.text
    # who paid and why is on the audit trail
    trail = await send(http, "GET", "/finance/ledger/entries", headers=auditor,
                       params={"reference": settled_paid[0]["payment_id"]})
    assert [(e["kind"], e["recorded_by"]) for e in trail.json()] == [("payment", "event:medical")], trail.text

    # the public disclosure, without a token, per programme and village for the county, its city and the village
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).year
    public = await disclosure(http, county, year)
    assert public.status_code == 200, public.text
    body = public.json()
    assert body["total_paid"] == "4765.70"
    assert {p["program"]: (p["payments"], p["amount"]) for p in body["programs"]} == {
        "education_grants": (1, "2000.00"), "medical_assistance": (1, "2765.70")}
    assert [(v["village_code"], v["amount"]) for v in body["villages"]] == [(divisions.village, "4765.70")]
    assert {(a["program"], a["amount"]) for a in body["allocations"]} == {
        ("education_grants", "2500.00"), ("medical_assistance", "3500.00")}
    for code in (city, divisions.village):
        wider = await disclosure(http, code, year)
        assert wider.status_code == 200, wider.text
        village = [v for v in wider.json()["villages"] if v["village_code"] == divisions.village]
        assert village and village[0]["amount"] == "4765.70", wider.text
    for text in (public.text, wider.text):
        for secret in (household_id, parent, child, parent[:6] + "*", "王", "C34.9", settlement["settlement_id"],
                       grant["grant_id"], "household"):
            assert secret not in text, f"{secret} in the public disclosure"
    assert (await disclosure(http, county, year - 1)).json()["total_paid"] == "0.00"

    # a reversed settlement is no longer money paid: the money returns to the account and leaves the disclosure
    reversal = await send(http, "POST", f"/medical/settlements/{settlement['settlement_id']}/reversal", headers=his,
                          json={"reason": "billing error"})
    assert reversal.status_code == 200, reversal.text
    reversed_ = await eventually(lambda: payments(http, auditor, settlement["settlement_id"]),
                                 one_with_status("reversed"))
    assert one_with_status("reversed")(reversed_), reversed_
    account = await send(http, "GET", "/finance/accounts", headers=auditor,
                         params={"jurisdiction_code": county, "program": "medical_assistance"})
    assert account.json()[0]["balance"] == "3500.00", account.text
    assert (await disclosure(http, county, year)).json()["total_paid"] == "2000.00"
    await assert_ledger_balanced(http, auditor)


async def test_disclosure_needs_no_token_and_validates_the_code(http: httpx.AsyncClient) -> None:
    empty = await disclosure(http, "910001", 2020)
    assert empty.status_code == 200, empty.text
    assert empty.json()["total_paid"] == "0.00" and empty.json()["villages"] == []
    for code in ("12", "9100011"):
        bad = await disclosure(http, code, 2020)
        assert bad.status_code == 422 and bad.json()["code"] == "validation_error", bad.text
    bad_year = await disclosure(http, "910001", 1900)
    assert bad_year.status_code == 422 and bad_year.json()["errors"][0]["field"] == "year", bad_year.text
    # the public route is GET only: writing to it still needs a token
    post = await send(http, "POST", "/finance/disclosures/910001", json={})
    assert post.status_code == 401, post.text

