import httpx
from registry_helpers import INDICATORS_OK, KAFKA, READ, WRITE, create_household, make_tree, registered_household

from fupin_kit.testing import wait_for_event


async def _review(client: httpx.AsyncClient, household_id: str, *, year: int, income: str,
                  **indicators: bool) -> httpx.Response:
    return await client.post(f"/registry/households/{household_id}/annual-reviews", headers=WRITE, json={
        "income_year": year, "annual_income": income, "indicators": {**INDICATORS_OK, **indicators}})


async def test_exit_at_the_line_is_refused_above_it_certified(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await registered_household(client, tree["village"], size=2, income="6000",
                                               year=2019))["household_id"]
    # 2020 line is 4000 per person: 8000.00 for two is exactly at the line, not above it.
    review = await _review(client, household_id, year=2020, income="8000.00")
    assert review.status_code == 201 and review.json()["per_capita_income"] == "4000.00"
    refused = await client.post(f"/registry/households/{household_id}/exit", headers=WRITE, json={})
    assert refused.status_code == 422
    assert refused.json()["code"] == "exit_standard_not_met" and refused.json()["unmet"] == ["income_below_line"]
    assert refused.json()["decision"]["poverty_line"] == "4000.00"
    await _review(client, household_id, year=2020, income="8000.01")
    certified = await client.post(f"/registry/households/{household_id}/exit", headers=WRITE, json={})
    assert certified.status_code == 200, certified.text
    assert certified.json()["status"] == "exited"
    assert certified.json()["decision"]["per_capita_income"] == "4000.01"
    event = await wait_for_event(KAFKA, "exit-certified", household_id)
    assert event["data"]["status"] == "exited" and len(event["data"]["members"]) == 2


async def test_exit_lists_every_unmet_indicator(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await registered_household(client, tree["village"], size=2))["household_id"]
    await _review(client, household_id, year=2021, income="100", housing_safe=False, basic_medical_ok=False)
    refused = await client.post(f"/registry/households/{household_id}/exit", headers=WRITE, json={})
    assert refused.json()["unmet"] == ["income_below_line", "basic_medical_ok", "housing_safe"]


async def test_exit_needs_registered_or_returned(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await create_household(client, tree["village"], income="99999"))["household_id"]
    answer = await client.post(f"/registry/households/{household_id}/exit", headers=WRITE, json={})
    assert answer.status_code == 409 and answer.json()["code"] == "invalid_status"


async def test_exit_uses_the_year_policy_when_set(client: httpx.AsyncClient) -> None:
    policy = await client.put("/registry/policies/2013", headers=WRITE, json={
        "poverty_line": "5000.00", "exit_incidence_threshold": "0.03"})
    assert policy.status_code in (200, 201)
    tree = await make_tree(client)
    household_id = (await registered_household(client, tree["village"], size=1, income="4500",
                                               year=2013))["household_id"]
    refused = await client.post(f"/registry/households/{household_id}/exit", headers=WRITE, json={})
    assert refused.json()["unmet"] == ["income_below_line"]
    assert refused.json()["decision"]["policy_source"] == "set"


