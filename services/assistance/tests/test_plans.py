"""Household plans (因户施策): measures, references by line, forward-only progress, causes unaddressed (§7)."""

import uuid

import httpx
from as_support import Upstream
from conftest import KAFKA, token

from fupin_kit.testing import wait_for_event

W = token()


async def measure(client: httpx.AsyncClient, household: str, **changes: object) -> httpx.Response:
    body = {"line": "industry_employment", "cause": "lack_skills", "description": "参加电商技能培训",
            "planned_year": 2020, "reference": None, **changes}
    return await client.post(f"/assistance/households/{household}/measures", json=body, headers=W)


async def test_plan_measures_and_progress(client: httpx.AsyncClient, upstream: Upstream) -> None:
    county, (village, _) = await upstream.county_with_villages()
    household = await upstream.household(village, causes=("illness", "lack_skills", "lack_funds"))
    plan = (await client.get(f"/assistance/households/{household}/plan", headers=W)).json()
    assert plan["causes_unaddressed"] == ["illness", "lack_skills", "lack_funds"] and plan["pairing"] is None
    created = await measure(client, household, reference={"kind": "loan", "id": "L-1"}, cause="lack_funds")
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["status"] == "planned" and first["reference"] == {"kind": "loan", "id": "L-1"}
    assert (await measure(client, household, line="education", cause="illness",
                          reference={"kind": "grant", "id": "G-9"})).status_code == 201
    plan = (await client.get(f"/assistance/households/{household}/plan", headers=W)).json()
    assert plan["causes"] == ["illness", "lack_skills", "lack_funds"] and plan["status"] == "registered"
    assert plan["causes_unaddressed"] == ["lack_skills"] and len(plan["measures"]) == 2

    path = f"/assistance/measures/{first['measure_id']}/progress"
    started = await client.post(path, json={"status": "in_progress", "on": "2020-04-01"}, headers=W)
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    back = await client.post(path, json={"status": "in_progress", "on": "2020-04-02"}, headers=W)
    assert back.status_code == 409 and back.json()["code"] == "invalid_transition"
    done = await client.post(path, json={"status": "done", "on": "2020-10-01"}, headers=W)
    assert done.status_code == 200 and done.json()["completed_on"] == "2020-10-01"
    assert (await client.post(path, json={"status": "done", "on": "2020-10-02"}, headers=W)).status_code == 409
    event = await wait_for_event(KAFKA, "plan-measure-completed", household)
    assert event["data"] == {"measure_id": first["measure_id"], "household_id": household, "village_code": village,
                             "county_code": county, "line": "industry_employment", "cause": "lack_funds",
                             "completed_on": "2020-10-01", "reference": {"kind": "loan", "id": "L-1"}}
    assert "电商" not in str(event)
    straight = (await measure(client, household)).json()
    assert (await client.post(f"/assistance/measures/{straight['measure_id']}/progress",
                              json={"status": "done", "on": "2020-05-01"}, headers=W)).status_code == 200
    assert (await client.get(f"/assistance/measures/{straight['measure_id']}", headers=W)).json()["status"] == "done"


async def test_measure_errors(client: httpx.AsyncClient, upstream: Upstream) -> None:
    _, (village, _) = await upstream.county_with_villages()
    household = await upstream.household(village)
    for line, kind in (("industry_employment", "grant"), ("education", "loan"), ("relocation", "loan"),
                       ("social_security", "grant")):
        refused = await measure(client, household, line=line, reference={"kind": kind, "id": "X"})
        assert refused.status_code == 422 and refused.json()["code"] == "reference_not_allowed", (line, kind)
    bad_cause = await measure(client, household, cause="laziness")
    assert bad_cause.status_code == 422 and bad_cause.json()["errors"][0]["field"] == "cause"
    unknown = str(uuid.uuid4())
    assert (await measure(client, unknown)).json()["code"] == "not_registered_poor"
    removed = await upstream.household(village, "removed")
    assert (await measure(client, removed)).json()["code"] == "not_registered_poor"
    exited = await upstream.household(village, "exited")
    assert (await measure(client, exited)).status_code == 201
    missing = await client.get(f"/assistance/households/{unknown}/plan", headers=W)
    assert missing.status_code == 404 and missing.json()["code"] == "household_not_found"
    gone = await client.post("/assistance/measures/nope/progress", json={"status": "done", "on": "2020-01-01"},
                             headers=W)
    assert gone.status_code == 404 and gone.json()["code"] == "measure_not_found"
