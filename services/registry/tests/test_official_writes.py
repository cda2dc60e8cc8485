"""Operator officials' writes (contract §9): limited to their division subtree, from the `division` claim the
gateway mints; outside it a household is 404 household_not_found and a division 404 division_not_found; writes
not about one division (policies, bulk imports) are 403 to officials. Systems are not limited."""

import datetime as dt
import uuid
from typing import Any

import httpx
import jwt
from conftest import PRIVATE_KEY
from registry_helpers import WRITE, create_household, household_body, make_tree

OPERATOR = "dashboard:read registry:warmap registry:write"


def official(division: str) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {"iss": "fupin-gateway", "aud": "fupin", "sub": "official:op", "scope": OPERATOR,
                              "division": division, "iat": now, "exp": now + dt.timedelta(minutes=5),
                              "jti": uuid.uuid4().hex}
    return {"Authorization": f"Bearer {jwt.encode(claims, PRIVATE_KEY, algorithm='RS256')}"}


def household_writes(household_id: str) -> list[tuple[str, dict[str, Any]]]:
    base = f"/registry/households/{household_id}"
    return [
        (f"{base}/verifications", {"level": "town", "approved": True, "officer": "t", "note": "n"}),
        (f"{base}/objections", {"reason": "r"}),
        (f"{base}/objections/{uuid.uuid4()}/resolution", {"upheld": False, "note": "n"}),
        (f"{base}/annual-reviews", {"income_year": 2020, "annual_income": "9000.00", "indicators": {
            "food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
            "housing_safe": True, "drinking_water_safe": True}}),
        (f"{base}/exit", {}),
        (f"{base}/return", {"reason": "r"}),
        (f"{base}/removal", {"reason": "r"}),
    ]


async def test_household_writes_stay_in_the_subtree(client: httpx.AsyncClient) -> None:
    mine, other = await make_tree(client), await make_tree(client)
    operator = official(mine["town"])
    created = await client.post("/registry/households", headers=operator, json=household_body(mine["village"]))
    assert created.status_code == 201, created.text
    own = created.json()["household_id"]
    outside = await client.post("/registry/households", headers=operator, json=household_body(other["village"]))
    assert outside.status_code == 404 and outside.json()["code"] == "division_not_found"
    unknown = await client.post("/registry/households", headers=operator,
                                json=household_body(mine["town"] + "999"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_division"  # as for a system

    theirs = (await create_household(client, other["village"]))["household_id"]
    for path, body in household_writes(theirs) + household_writes(str(uuid.uuid4())):
        answer = await client.post(path, headers=operator, json=body)
        assert answer.status_code == 404 and answer.json()["code"] == "household_not_found", (path, answer.text)
    history = (await client.get(f"/registry/households/{theirs}", headers=WRITE)).json()["history"]
    assert [h["to_status"] for h in history] == ["identified"]  # nothing happened to it

    town = await client.post(f"/registry/households/{own}/verifications", headers=operator,
                             json={"level": "town", "approved": True, "officer": "镇长", "note": "ok"})
    assert town.status_code == 201 and town.json()["status"] == "town_verified", town.text
    objection = await client.post(f"/registry/households/{own}/objections", headers=operator, json={"reason": "r"})
    assert objection.status_code == 201, objection.text
    # the city's official reaches it too (a city's counties do not share its code prefix)
    resolved = await client.post(
        f"/registry/households/{own}/objections/{objection.json()['objection_id']}/resolution",
        headers=official(mine["city"]), json={"upheld": False, "note": "n"})
    assert resolved.status_code == 200, resolved.text
    history = (await client.get(f"/registry/households/{own}", headers=WRITE)).json()["history"]
    assert history[-1]["actor"] == "official:op"


async def test_division_writes_stay_below_the_officials_division(client: httpx.AsyncClient) -> None:
    mine, other = await make_tree(client), await make_tree(client)
    operator = official(mine["county"])

    def village(parent: str, code: str) -> dict[str, Any]:
        return {"name": f"村 {code}", "level": "village", "parent_code": parent, "poor": True, "population": 100}

    new_village = mine["town"] + "998"
    created = await client.put(f"/registry/divisions/{new_village}", headers=operator,
                               json=village(mine["town"], new_village))
    assert created.status_code == 201, created.text
    changed = await client.put(f"/registry/divisions/{mine['village']}", headers=operator,
                               json=village(mine["town"], mine["village"]))
    assert changed.status_code == 200, changed.text
    foreign = other["town"] + "998"
    for code, body in ((foreign, village(other["town"], foreign)),
                       (other["village"], village(other["town"], other["village"])),
                       (other["village"], village(mine["town"], other["village"]))):  # taking theirs over
        answer = await client.put(f"/registry/divisions/{code}", headers=operator, json=body)
        assert answer.status_code == 404 and answer.json()["code"] == "division_not_found", (code, answer.text)
    # moving one of mine out of the subtree
    moved = await client.put(f"/registry/divisions/{mine['village']}", headers=operator,
                             json=village(other["town"], mine["village"]))
    assert moved.status_code == 404 and moved.json()["code"] == "division_not_found"
    own = await client.put(f"/registry/divisions/{mine['county']}", headers=operator, json={
        "name": "县", "level": "county", "parent_code": mine["city"], "poor": True, "population": 10})
    assert own.status_code == 403 and own.json()["code"] == "forbidden"
    assert (await client.get(f"/registry/divisions/{mine['county']}", headers=WRITE)).json()["population"] == 1000

    exit_other = await client.post(f"/registry/divisions/{other['village']}/exit", headers=operator, json={})
    assert exit_other.status_code == 404 and exit_other.json()["code"] == "division_not_found"
    exit_mine = await client.post(f"/registry/divisions/{new_village}/exit", headers=operator, json={})
    assert exit_mine.status_code == 200 and exit_mine.json()["exited"] is True, exit_mine.text


async def test_writes_not_about_one_division_are_for_systems(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    operator = official(tree["city"])
    policy = await client.put("/registry/policies/2031", headers=operator, json={"poverty_line": "5000.00"})
    assert policy.status_code == 403 and policy.json()["code"] == "forbidden"
    upload = await client.post("/registry/imports", headers=operator,
                               files={"file": ("a.csv", b"village_code\n", "text/csv")})
    assert upload.status_code == 403 and upload.json()["code"] == "forbidden"
