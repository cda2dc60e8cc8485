"""Welfare (contract v2 §8) end to end through the gateway: households come from the registry's events, both worked
examples to the fen, the monthly run, and finance paying benefits from the welfare programme accounts (§5 v2)."""

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
from conftest import Divisions, eventually, member, register, resident_id

Auth = Callable[[str], Awaitable[dict[str, str]]]


async def members_of(http: httpx.AsyncClient, gov: dict[str, str], household_id: str) -> list[dict[str, Any]]:
    answer = await http.get(f"/registry/households/{household_id}", headers=gov)
    assert answer.status_code == 200, answer.text
    return answer.json()["members"]


async def open_case(http: httpx.AsyncClient, gov: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    """POST the case until the household's event has reached welfare (a 422 not_registered_poor is retried)."""
    return await eventually(lambda: http.post("/welfare/cases", headers=gov, json=body),
                            lambda r: not (r.status_code == 422 and r.json().get("code") == "not_registered_poor"))


async def benefits_of(http: httpx.AsyncClient, gov: dict[str, str], case_id: str) -> list[dict[str, Any]]:
    answer = await http.get("/welfare/benefits", headers=gov, params={"case_id": case_id})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def run(http: httpx.AsyncClient, gov: dict[str, str], month: str) -> dict[str, Any]:
    answer = await http.post("/welfare/runs", headers=gov, json={"month": month})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_june_2020_example_end_to_end(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    household_id = await register(http, gov, divisions.village, [
        member(resident_id(divisions.county, dt.date(1957, 3, 1)), labor="partial"),
        member(resident_id(divisions.county, dt.date(1962, 1, 15)), "spouse", health="disabled",
               disability_grade=2, labor="none"),
        member(resident_id(divisions.county, dt.date(1986, 5, 5)), "child"),
        member(resident_id(divisions.county, dt.date(2011, 2, 2)), "grandchild", labor="none")])
    spouse = next(m for m in await members_of(http, gov, household_id) if m["relation"] == "spouse")
    created = await open_case(http, gov, {
        "household_id": household_id, "annual_income": "9600.00", "assessed_on": "2020-06-01",
        "opened_on": "2020-06-01", "disabled_members": [{"member_id": spouse["member_id"], "disability_grade": 2}]})
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["status"], case["members"], case["standard"]) == ("active", 4, "333.33")
    assert case["breakdown"]["base"] == "533.32" and case["monthly_amount"] == "666.65"
    assert {s["category"]: s["amount"] for s in case["breakdown"]["supplements"]} == {
        "elderly": "33.33", "severe_disability": "66.67", "minor": "33.33"}
    again = await http.post("/welfare/cases", headers=gov, json={
        "household_id": household_id, "annual_income": "9600.00", "assessed_on": "2020-06-01",
        "opened_on": "2020-06-01"})
    assert again.status_code == 409 and again.json()["code"] == "case_already_open"

    await run(http, gov, "2020-06")
    await run(http, gov, "2020-06")  # a repeated run adds nothing
    benefits = await benefits_of(http, gov, case["case_id"])
    assert [(b["month"], b["amount"], b["kind"]) for b in benefits] == [("2020-06", "666.65", "minimum_living")]
    read = await http.get(f"/welfare/benefits/{benefits[0]['benefit_id']}", headers=auditor)
    assert read.status_code == 200 and read.json()["amount"] == "666.65"
    assert (await http.post("/welfare/runs", headers=auditor, json={"month": "2020-06"})).status_code == 403


async def test_gradual_exit_example_end_to_end(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    household_id = await register(http, gov, divisions.village, [
        member(resident_id(divisions.county, dt.date(1990, 1, 1))),
        member(resident_id(divisions.county, dt.date(1975, 3, 3)), "spouse"),
        member(resident_id(divisions.county, dt.date(2000, 5, 5)), "child")])
    body = {"household_id": household_id, "annual_income": "7200.00", "assessed_on": "2020-01-06",
            "opened_on": "2020-01-06"}
    created = await open_case(http, gov, body)
    assert created.status_code == 201 and created.json()["monthly_amount"] == "399.99", created.text
    case_id = created.json()["case_id"]
    exit_ = await http.post(f"/welfare/cases/{case_id}/income-assessments", headers=gov,
                            json={"annual_income": "13500.00", "assessed_on": "2020-05-20"})
    assert exit_.status_code == 201, exit_.text
    assert exit_.json()["gradual_exit"]["last_month"] == "2020-11"
    for month in [f"2020-{m:02d}" for m in range(1, 13)]:
        await run(http, gov, month)
    benefits = await benefits_of(http, gov, case_id)
    assert [b["month"] for b in benefits] == [f"2020-{m:02d}" for m in range(1, 12)]
    assert {b["amount"] for b in benefits} == {"399.99"}
    assert sum(Decimal(b["amount"]) for b in benefits) == Decimal("4399.89")
    closed = (await http.get(f"/welfare/cases/{case_id}", headers=gov)).json()
    assert closed["status"] == "closed" and closed["close_reason"] == "income_above_line"


async def test_reactivation_example_end_to_end(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    household_id = await register(http, gov, divisions.village, [
        member(resident_id(divisions.county, dt.date(1990, 1, 1))),
        member(resident_id(divisions.county, dt.date(1975, 3, 3)), "spouse"),
        member(resident_id(divisions.county, dt.date(2000, 5, 5)), "child")])
    created = await open_case(http, gov, {"household_id": household_id, "annual_income": "7200.00",
                                          "assessed_on": "2020-01-06", "opened_on": "2020-01-06"})
    case_id = created.json()["case_id"]
    await http.post(f"/welfare/cases/{case_id}/income-assessments", headers=gov,
                    json={"annual_income": "13500.00", "assessed_on": "2020-05-20"})
    again = await http.post(f"/welfare/cases/{case_id}/income-assessments", headers=gov,
                            json={"annual_income": "11400.00", "assessed_on": "2020-08-12"})
    assert again.status_code == 201 and again.json()["status"] == "active", again.text
    assert again.json()["monthly_amount"] == "49.99"
    for month in ("2020-08", "2020-09"):
        await run(http, gov, month)
    amounts = {b["month"]: b["amount"] for b in await benefits_of(http, gov, case_id)}
    assert amounts["2020-08"] == "399.99" and amounts["2020-09"] == "49.99"


async def fund(http: httpx.AsyncClient, gov: dict[str, str], county: str, program: str, amount: str) -> None:
    created = await http.post("/finance/funds", headers=gov, json={
        "jurisdiction_code": county, "year": 2020, "source": "central", "purpose": program, "amount": amount})
    assert created.status_code == 201, created.text
    allocation = await http.post("/finance/allocations", headers=gov, json={
        "from_fund_id": created.json()["fund_id"], "program": program, "amount": amount})
    assert allocation.status_code == 201, allocation.text


async def payments(http: httpx.AsyncClient, gov: dict[str, str], reference: str) -> list[dict[str, Any]]:
    answer = await http.get("/finance/payments", headers=gov, params={"reference": reference})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_finance_pays_benefits_once_and_removal_cancels(http: httpx.AsyncClient, auth: Auth,
                                                               divisions: Divisions) -> None:
    """Temporary assistance waits for funds, is paid from `temporary_assistance` and marked paid in welfare; a
    relocation pays 25,000.00 a person once; removal cancels an unpaid benefit and finance reverses it."""
    gov = await auth("gov-portal")
    head = resident_id(divisions.county, dt.date(1980, 4, 4))
    household_id = await register(http, gov, divisions.village, [
        member(head), member(resident_id(divisions.county, dt.date(1982, 4, 4)), "spouse")])
    grant = await eventually(lambda: http.post("/welfare/temporary-assistance", headers=gov, json={
        "household_id": household_id, "amount": "1200.00", "cause": "illness", "decided_on": "2020-07-01"}),
        lambda r: r.status_code != 422)
    assert grant.status_code == 201, grant.text
    benefit_id = grant.json()["benefit_id"]
    pending = await eventually(lambda: payments(http, gov, benefit_id),
                               lambda p: len(p) == 1 and p[0]["status"] == "pending_funds")
    assert pending and pending[0]["status"] == "pending_funds", pending
    await fund(http, gov, divisions.county, "temporary_assistance", "1200.00")
    paid = await eventually(lambda: payments(http, gov, benefit_id), lambda p: p[0]["status"] == "paid")
    assert paid[0]["status"] == "paid" and paid[0]["program"] == "temporary_assistance"
    assert Decimal(paid[0]["amount"]) == Decimal("1200.00") and paid[0]["payee"] == f"household:{household_id}"
    marked = await eventually(lambda: http.get(f"/welfare/benefits/{benefit_id}", headers=gov),
                              lambda r: r.json()["status"] == "paid")
    assert marked.json()["status"] == "paid"

    plan = await http.post("/welfare/relocations", headers=gov, json={
        "household_id": household_id, "destination_village_code": divisions.village, "site_name": "安置点",
        "planned_year": 2020})
    assert plan.status_code == 201, plan.text
    await fund(http, gov, divisions.county, "relocation", "50000.00")
    moved = await http.post(f"/welfare/relocations/{plan.json()['relocation_id']}/move-in", headers=gov,
                            json={"moved_in_on": "2020-09-01"})
    assert moved.status_code == 200 and moved.json()["subsidy"] == "50000.00", moved.text
    relocation_paid = await eventually(lambda: payments(http, gov, moved.json()["benefit_id"]),
                                       lambda p: len(p) == 1 and p[0]["status"] == "paid")
    assert relocation_paid[0]["program"] == "relocation"

    unpaid = await http.post("/welfare/temporary-assistance", headers=gov, json={
        "household_id": household_id, "amount": "300.00", "cause": "disaster", "decided_on": "2020-08-01"})
    assert unpaid.status_code == 201
    await eventually(lambda: payments(http, gov, unpaid.json()["benefit_id"]),
                     lambda p: len(p) == 1 and p[0]["status"] == "pending_funds")
    removal = await http.post(f"/registry/households/{household_id}/removal", headers=gov,
                              json={"reason": "识别不准"})
    assert removal.status_code == 200, removal.text
    cancelled = await eventually(lambda: http.get(f"/welfare/benefits/{unpaid.json()['benefit_id']}", headers=gov),
                                 lambda r: r.json()["status"] == "cancelled")
    assert cancelled.json()["status"] == "cancelled"
    reversed_ = await eventually(lambda: payments(http, gov, unpaid.json()["benefit_id"]),
                                 lambda p: p[0]["status"] == "reversed")
    assert reversed_[0]["status"] == "reversed"
    still_paid = (await http.get(f"/welfare/benefits/{benefit_id}", headers=gov)).json()
    assert still_paid["status"] == "paid"
    refused = await http.post("/welfare/temporary-assistance", headers=gov, json={
        "household_id": household_id, "amount": "10", "cause": "other", "decided_on": "2020-09-01"})
    assert refused.status_code == 422 and refused.json()["code"] == "not_registered_poor"


async def test_ranger_post_through_the_gateway(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    ranger = resident_id(divisions.county, dt.date(1988, 8, 8))
    household_id = await register(http, gov, divisions.village, [member(ranger)])
    quota = await http.put(f"/welfare/ranger-quotas/{divisions.county}/years/2020", headers=gov, json={"quota": 1})
    assert quota.status_code == 201, quota.text
    post = await eventually(lambda: http.post("/welfare/ranger-posts", headers=gov, json={
        "id_number": ranger, "year": 2020, "appointed_on": "2020-01-01"}), lambda r: r.status_code != 422)
    assert post.status_code == 201, post.text
    assert post.json()["household_id"] == household_id and post.json()["age"] == 31
    assert ranger not in post.text and ranger[:6] + "********" not in post.text
    for month in ("2020-01", "2020-02"):
        await run(http, gov, month)
    amounts = [b["amount"] for b in await benefits_of(http, gov, post.json()["post_id"])]
    assert amounts == ["833.33", "833.34"]
    full = await http.get(f"/welfare/ranger-quotas/{divisions.county}/years/2020", headers=gov)
    assert full.json() == {"county_code": divisions.county, "year": 2020, "quota": 1, "filled": 1, "available": 0}
