"""低保 cases over HTTP on real PostgreSQL and Kafka: both worked examples of §8, errors, coverage, policies."""


from decimal import Decimal
from typing import Any

import httpx
from conftest import READ, WRITE
from wf_support import Bus, member

COUNTY = "610723"


async def june_family(bus: Bus) -> tuple[str, list[dict[str, Any]]]:
    members = [member("1957-03-01", relation="head", labor="partial"),
               member("1962-01-15", relation="spouse", labor="none"),
               member("1986-05-05", relation="child"),
               member("2011-02-02", relation="grandchild", labor="none")]
    return await bus.household(*members), members


async def test_june_2020_example(client: httpx.AsyncClient, bus: Bus) -> None:
    household_id, members = await june_family(bus)
    answer = await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": household_id, "annual_income": "9600.00", "assessed_on": "2020-06-01",
        "opened_on": "2020-06-01",
        "disabled_members": [{"member_id": members[1]["member_id"], "disability_grade": 2}]})
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert case["status"] == "active"
    assert case["members"] == 4 and case["standard"] == "333.33"
    assert case["monthly_amount"] == "666.65"
    assert case["breakdown"]["base"] == "533.32"
    assert sorted((s["category"], s["count"], s["amount"]) for s in case["breakdown"]["supplements"]) == [
        ("elderly", 1, "33.33"), ("minor", 1, "33.33"), ("severe_disability", 1, "66.67")]
    assert "2" not in str([a for a in case["assessments"]]).replace("2020", "")  # no grade travels back
    read = await client.get(f"/welfare/cases/{case['case_id']}", headers=READ)
    assert read.status_code == 200 and read.json()["monthly_amount"] == "666.65"

    run = await client.post("/welfare/runs", headers=WRITE, json={"month": "2020-06"})
    assert run.status_code == 201, run.text
    benefits = (await client.get(f"/welfare/benefits?case_id={case['case_id']}", headers=READ)).json()
    assert [(b["month"], b["amount"], b["status"]) for b in benefits] == [("2020-06", "666.65", "due")]
    due = await bus.outbox("benefit-due", household_id)
    assert due[0]["amount"] == "666.65" and due[0]["kind"] == "minimum_living"
    assert set(due[0]) >= {"benefit_id", "case_id", "household_id", "county_code", "village_code", "month"}
    assert "disability_grade" not in str(due)


async def gradual_case(client: httpx.AsyncClient, bus: Bus, *, disabled: bool = False) -> tuple[str, str]:
    members = [member("1990-01-01"), member("1975-03-03", relation="spouse"), member("2000-05-05", relation="child")]
    household_id = await bus.household(*members)
    body: dict[str, Any] = {"household_id": household_id, "annual_income": 7200, "assessed_on": "2020-01-06",
                            "opened_on": "2020-01-06"}
    if disabled:
        body["disabled_members"] = [{"member_id": members[1]["member_id"], "disability_grade": 4}]
    answer = await client.post("/welfare/cases", headers=WRITE, json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["monthly_amount"] == "399.99"
    return household_id, answer.json()["case_id"]


async def run_months(client: httpx.AsyncClient, months: list[str]) -> None:
    for month in months:
        answer = await client.post("/welfare/runs", headers=WRITE, json={"month": month})
        assert answer.status_code == 201, answer.text


def year(y: int) -> list[str]:
    return [f"{y}-{m:02d}" for m in range(1, 13)]


async def test_gradual_exit_example(client: httpx.AsyncClient, bus: Bus) -> None:
    _, case_id = await gradual_case(client, bus)
    exit_ = await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                              json={"annual_income": "13500.00", "assessed_on": "2020-05-20"})
    assert exit_.status_code == 201, exit_.text
    assert exit_.json()["gradual_exit"] == {"assessed_month": "2020-05", "first_month": "2020-06",
                                            "last_month": "2020-11"}
    assert exit_.json()["monthly_amount"] == "399.99"
    await run_months(client, year(2020))
    benefits = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()
    assert [b["month"] for b in benefits] == [f"2020-{m:02d}" for m in range(1, 12)]
    assert {b["amount"] for b in benefits} == {"399.99"}
    assert sum(Decimal(b["amount"]) for b in benefits) == Decimal("4399.89")
    case = (await client.get(f"/welfare/cases/{case_id}", headers=READ)).json()
    assert case["status"] == "closed" and case["close_reason"] == "income_above_line"
    assert case["closed_on"] == "2020-11-30"
    late = await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                             json={"annual_income": "1000.00", "assessed_on": "2020-12-15"})
    assert late.status_code == 409 and late.json()["code"] == "invalid_status"


