"""Helpers, pairings (one active helper per household, per-year cap, both under concurrency), release on removal,
coverage (contract §7), on the real PostgreSQL and Kafka."""

import asyncio
import datetime as dt
import uuid

import httpx
from as_support import Upstream
from conftest import KAFKA, token

from fupin_kit.testing import wait_for_event

W = token()


async def helper(client: httpx.AsyncClient, unit_id: str | None = None) -> str:
    answer = await client.post("/assistance/helpers", json={"name": "王建国", "unit_id": unit_id,
                                                            "phone": "13800000000"}, headers=W)
    assert answer.status_code == 201, answer.text
    assert answer.json()["active_households"] == 0
    return str(answer.json()["helper_id"])


async def pair(client: httpx.AsyncClient, helper_id: str, household_id: str,
               starts_on: str = "2020-03-01") -> httpx.Response:
    return await client.post("/assistance/pairings", json={"helper_id": helper_id, "household_id": household_id,
                                                           "starts_on": starts_on}, headers=W)


async def test_pairing_lifecycle_and_events(client: httpx.AsyncClient, upstream: Upstream) -> None:
    county, (village, _) = await upstream.county_with_villages()
    household = await upstream.household(village)
    helper_id = await helper(client)
    answer = await pair(client, helper_id, household)
    assert answer.status_code == 201, answer.text
    pairing = answer.json()
    assert pairing["status"] == "active" and pairing["village_code"] == village
    assert (await client.get(f"/assistance/pairings/{pairing['pairing_id']}", headers=W)).json() == pairing
    read = (await client.get(f"/assistance/helpers/{helper_id}", headers=W)).json()
    assert read["active_households"] == 1 and read["pairings"][0]["pairing_id"] == pairing["pairing_id"]
    event = await wait_for_event(KAFKA, "helper-assigned", household)
    assert event["data"] == {"pairing_id": pairing["pairing_id"], "helper_id": helper_id, "household_id": household,
                             "village_code": village, "county_code": county, "starts_on": "2020-03-01"}
    assert "王" not in str(event)

    second = await pair(client, await helper(client), household)
    assert second.status_code == 409 and second.json()["code"] == "household_has_helper"
    assert second.json()["pairing_id"] == pairing["pairing_id"]

    # exit and return keep the pairing
    await upstream.household(village, "exited", household_id=household)
    await upstream.household(village, "returned", household_id=household)
    assert (await client.get(f"/assistance/pairings/{pairing['pairing_id']}", headers=W)).json()["status"] == "active"

    early = await client.post(f"/assistance/pairings/{pairing['pairing_id']}/end",
                              json={"ended_on": "2020-02-01", "reason": "调整"}, headers=W)
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "ended_on"
    ended = await client.post(f"/assistance/pairings/{pairing['pairing_id']}/end",
                              json={"ended_on": "2020-09-01", "reason": "工作调动"}, headers=W)
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    again = await client.post(f"/assistance/pairings/{pairing['pairing_id']}/end",
                              json={"ended_on": "2020-09-01", "reason": "工作调动"}, headers=W)
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"
    released = await wait_for_event(KAFKA, "helper-released", household)
    assert released["data"]["reason_code"] == "ended" and released["data"]["ended_on"] == "2020-09-01"
    assert (await client.get(f"/assistance/helpers/{helper_id}", headers=W)).json()["active_households"] == 0


