import httpx
from registry_helpers import (
    INDICATORS_OK,
    READ,
    WRITE,
    create_household,
    household_body,
    make_tree,
    registered_household,
    verify,
)


async def _exited(client: httpx.AsyncClient, village: str, *, income: str, size: int = 2, **member: str) -> str:
    body = household_body(village, size=size, income=income, year=2020)
    body["members"][1].update(member)
    household_id = (await client.post("/registry/households", headers=WRITE, json=body)).json()["household_id"]
    await verify(client, household_id, "town")
    await verify(client, household_id, "county")
    exited = await client.post(f"/registry/households/{household_id}/exit", headers=WRITE, json={})
    assert exited.status_code == 200, exited.text
    return household_id


async def test_monitoring_lists_exited_households_at_risk_with_reasons(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    low = await _exited(client, tree["village"], income="11999.99")     # < 2 x 4000 x 1.5 = 12000
    safe = await _exited(client, tree["village"], income="12000.00")    # exactly at 1.5x: not below
    ill = await _exited(client, tree["village"], income="50000", health="serious")
    disabled = await _exited(client, tree["village"], income="50000", health="disabled", disability_grade=2)
    review = await _exited(client, tree["village"], income="50000")
    await client.post(f"/registry/households/{review}/annual-reviews", headers=WRITE, json={
        "income_year": 2021, "annual_income": "50000", "indicators": {**INDICATORS_OK, "housing_safe": False}})
    await registered_household(client, tree["village"], income="100")  # not exited: not monitored
    answer = await client.get("/registry/monitoring", headers=READ, params={"division_code": tree["county"]})
    assert answer.status_code == 200
    reasons = {i["household_id"]: i["reasons"] for i in answer.json()["items"]}
    assert reasons == {low: ["income_below_monitoring_line"], ill: ["member_serious_illness"],
                       disabled: ["member_disabled"], review: ["indicator_turned_false"]}
    assert safe not in reasons
    item = next(i for i in answer.json()["items"] if i["household_id"] == review)
    assert item["false_indicators"] == ["housing_safe"] and item["monitoring_line"] == "6000.00"


async def test_monitoring_needs_a_known_division_and_read_scope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/registry/monitoring", headers=READ, params={"division_code": "999997"})
    assert missing.status_code == 404 and missing.json()["code"] == "division_not_found"
    assert (await client.get("/registry/monitoring", headers=READ)).status_code == 422
    assert (await client.get("/registry/monitoring", params={"division_code": "999997"})).status_code == 401


async def test_verification_stats_per_town_with_error_rate(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    ids = [(await create_household(client, tree["village"]))["household_id"] for _ in range(5)]
    for household_id in ids:
        await verify(client, household_id, "town")
    await verify(client, ids[0], "county")
    await verify(client, ids[1], "county")
    await verify(client, ids[2], "county", approved=False)
    await client.post(f"/registry/households/{ids[1]}/removal", headers=WRITE, json={"reason": "has a salary"})
    refused_by_town = (await create_household(client, tree["village"]))["household_id"]
    await verify(client, refused_by_town, "town", approved=False)
    answer = await client.get(f"/registry/divisions/{tree['county']}/verification-stats", headers=READ)
    assert answer.status_code == 200
    [town] = answer.json()["units"]
    assert town == {"division_code": tree["town"], "name": f"town {tree['town']}", "level": "town",
                    "town_approved": 5, "town_refused": 1, "approved": 2, "refused_at_county_after_town": 1,
                    "removed_as_wrongly_identified": 1, "error_rate": "0.4000"}
    city = (await client.get(f"/registry/divisions/{tree['city']}/verification-stats", headers=READ)).json()
    assert city["units"][0]["division_code"] == tree["county"] and city["units"][0]["error_rate"] == "0.4000"
    village = await client.get(f"/registry/divisions/{tree['village']}/verification-stats", headers=READ)
    assert village.status_code == 422 and village.json()["code"] == "invalid_division"
