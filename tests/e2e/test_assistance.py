"""Assistance (contract §7) end to end through the gateway: the registry's real events feed the read models;
helpers, pairings, coverage, units and teams, household plans, and an assessment computed from real exits."""

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from conftest import Divisions, eventually, member, register, resident_id

from fupin_kit.clock import today as china_today

Auth = Callable[[str], Awaitable[dict[str, str]]]
ALL_MET = {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
           "housing_safe": True, "drinking_water_safe": True}


async def poor_household(http: httpx.AsyncClient, gov: dict[str, str], village: str) -> str:
    born = dt.date(1970 + random.randint(0, 30), random.randint(1, 12), random.randint(1, 28))
    return await register(http, gov, village, [member(resident_id(village[:6], born))])


async def known(http: httpx.AsyncClient, gov: dict[str, str], household_id: str, status: str = "registered") -> None:
    """Wait until assistance has the household's event (a household registered a moment ago may need a retry)."""
    answer = await eventually(lambda: http.get(f"/assistance/households/{household_id}/plan", headers=gov),
                              lambda a: a.status_code == 200 and a.json()["status"] == status, timeout=90)
    assert answer.status_code == 200 and answer.json()["status"] == status, answer.text


async def division_known(http: httpx.AsyncClient, gov: dict[str, str], code: str) -> None:
    answer = await eventually(lambda: http.get("/assistance/coverage", params={"division_code": code}, headers=gov),
                              lambda a: a.status_code == 200, timeout=90)
    assert answer.status_code == 200, answer.text