async def test_pairing_errors(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    helper_id = await helper(client)
    unknown = await pair(client, str(uuid.uuid4()), await upstream.household(village))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_helper"
    never = await pair(client, helper_id, str(uuid.uuid4()))
    assert never.status_code == 422 and never.json()["code"] == "not_registered_poor"
    removed = await upstream.household(village, "removed")
    assert (await pair(client, helper_id, removed)).json()["code"] == "not_registered_poor"
    exited = await upstream.household(village, "exited")
    assert (await pair(client, helper_id, exited)).status_code == 201  # exited households keep their helpers
    no_unit = await client.post("/assistance/helpers", json={"name": "李", "unit_id": "nope", "phone": None},
                                headers=W)
    assert no_unit.status_code == 422 and no_unit.json()["code"] == "unknown_unit"
    for path in ("/assistance/helpers/x", "/assistance/pairings/x"):
        missing = await client.get(path, headers=W)
        assert missing.status_code == 404 and missing.json()["code"] in ("helper_not_found", "pairing_not_found")
    assert (await client.get("/assistance/helpers/x")).status_code == 401
    forbidden = await client.post("/assistance/helpers", json={"name": "李"}, headers=token("assistance:read"))
    assert forbidden.status_code == 403


async def test_one_helper_per_household_under_concurrency(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    household = await upstream.household(village)
    helpers = [await helper(client) for _ in range(8)]
    answers = await asyncio.gather(*(pair(client, h, household) for h in helpers))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 7, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"household_has_helper"}


async def test_helper_cap_of_the_year_under_concurrency(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    households = [await upstream.household(village) for _ in range(9)]
    helper_id = await helper(client)
    answers = await asyncio.gather(*(pair(client, helper_id, h) for h in households))
    assert sorted(a.status_code for a in answers) == [201] * 5 + [409] * 4
    refused = [a.json() for a in answers if a.status_code == 409]
    assert {r["code"] for r in refused} == {"helper_at_capacity"} and refused[0]["max_households"] == 5
    # the cap is the policy of starts_on's year
    policy = (await client.get("/assistance/policies/2021", headers=W)).json()
    assert policy["is_default"] is True and policy["helper_max_households"] == 5
    policy.update(helper_max_households=6)
    del policy["year"], policy["is_default"]
    assert (await client.put("/assistance/policies/2021", json=policy, headers=W)).status_code == 200
    unpaired = next(h for h, a in zip(households, answers, strict=True) if a.status_code == 409)
    assert (await pair(client, helper_id, unpaired, "2020-12-31")).json()["code"] == "helper_at_capacity"
    assert (await pair(client, helper_id, unpaired, "2021-01-01")).status_code == 201


async def test_household_removed_ends_the_pairing(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    household = await upstream.household(village)
    pairing = (await pair(client, await helper(client), household)).json()
    await upstream.household(village, "removed", household_id=household, on=dt.date(2020, 10, 8))
    await upstream.wait_for("SELECT status FROM pairings WHERE pairing_id = $1", pairing["pairing_id"],
                            expect="ended")
    read = (await client.get(f"/assistance/pairings/{pairing['pairing_id']}", headers=W)).json()
    assert read["reason_code"] == "household_removed" and read["ended_on"] == "2020-10-08"
    released = await wait_for_event(KAFKA, "helper-released", household)
    assert released["data"]["reason_code"] == "household_removed"


async def test_coverage(client: httpx.AsyncClient, upstream: Upstream) -> None:
    county, (village, other) = await upstream.county_with_villages()
    paired_one, unpaired = await upstream.household(village), await upstream.household(other, "returned")
    await upstream.household(village, "exited")  # not still poor
    assert (await pair(client, await helper(client), paired_one)).status_code == 201
    unit = (await client.post("/assistance/units", json={"name": "市财政局", "kind": "municipal"}, headers=W)).json()
    assert (await client.post(f"/assistance/units/{unit['unit_id']}/villages",
                              json={"village_code": village, "starts_on": "2020-01-01"}, headers=W)).status_code == 201
    team = (await client.post("/assistance/teams", json={"village_code": village, "unit_id": unit["unit_id"],
                                                         "formed_on": "2020-01-01"}, headers=W)).json()
    await client.post(f"/assistance/teams/{team['team_id']}/members", json={
        "name": "张", "role": "first_secretary", "background": "cadre", "joined_on": "2020-01-01"}, headers=W)
    for level_code in (county, village[:9]):
        answer = await client.get("/assistance/coverage", params={"division_code": level_code}, headers=W)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["still_poor_households"] == 2 and body["with_helper"] == 1
        assert body["helper_coverage"] == "0.5000"
        assert body["households_without_helper"] == [{"household_id": unpaired, "village_code": other,
                                                      "status": "returned"}]
        assert body["poor_villages"] == 2
        assert body["villages_without_unit"] == [other] and body["villages_without_team"] == [other]
        assert body["teams_short"] == [{"team_id": team["team_id"], "village_code": village,
                                        "lacks": ["technician", "members"]}]
    one = (await client.get("/assistance/coverage", params={"division_code": village}, headers=W)).json()
    assert one["helper_coverage"] == "1.0000" and one["villages_without_unit"] == []
    unknown = await client.get("/assistance/coverage", params={"division_code": "999999999999"}, headers=W)
    assert unknown.status_code == 404 and unknown.json()["code"] == "division_not_found"


async def test_pre_v2_household_snapshots_are_read(client: httpx.AsyncClient, upstream: Upstream) -> None:
    """Snapshots published before v2 (members without member_id, no causes, no town_code) still feed the model."""
    _, (village, _) = await upstream.county_with_villages()
    household = str(uuid.uuid4())
    event_id = await upstream.send("household-registered", household, {
        "household_id": household, "status": "registered", "village_code": village, "county_code": village[:6],
        "members": [{"person_ref": "ab" * 32, "masked_id_number": "610723********123X", "birth_date": "1980-01-01",
                     "relation": "head", "labor": "full"}],
        "occurred_at": dt.datetime.now(dt.UTC).isoformat()})
    await upstream.wait_for("SELECT count(*) FROM household_events WHERE event_id = $1", event_id, expect=1)
    plan = (await client.get(f"/assistance/households/{household}/plan", headers=W)).json()
    assert plan["status"] == "registered" and plan["causes"] == [] and plan["village_code"] == village
    assert (await pair(client, await helper(client), household)).status_code == 201