async def test_return_then_exit_again(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await registered_household(client, tree["village"], size=1, income="9000",
                                               year=2020))["household_id"]
    early = await client.post(f"/registry/households/{household_id}/return", headers=WRITE,
                              json={"reason": "flood"})
    assert early.status_code == 409 and early.json()["code"] == "invalid_status"
    assert (await client.post(f"/registry/households/{household_id}/exit", headers=WRITE,
                              json={})).status_code == 200
    returned = await client.post(f"/registry/households/{household_id}/return", headers=WRITE,
                                 json={"reason": "flood destroyed the harvest"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    event = await wait_for_event(KAFKA, "returned-to-poverty", household_id)
    assert event["data"]["status"] == "returned"
    assert (await client.post(f"/registry/households/{household_id}/exit", headers=WRITE,
                              json={})).json()["status"] == "exited"


async def test_removal_frees_members_and_publishes(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await registered_household(client, tree["village"]))["household_id"]
    removed = await client.post(f"/registry/households/{household_id}/removal", headers=WRITE,
                                json={"reason": "wrongly identified: salaried employee"})
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    event = await wait_for_event(KAFKA, "household-removed", household_id)
    assert event["data"]["status"] == "removed"
    assert event["data"]["sequence"] == 2  # registered (1), removed (2): consumers keep the highest
    again = await client.post(f"/registry/households/{household_id}/removal", headers=WRITE,
                              json={"reason": "twice"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"
    reviewed = await client.post(f"/registry/households/{household_id}/annual-reviews", headers=WRITE, json={
        "income_year": 2020, "annual_income": "1", "indicators": INDICATORS_OK})
    assert reviewed.status_code == 409


async def test_division_exit_strictly_below_threshold(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client, population=100)
    await registered_household(client, tree["village"], size=3)  # 3 / 100 = 3%: not below
    refused = await client.post(f"/registry/divisions/{tree['village']}/exit", headers=WRITE, json={})
    assert refused.status_code == 422 and refused.json()["code"] == "incidence_above_threshold"
    assert refused.json()["poverty_incidence"] == "0.0300"
    await client.put(f"/registry/divisions/{tree['village']}", headers=WRITE, json={
        "name": "村", "level": "village", "parent_code": tree["town"], "poor": True, "population": 101})
    exited = await client.post(f"/registry/divisions/{tree['village']}/exit", headers=WRITE, json={})
    assert exited.status_code == 200 and exited.json()["exited"] is True
    event = await wait_for_event(KAFKA, "division-exited", tree["village"])
    assert event["data"]["division_code"] == tree["village"] and event["data"]["level"] == "village"
    assert event["data"]["threshold"] == "0.0300" and event["data"]["poverty_incidence"] == "0.0297"
    twice = await client.post(f"/registry/divisions/{tree['village']}/exit", headers=WRITE, json={})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status"
    assert (await client.get(f"/registry/divisions/{tree['village']}", headers=READ)).json()["exited"] is True


async def test_division_exit_only_for_poor_villages_and_counties(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client, poor=False)
    for level in ("village", "town", "city"):
        answer = await client.post(f"/registry/divisions/{tree[level]}/exit", headers=WRITE, json={})
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_division", level
    missing = await client.post("/registry/divisions/999998/exit", headers=WRITE, json={})
    assert missing.status_code == 404 and missing.json()["code"] == "division_not_found"


async def test_policies_default_and_set(client: httpx.AsyncClient) -> None:
    default = await client.get("/registry/policies/2016", headers=READ)
    assert default.json() == {"year": 2016, "poverty_line": "2952.00", "exit_incidence_threshold": "0.0300",
                              "return_risk_multiplier": "1.50", "source": "default", "is_default": True}
    later = (await client.get("/registry/policies/2040", headers=READ)).json()
    assert later["poverty_line"] == "4000.00"
    denied = await client.put("/registry/policies/2040", headers=READ, json={
        "poverty_line": "4200", "exit_incidence_threshold": "0.02"})
    assert denied.status_code == 403
    created = await client.put("/registry/policies/2040", headers=WRITE, json={
        "poverty_line": "4200", "exit_incidence_threshold": "0.02"})
    assert created.status_code == 201 and created.json()["source"] == "set"
    assert created.json()["is_default"] is False
    updated = await client.put("/registry/policies/2040", headers=WRITE, json={
        "poverty_line": "4300", "exit_incidence_threshold": "0.02"})
    assert updated.status_code == 200 and updated.json()["poverty_line"] == "4300.00"
    bad = await client.put("/registry/policies/2040", headers=WRITE, json={
        "poverty_line": "-1", "exit_incidence_threshold": "3"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