async def created(answer: Awaitable[httpx.Response], status: int = 201) -> dict[str, Any]:
    response = await answer
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_helpers_teams_plans_and_coverage(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    village = divisions.village
    first, second = [await poor_household(http, gov, village) for _ in range(2)]
    await division_known(http, gov, village)
    for household in (first, second):
        await known(http, gov, household)

    unit = await created(http.post("/assistance/units", headers=gov, json={"name": "市农业农村局",
                                                                           "kind": "municipal"}))
    helper = await created(http.post("/assistance/helpers", headers=gov, json={
        "name": "刘帮扶", "unit_id": unit["unit_id"], "phone": "13900000000"}, ))
    pairing = await created(http.post("/assistance/pairings", headers={**gov, "Idempotency-Key": f"p-{first}"},
                                      json={"helper_id": helper["helper_id"], "household_id": first,
                                            "starts_on": "2020-03-01"}))
    replay = await http.post("/assistance/pairings", headers={**gov, "Idempotency-Key": f"p-{first}"},
                             json={"helper_id": helper["helper_id"], "household_id": first,
                                   "starts_on": "2020-03-01"})
    assert replay.status_code == 201 and replay.json() == pairing
    taken = await http.post("/assistance/pairings", headers=gov, json={
        "helper_id": helper["helper_id"], "household_id": first, "starts_on": "2020-03-01"})
    assert taken.status_code == 409 and taken.json()["code"] == "household_has_helper"
    assert taken.json()["pairing_id"] == pairing["pairing_id"]

    await created(http.post(f"/assistance/units/{unit['unit_id']}/villages", headers=gov,
                            json={"village_code": village, "starts_on": "2020-01-01"}))
    team = await created(http.post("/assistance/teams", headers=gov, json={
        "village_code": village, "unit_id": unit["unit_id"], "formed_on": "2020-01-01"}))
    await created(http.post(f"/assistance/teams/{team['team_id']}/members", headers=gov, json={
        "name": "陈书记", "role": "first_secretary", "background": "cadre", "joined_on": "2020-04-01"}))
    role = await http.post(f"/assistance/teams/{team['team_id']}/members", headers=gov, json={
        "name": "另一书记", "role": "first_secretary", "background": "cadre", "joined_on": "2020-04-01"})
    assert role.status_code == 409 and role.json()["code"] == "role_taken"

    coverage = (await http.get("/assistance/coverage", params={"division_code": divisions.county},
                               headers=auditor)).json()
    assert coverage["still_poor_households"] == 2 and coverage["with_helper"] == 1
    assert coverage["helper_coverage"] == "0.5000"
    assert coverage["households_without_helper"] == [{"household_id": second, "village_code": village,
                                                      "status": "registered"}]
    assert coverage["villages_without_unit"] == [] and coverage["villages_without_team"] == []
    assert coverage["teams_short"] == [{"team_id": team["team_id"], "village_code": village,
                                        "lacks": ["technician", "members"]}]

    must_stay = await http.post(f"/assistance/teams/{team['team_id']}/withdrawal", headers=gov,
                                json={"withdrawn_on": "2020-12-31", "reason": "e2e"})
    assert must_stay.status_code == 409 and must_stay.json()["code"] == "team_must_stay"
    assert must_stay.json()["reasons"] == ["poor_households_remain", "village_not_exited"]

    measure = await created(http.post(f"/assistance/households/{first}/measures", headers=gov, json={
        "line": "industry_employment", "cause": "illness", "description": "发展食用菌种植",
        "planned_year": 2020, "reference": {"kind": "loan", "id": "loan-e2e"}}))
    refused = await http.post(f"/assistance/households/{first}/measures", headers=gov, json={
        "line": "relocation", "cause": "illness", "description": "x", "planned_year": 2020,
        "reference": {"kind": "grant", "id": "g"}})
    assert refused.status_code == 422 and refused.json()["code"] == "reference_not_allowed"
    await created(http.post(f"/assistance/measures/{measure['measure_id']}/progress", headers=gov,
                            json={"status": "done", "on": "2020-09-30"}), 200)
    back = await http.post(f"/assistance/measures/{measure['measure_id']}/progress", headers=gov,
                           json={"status": "in_progress", "on": "2020-10-01"})
    assert back.status_code == 409 and back.json()["code"] == "invalid_transition"
    plan = (await http.get(f"/assistance/households/{first}/plan", headers=auditor)).json()
    assert plan["causes"] == ["illness"] and plan["causes_unaddressed"] == []
    assert plan["pairing"]["pairing_id"] == pairing["pairing_id"]
    assert (await http.get(f"/assistance/households/{second}/plan", headers=auditor)).json()[
        "causes_unaddressed"] == ["illness"]

    # the registry removes the household: its pairing ends by itself
    removal = await http.post(f"/registry/households/{first}/removal", headers=gov, json={"reason": "e2e 错评"})
    assert removal.status_code == 200, removal.text
    ended = await eventually(lambda: http.get(f"/assistance/pairings/{pairing['pairing_id']}", headers=gov),
                             lambda a: a.json()["status"] == "ended", timeout=90)
    assert ended.json()["reason_code"] == "household_removed"

    assert (await http.post("/assistance/units", headers=auditor, json={"name": "x", "kind": "county"})
            ).status_code == 403
    assert (await http.get("/assistance/units/" + unit["unit_id"])).status_code == 401


async def test_assessment_from_real_exits(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    """Three households registered; two exit (annual review above the line, all indicators met), one stays poor and
    is paired; the village exits by incidence. Targets 2 households, 1 village, 0.00 funds → score 100.00 this year
    (not final: the year still runs); with a target of 3 households, `household_target_missed` makes it fail."""
    gov = await auth("gov-portal")
    year = china_today().year
    households = [await poor_household(http, gov, divisions.village) for _ in range(3)]
    for household in households:
        await known(http, gov, household)
    for household in households[:2]:
        review = await http.post(f"/registry/households/{household}/annual-reviews", headers=gov, json={
            "income_year": year - 1, "annual_income": "60000.00", "indicators": ALL_MET})
        assert review.status_code == 201, review.text
        exited = await http.post(f"/registry/households/{household}/exit", headers=gov, json={})
        assert exited.status_code == 200, exited.text
        await known(http, gov, household, "exited")
    helper = await created(http.post("/assistance/helpers", headers=gov, json={"name": "帮扶人"}))
    await created(http.post("/assistance/pairings", headers=gov, json={
        "helper_id": helper["helper_id"], "household_id": households[2], "starts_on": f"{year}-01-01"}))
    # the one still-poor member keeps the village's incidence at 1/1000, below the 3% threshold
    village_exit = await http.post(f"/registry/divisions/{divisions.village}/exit", headers=gov, json={})
    assert village_exit.status_code == 200, village_exit.text

    targets = await http.put(f"/assistance/targets/{divisions.county}/years/{year}", headers=gov, json={
        "households_to_exit": 2, "villages_to_exit": 1, "funds_to_spend": "0.00"})
    assert targets.status_code == 201, targets.text

    async def assess() -> httpx.Response:
        return await http.post("/assistance/assessments", headers=gov,
                               json={"county_code": divisions.county, "year": year})

    result = (await eventually(assess, lambda a: a.json().get("actuals", {}).get("villages_exited") == 1,
                               timeout=90)).json()
    assert result["final"] is False
    assert result["actuals"]["households_exited"] == 2 and result["actuals"]["villages_exited"] == 1
    assert result["actuals"]["still_poor_households"] == 1 and result["actuals"]["households_with_helper"] == 1
    assert result["ratios"] == {"households": "1.0000", "villages": "1.0000", "funds": "1.0000",
                                "helper_coverage": "1.0000"}
    assert result["score"] == "100.00" and result["verdict"] == "excellent" and result["summons_id"] is None
    assert (await http.get(f"/assistance/assessments/{result['assessment_id']}", headers=await auth("auditor"))
            ).json() == result

    await http.put(f"/assistance/targets/{divisions.county}/years/{year}", headers=gov, json={
        "households_to_exit": 3, "villages_to_exit": 1, "funds_to_spend": "0.00"})
    missed = (await assess()).json()
    assert missed["ratios"]["households"] == "0.6667" and missed["score"] == "86.67"
    assert missed["reasons"] == ["household_target_missed"] and missed["verdict"] == "fail"
    assert missed["summons_id"] is None  # not final while the year runs
    future = await http.post("/assistance/assessments", headers=gov,
                             json={"county_code": divisions.county, "year": year + 1})
    assert future.status_code == 422 and future.json()["code"] == "year_in_future"
