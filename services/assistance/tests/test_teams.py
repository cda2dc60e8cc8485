"""Units, village pairings, village work teams, members and roles, attendance, withdrawal (contract §7)."""

import asyncio
import datetime as dt

import httpx
from as_support import Upstream
from conftest import token

W = token()


async def unit(client: httpx.AsyncClient) -> str:
    answer = await client.post("/assistance/units", json={"name": "省交通厅", "kind": "provincial"}, headers=W)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["unit_id"])


async def team(client: httpx.AsyncClient, village: str, unit_id: str, formed_on: str = "2016-03-01") -> str:
    answer = await client.post("/assistance/teams", json={"village_code": village, "unit_id": unit_id,
                                                          "formed_on": formed_on}, headers=W)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "active"
    return str(answer.json()["team_id"])


async def member(client: httpx.AsyncClient, team_id: str, role: str = "member", background: str = "cadre",
                 joined_on: str = "2019-04-01") -> httpx.Response:
    return await client.post(f"/assistance/teams/{team_id}/members", json={
        "name": "赵", "role": role, "background": background, "joined_on": joined_on}, headers=W)


async def test_units_and_village_pairings(client: httpx.AsyncClient, upstream: Upstream) -> None:
    county, (village, other) = await upstream.county_with_villages()
    rich = f"{county}001999"
    await upstream.division(rich, "village", parent=f"{county}001", poor=False)
    unit_id = await unit(client)
    assert (await client.get(f"/assistance/units/{unit_id}", headers=W)).json()["kind"] == "provincial"
    bad_kind = await client.post("/assistance/units", json={"name": "x", "kind": "ngo"}, headers=W)
    assert bad_kind.status_code == 422 and bad_kind.json()["errors"][0]["field"] == "kind"
    answer = await client.post(f"/assistance/units/{unit_id}/villages",
                               json={"village_code": village, "starts_on": "2016-01-01"}, headers=W)
    assert answer.status_code == 201, answer.text
    vp = answer.json()["village_pairing_id"]
    assert (await client.get(f"/assistance/village-pairings/{vp}", headers=W)).json()["village_code"] == village
    taken = await client.post(f"/assistance/units/{await unit(client)}/villages",
                              json={"village_code": village, "starts_on": "2016-01-01"}, headers=W)
    assert taken.status_code == 409 and taken.json()["code"] == "village_has_unit"
    not_poor = await client.post(f"/assistance/units/{unit_id}/villages",
                                 json={"village_code": rich, "starts_on": "2016-01-01"}, headers=W)
    assert not_poor.status_code == 422 and not_poor.json()["code"] == "not_poor_village"
    assert (await client.post("/assistance/units/nope/villages", json={"village_code": other, "starts_on":
                                                                       "2016-01-01"}, headers=W)).status_code == 404
    ended = await client.post(f"/assistance/village-pairings/{vp}/end", json={"ended_on": "2020-01-01",
                                                                             "reason": "轮换"}, headers=W)
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    again = await client.post(f"/assistance/village-pairings/{vp}/end", json={"ended_on": "2020-01-01"}, headers=W)
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"
    assert (await client.post(f"/assistance/units/{unit_id}/villages", json={
        "village_code": village, "starts_on": "2020-01-02"}, headers=W)).status_code == 201
    missing = await client.get("/assistance/village-pairings/nope", headers=W)
    assert missing.status_code == 404 and missing.json()["code"] == "village_pairing_not_found"