async def test_gradual_exit_with_disabled_member_pays_through_may_2021(client: httpx.AsyncClient, bus: Bus) -> None:
    _, case_id = await gradual_case(client, bus, disabled=True)
    await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                      json={"annual_income": "13500.00", "assessed_on": "2020-05-20"})
    await run_months(client, year(2020) + year(2021)[:7])
    benefits = (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()
    assert benefits[-1]["month"] == "2021-05" and len(benefits) == 17


async def test_reactivation_example(client: httpx.AsyncClient, bus: Bus) -> None:
    _, case_id = await gradual_case(client, bus)
    await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                      json={"annual_income": "13500.00", "assessed_on": "2020-05-20"})
    again = await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                              json={"annual_income": "11400.00", "assessed_on": "2020-08-12"})
    assert again.status_code == 201, again.text
    assert again.json()["status"] == "active" and again.json()["monthly_amount"] == "49.99"
    await run_months(client, year(2020))
    benefits = {b["month"]: b["amount"] for b in
                (await client.get(f"/welfare/benefits?case_id={case_id}", headers=READ)).json()}
    assert benefits["2020-08"] == "399.99" and benefits["2020-09"] == "49.99" and benefits["2020-12"] == "49.99"
    out_of_order = await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                                     json={"annual_income": "11400.00", "assessed_on": "2020-08-11"})
    assert out_of_order.status_code == 422 and out_of_order.json()["code"] == "assessment_out_of_order"