async def test_one_team_per_village_under_concurrency(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    unit_id = await unit(client)
    answers = await asyncio.gather(*(client.post("/assistance/teams", json={
        "village_code": village, "unit_id": unit_id, "formed_on": "2016-03-01"}, headers=W) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"village_has_team"}
    unknown = await client.post("/assistance/teams", json={"village_code": village, "unit_id": "nope",
                                                           "formed_on": "2016-03-01"}, headers=W)
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_unit"


async def test_roles_and_leaving(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    team_id = await team(client, village, await unit(client))
    first = await member(client, team_id, "first_secretary")
    assert first.status_code == 201
    answers = await asyncio.gather(*(member(client, team_id, "captain") for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    second = await member(client, team_id, "first_secretary")
    assert second.status_code == 409 and second.json()["code"] == "role_taken"
    assert (await member(client, team_id, "member")).status_code == 201
    assert (await member(client, team_id, "member")).status_code == 201
    mid = first.json()["team_member_id"]
    bad = await client.post(f"/assistance/teams/{team_id}/members/{mid}/leave", json={"left_on": "2019-01-01"},
                            headers=W)
    assert bad.status_code == 422
    left = await client.post(f"/assistance/teams/{team_id}/members/{mid}/leave", json={"left_on": "2020-06-30"},
                             headers=W)
    assert left.status_code == 200 and left.json()["status"] == "left"
    again = await client.post(f"/assistance/teams/{team_id}/members/{mid}/leave", json={"left_on": "2020-06-30"},
                              headers=W)
    assert again.status_code == 409
    assert (await member(client, team_id, "first_secretary")).status_code == 201  # the post is free again
    read = (await client.get(f"/assistance/teams/{team_id}", headers=W)).json()
    assert len(read["members"]) == 5
    missing = await client.get(f"/assistance/teams/{team_id}/members/nope", headers=W)
    assert missing.status_code == 404 and missing.json()["code"] == "team_member_not_found"
    assert (await client.get("/assistance/teams/nope", headers=W)).json()["code"] == "team_not_found"


async def test_attendance_pro_rated(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    team_id = await team(client, village, await unit(client))
    april = (await member(client, team_id, "first_secretary", joined_on="2019-04-01")).json()["team_member_id"]
    early = (await member(client, team_id, "member", "agri_technician", "2018-01-01")).json()["team_member_id"]
    path = f"/assistance/teams/{team_id}/members/{april}/attendance/2019"
    created = await client.put(path, json={"days_present": 151}, headers=W)
    assert created.status_code == 201, created.text
    assert created.json()["required_days"] == 151 and created.json()["meets_minimum"] is True
    updated = await client.put(path, json={"days_present": 150}, headers=W)
    assert updated.status_code == 200 and updated.json()["meets_minimum"] is False
    too_many = await client.put(path, json={"days_present": 276}, headers=W)
    assert too_many.status_code == 422 and too_many.json()["code"] == "validation_error"
    assert too_many.json()["errors"][0]["field"] == "days_present"
    assert (await client.put(path, json={"days_present": 275}, headers=W)).status_code == 200
    assert (await client.put(f"/assistance/teams/{team_id}/members/{early}/attendance/2019",
                             json={"days_present": 199}, headers=W)).status_code == 201
    sheet = (await client.get(f"/assistance/teams/{team_id}/attendance", params={"year": 2019}, headers=W)).json()
    assert sheet["min_days"] == 200
    rows = {m["team_member_id"]: m for m in sheet["members"]}
    assert rows[april] | {} == {"team_member_id": april, "role": "first_secretary", "days_present": 275,
                                "days_on_team": 275, "required_days": 151, "meets_minimum": True}
    assert rows[early]["required_days"] == 200 and rows[early]["meets_minimum"] is False
    # before the member joined: not on the sheet, and no day can be recorded
    assert [m["team_member_id"] for m in (await client.get(
        f"/assistance/teams/{team_id}/attendance", params={"year": 2018}, headers=W)).json()["members"]] == [early]
    assert (await client.put(f"/assistance/teams/{team_id}/members/{april}/attendance/2018",
                             json={"days_present": 1}, headers=W)).status_code == 422


async def test_withdrawal_rule(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    team_id = await team(client, village, await unit(client))
    await member(client, team_id, "first_secretary")
    household = await upstream.household(village)
    refused = await client.post(f"/assistance/teams/{team_id}/withdrawal",
                                json={"withdrawn_on": "2020-12-31", "reason": "任务完成"}, headers=W)
    assert refused.status_code == 409 and refused.json()["code"] == "team_must_stay"
    assert refused.json()["reasons"] == ["poor_households_remain", "village_not_exited"]
    assert refused.json()["poor_households"] == 1
    await upstream.household(village, "exited", household_id=household)
    await upstream.division_exit(village, dt.date(2018, 11, 20))
    unstable = await client.post(f"/assistance/teams/{team_id}/withdrawal",
                                 json={"withdrawn_on": "2021-11-19", "reason": "任务完成"}, headers=W)
    assert unstable.status_code == 409 and unstable.json()["reasons"] == ["exit_not_stable"]
    assert unstable.json()["stay_until"] == "2021-11-20"
    done = await client.post(f"/assistance/teams/{team_id}/withdrawal",
                             json={"withdrawn_on": "2021-11-20", "reason": "任务完成"}, headers=W)
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    assert {m["status"] for m in done.json()["members"]} == {"left"}
    coverage = (await client.get("/assistance/coverage", params={"division_code": village}, headers=W)).json()
    assert coverage["villages_without_team"] == [] and coverage["teams_short"] == []
    again = await client.post(f"/assistance/teams/{team_id}/withdrawal",
                              json={"withdrawn_on": "2021-11-21"}, headers=W)
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"