async def test_case_errors(client: httpx.AsyncClient, bus: Bus) -> None:
    household_id, _ = await june_family(bus)
    body = {"household_id": household_id, "annual_income": "16000.04", "assessed_on": "2020-06-01",
            "opened_on": "2020-06-01"}
    above = await client.post("/welfare/cases", headers=WRITE, json=body)
    assert above.status_code == 422 and above.json()["code"] == "income_above_line"
    stranger = await client.post("/welfare/cases", headers=WRITE, json={
        **body, "annual_income": "100", "disabled_members": [{"member_id": "nobody", "disability_grade": 1}]})
    assert stranger.status_code == 422 and stranger.json()["code"] == "not_a_member"
    assert stranger.json()["errors"][0]["field"] == "disabled_members.0.member_id"
    first = await client.post("/welfare/cases", headers=WRITE, json={**body, "annual_income": "16000.00"})
    assert first.status_code == 201  # at the line still qualifies
    again = await client.post("/welfare/cases", headers=WRITE, json={**body, "annual_income": "100"})
    assert again.status_code == 409 and again.json()["code"] == "case_already_open"
    assert again.json()["case_id"] == first.json()["case_id"]
    unknown = await client.post("/welfare/cases", headers=WRITE, json={**body, "household_id": "nope"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "not_registered_poor"
    bad = await client.post("/welfare/cases", headers=WRITE, json={**body, "annual_income": "-1"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "annual_income"
    assert (await client.get("/welfare/cases/not-a-uuid", headers=READ)).json()["code"] == "case_not_found"
    assert (await client.post("/welfare/cases", headers=READ, json=body)).status_code == 403
    assert (await client.get(f"/welfare/cases/{first.json()['case_id']}")).status_code == 401

    closed = await client.post(f"/welfare/cases/{first.json()['case_id']}/closure", headers=WRITE,
                               json={"closed_on": "2020-07-01", "reason": "moved away"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    twice = await client.post(f"/welfare/cases/{first.json()['case_id']}/closure", headers=WRITE,
                              json={"closed_on": "2020-07-01", "reason": "moved away"})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status"
    assessment = await client.post(f"/welfare/cases/{first.json()['case_id']}/income-assessments", headers=WRITE,
                                   json={"annual_income": "100", "assessed_on": "2020-08-01"})
    assert assessment.status_code == 409 and assessment.json()["code"] == "invalid_status"


async def test_not_registered_poor_statuses(client: httpx.AsyncClient, bus: Bus) -> None:
    identified = await bus.household(member("1980-01-01"), status="identified")
    answer = await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": identified, "annual_income": "0", "assessed_on": "2020-06-01", "opened_on": "2020-06-01"})
    assert answer.status_code == 422 and answer.json()["code"] == "not_registered_poor"
    exited = await bus.household(member("1980-01-01"), status="exited")
    answer = await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": exited, "annual_income": "0", "assessed_on": "2020-06-01", "opened_on": "2020-06-01"})
    assert answer.status_code == 201


async def test_idempotency_key_replays_the_case(client: httpx.AsyncClient, bus: Bus) -> None:
    household_id, _ = await june_family(bus)
    body = {"household_id": household_id, "annual_income": "9600", "assessed_on": "2020-06-01",
            "opened_on": "2020-06-01"}
    headers = {**WRITE, "Idempotency-Key": f"case-{household_id}"}
    first = await client.post("/welfare/cases", headers=headers, json=body)
    second = await client.post("/welfare/cases", headers=headers, json=body)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    other = await client.post("/welfare/cases", headers=headers, json={**body, "annual_income": "9601"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


async def test_coverage_lists_still_poor_households_without_labour_and_case(client: httpx.AsyncClient,
                                                                           bus: Bus) -> None:
    village = "610723199001"
    none = await bus.household(member("1940-01-01", labor="none"), member("1942-01-01", relation="spouse",
                                                                              labor="none"), village_code=village)
    await bus.household(member("1940-01-01", labor="partial"), village_code=village)
    await bus.household(member("1940-01-01", labor="none"), status="exited", village_code=village)
    covered = await bus.household(member("1940-01-01", labor="none"), status="returned", village_code=village)
    await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": covered, "annual_income": "0", "assessed_on": "2020-06-01", "opened_on": "2020-06-01"})
    answer = await client.get(f"/welfare/coverage?division_code={village}", headers=READ)
    assert answer.status_code == 200
    assert answer.json()["items"] == [{"household_id": none, "village_code": village, "members": 2}]
    assert (await client.get("/welfare/coverage?division_code=61", headers=READ)).status_code == 422
    city = await client.get(f"/welfare/coverage?division_code={village[:4]}00", headers=READ)
    assert {"household_id": none, "village_code": village, "members": 2} in city.json()["items"]


async def test_policies_defaults_and_put(client: httpx.AsyncClient) -> None:
    default = (await client.get("/welfare/policies/2019", headers=READ)).json()
    assert default["poverty_line"] == "3747.00" and default["minimum_living_standard"] == "312.25"
    assert default["is_default"] is True and default["supplements"]["severe_disability"] == "0.20"
    later = (await client.get("/welfare/policies/2031", headers=READ)).json()
    assert later["poverty_line"] == "4000.00" and later["minimum_living_standard"] == "333.33"
    body = {**{k: v for k, v in default.items() if k not in ("year", "is_default")},
            "temporary_assistance_cap": "6000.00"}
    put = await client.put("/welfare/policies/2040", headers=WRITE, json=body)
    assert put.status_code == 200 and put.json()["temporary_assistance_cap"] == "6000.00"
    assert (await client.get("/welfare/policies/2040", headers=READ)).json()["is_default"] is False
    assert (await client.put("/welfare/policies/2040", headers=READ, json=body)).status_code == 403
    bad = await client.put("/welfare/policies/2040", headers=WRITE, json={**body, "ranger_min_age": 70})
    assert bad.status_code == 422




async def test_new_case_after_a_gradual_exit_ended(client: httpx.AsyncClient, bus: Bus) -> None:
    """A gradual exit that ended (stored status not yet brought up to date) does not block a new case."""
    household_id, case_id = await gradual_case(client, bus)
    await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                      json={"annual_income": "13500.00", "assessed_on": "2020-05-20"})
    await bus.fetchval("UPDATE cases SET status = 'gradual_exit', closed_on = NULL WHERE case_id = $1::uuid",
                       case_id)
    again = await client.post("/welfare/cases", headers=WRITE, json={
        "household_id": household_id, "annual_income": "3000.00", "assessed_on": "2021-03-01",
        "opened_on": "2021-03-01"})
    assert again.status_code == 201, again.text
    old = (await client.get(f"/welfare/cases/{case_id}", headers=READ)).json()
    assert old["status"] == "closed" and old["closed_on"] == "2020-11-30"
    back_dated = await client.post(f"/welfare/cases/{case_id}/income-assessments", headers=WRITE,
                                   json={"annual_income": "1000.00", "assessed_on": "2020-08-12"})
    assert back_dated.status_code == 409 and back_dated.json()["case_id"] == again.json()["case_id"]
