"""Targets, misuse findings, assessments over the read models of §6 events, summonses (contract §7), with a scaled
version of the worked example published through the real Kafka."""

import datetime as dt
import uuid

import httpx
from as_support import Upstream
from conftest import KAFKA, token

from fupin_kit.clock import today as china_today
from fupin_kit.testing import wait_for_event

W = token()
D = dt.date


async def set_targets(client: httpx.AsyncClient, county: str, year: int, households: int, villages: int,
                      funds: str) -> httpx.Response:
    return await client.put(f"/assistance/targets/{county}/years/{year}", json={
        "households_to_exit": households, "villages_to_exit": villages, "funds_to_spend": funds}, headers=W)


async def assess(client: httpx.AsyncClient, county: str, year: int = 2019) -> httpx.Response:
    return await client.post("/assistance/assessments", json={"county_code": county, "year": year}, headers=W)


async def test_targets(client: httpx.AsyncClient, upstream: Upstream) -> None:
    county, (village, _) = await upstream.county_with_villages()
    assert (await client.get(f"/assistance/targets/{county}/years/2019", headers=W)).json()["code"] == \
        "targets_not_set"
    created = await set_targets(client, county, 2019, 10, 2, "1000")
    assert created.status_code == 201 and created.json()["funds_to_spend"] == "1000.00"
    assert (await set_targets(client, county, 2019, 12, 2, "1000.00")).status_code == 200
    assert (await client.get(f"/assistance/targets/{county}/years/2019", headers=W)).json()[
        "households_to_exit"] == 12
    not_county = await set_targets(client, village[:9], 2019, 1, 1, "1")
    assert not_county.status_code in (404, 422)
    unknown = await client.put("/assistance/targets/999998/years/2019", json={
        "households_to_exit": 1, "villages_to_exit": 1, "funds_to_spend": "1"}, headers=W)
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_division"
    no_targets = await assess(client, village[:6], 2018)
    assert no_targets.status_code == 422 and no_targets.json()["code"] == "targets_not_set"
    future = await assess(client, county, china_today().year + 1)
    assert future.status_code == 422 and future.json()["code"] == "year_in_future"


async def test_worked_example_scaled_through_events(client: httpx.AsyncClient, upstream: Upstream) -> None:
    """§7's example divided by 10 where it can be (targets 120 households, 8 villages, 6,000,000.00): 124 exits
    certified in 2019, 2 returned and 1 removed later in 2019 (and one return only in 2020) → 121 (ratio 1);
    8 villages; 5,280,000.00 paid (0.8800); 39 of 40 still-poor households paired (0.9750); 1 removed of 150
    registered (0.0067). Score 97.10, excellent; then 7 villages → 94.60, fail with a summons."""
    county, villages = await upstream.county_with_villages(9)
    village = villages[0]
    assert (await set_targets(client, county, 2019, 120, 8, "6000000.00")).status_code == 201
    exits = [await upstream.household(village, on=D(2018, 5, 1), wait=False) for _ in range(124)]
    poor = [await upstream.household(village, on=D(2018, 5, 1), wait=False) for _ in range(40)]
    removed_poor = await upstream.household(village, on=D(2018, 5, 1), wait=False)
    for h in exits:
        await upstream.household(village, "exited", household_id=h, on=D(2019, 6, 1), wait=False)
    for h in exits[:2]:
        await upstream.household(village, "returned", household_id=h, on=D(2019, 9, 1), wait=False)
    await upstream.household(village, "returned", household_id=exits[3], on=D(2020, 1, 5), wait=False)
    await upstream.household(village, "removed", household_id=removed_poor, on=D(2019, 3, 1), wait=False)
    last = await upstream.household(village, "removed", household_id=exits[2], on=D(2019, 11, 1), wait=False)
    await upstream.wait_for("SELECT count(*) FROM household_events WHERE household_id = $1", last, expect=3)
    await upstream.wait_for("SELECT count(*) FROM household_events WHERE county_code = $1", county,
                            expect=2 * 124 + 40 + 2 + 4)
    # exits[:2] are still poor again (returned) and need helpers too: 40 + 2 = 42 still poor, 41 paired
    helpers = []
    for _ in range(9):
        answer = await client.post("/assistance/helpers", json={"name": "帮扶干部"}, headers=W)
        helpers.append(answer.json()["helper_id"])
    for i, h in enumerate([*poor, *exits[:2]][:41]):
        answer = await client.post("/assistance/pairings", json={"helper_id": helpers[i // 5], "household_id": h,
                                                                 "starts_on": "2019-02-01"}, headers=W)
        assert answer.status_code == 201, answer.text
    for code in villages[:8]:
        await upstream.division_exit(code, D(2019, 12, 20))
    await upstream.division_exit(villages[8], D(2020, 1, 2))  # dated 2020: not counted
    await upstream.payment(county, "5000000.00", paid_on=D(2019, 4, 1))
    await upstream.payment(county, "280000.00", paid_on=D(2019, 12, 31))
    reversed_id = await upstream.payment(county, "100000.00", paid_on=D(2019, 5, 1))
    await upstream.payment(county, "100000.00", paid_on=D(2019, 5, 1), status="reversed", payment_id=reversed_id,
                           on=D(2019, 7, 1))
    await upstream.payment(county, "999.00", paid_on=D(2020, 1, 1))  # paid in 2020
    late_reversal = await upstream.payment(county, "50.00", paid_on=D(2019, 8, 1))
    await upstream.payment(county, "50.00", paid_on=D(2019, 8, 1), status="reversed", payment_id=late_reversal,
                           on=D(2020, 1, 3))  # reversed after D: still counted
    await upstream.payment(county, "0.00", paid_on=D(2019, 8, 2))

    answer = await assess(client, county)
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["final"] is True and result["reference_date"] == "2019-12-31"
    actuals = result["actuals"]
    assert actuals["exits_certified"] == 124 and actuals["exits_returned_or_removed"] == 3
    assert actuals["households_exited"] == 121
    assert actuals["villages_exited"] == 8
    assert actuals["funds_spent"] == "5280050.00"
    assert actuals["still_poor_households"] == 42 and actuals["households_with_helper"] == 41
    assert actuals["households_registered"] == 165 and actuals["households_removed"] == 2
    assert actuals["error_rate"] == "0.0121"
    assert result["targets"] == {"households_to_exit": 120, "villages_to_exit": 8, "funds_to_spend": "6000000.00"}
    assert result["ratios"]["households"] == "1.0000" and result["ratios"]["villages"] == "1.0000"
    assert result["ratios"]["funds"] == "0.8800"
    assert result["ratios"]["helper_coverage"] == "0.9762"
    # 100 × (0.4 + 0.2 + 0.2 × 5280050/6000000 + 0.2 × 41/42) = 97.12
    assert result["score"] == "97.12" and result["verdict"] == "excellent" and result["summons_id"] is None
    assert result["vetoes"] == [] and result["reasons"] == []
    assert result["policy"]["weights"]["households"] == "0.40"
    stored = (await client.get(f"/assistance/assessments/{result['assessment_id']}", headers=W)).json()
    assert stored == result
    event = await wait_for_event(KAFKA, "assessment-completed", county)
    assert event["data"]["score"] == "97.12" and event["data"]["verdict"] == "excellent"

    # the same county with a target of 9 villages: village_target_missed → fail with a summons, once
    assert (await set_targets(client, county, 2019, 120, 9, "6000000.00")).status_code == 200
    failed = (await assess(client, county)).json()
    assert failed["ratios"]["villages"] == "0.8889" and failed["reasons"] == ["village_target_missed"]
    assert failed["verdict"] == "fail" and failed["summons_id"] is not None
    again = (await assess(client, county)).json()
    assert again["summons_id"] == failed["summons_id"] and again["assessment_id"] != failed["assessment_id"]
    listed = (await client.get("/assistance/summonses", params={"county_code": county, "year": 2019},
                               headers=W)).json()
    assert [(s["summons_id"], s["assessment_id"], s["reasons"], s["status"], s["held_on"]) for s in listed] == [
        (failed["summons_id"], failed["assessment_id"], ["village_target_missed"], "open", None)]
    path = f"/assistance/summonses/{failed['summons_id']}/record"
    held = await client.post(path, json={"held_on": "2020-02-10", "note": "约谈县委书记"}, headers=W)
    assert held.status_code == 200 and held.json()["status"] == "held" and held.json()["held_on"] == "2020-02-10"
    twice = await client.post(path, json={"held_on": "2020-02-11"}, headers=W)
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status"

    # a misuse finding vetoes whatever the score
    assert (await set_targets(client, county, 2019, 120, 8, "6000000.00")).status_code == 200
    finding = await client.post("/assistance/misuse-findings", json={
        "county_code": county, "year": 2019, "found_on": "2020-03-01", "amount": "12000.00",
        "reference": "审计-2020-07", "note": "挪用产业资金"}, headers=W)
    assert finding.status_code == 201
    assert (await client.get(f"/assistance/misuse-findings/{finding.json()['finding_id']}",
                             headers=W)).json()["amount"] == "12000.00"
    vetoed = (await assess(client, county)).json()
    assert vetoed["vetoes"] == ["funds_misuse"] and vetoed["verdict"] == "fail" and vetoed["score"] == "97.12"
    assert vetoed["summons_id"] == failed["summons_id"]


async def test_assessment_while_the_year_runs_is_not_final(client: httpx.AsyncClient, upstream: Upstream) -> None:
    county, (village, _) = await upstream.county_with_villages()
    today = china_today()  # the service's "today" is China Standard Time's, whatever the machine's zone
    year = today.year
    assert (await set_targets(client, county, year, 0, 0, "0")).status_code == 201
    await upstream.household(village)
    result = (await assess(client, county, year)).json()
    assert result["final"] is False and result["reference_date"] <= today.isoformat()
    # zero targets count as met; nobody paired: 100 × (0.4 + 0.2 + 0.2 + 0) = 80.00
    assert result["ratios"]["helper_coverage"] == "0.0000" and result["score"] == "80.00"
    assert result["verdict"] == "pass" and result["reasons"] == []
    assert result["summons_id"] is None  # only a final fail opens a summons
    assert (await client.get("/assistance/assessments/nope", headers=W)).json()["code"] == "assessment_not_found"
    assert (await client.get("/assistance/summonses/nope", headers=W)).json()["code"] == "summons_not_found"
    assert (await client.get(f"/assistance/misuse-findings/{uuid.uuid4()}", headers=W)).json()["code"] == \
        "misuse_finding_not_found"


async def test_policies(client: httpx.AsyncClient) -> None:
    default = (await client.get("/assistance/policies/2030", headers=token("assistance:read"))).json()
    assert default == {"year": 2030, "is_default": True, "helper_max_households": 5, "team_min_members": 3,
                       "team_min_days": 200, "team_stay_years": 3,
                       "weights": {"households": "0.40", "villages": "0.20", "funds": "0.20",
                                   "helper_coverage": "0.20"},
                       "excellent_from": "90.00", "pass_from": "60.00", "veto_error_rate": "0.0200"}
    body = {k: v for k, v in default.items() if k not in ("year", "is_default")}
    bad = await client.put("/assistance/policies/2030", json={**body, "weights": {
        "households": 0.5, "villages": 0.2, "funds": 0.2, "helper_coverage": 0.2}}, headers=W)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert bad.json()["errors"][0]["field"] == "weights"
    ok = await client.put("/assistance/policies/2030", json={**body, "team_min_days": 180, "weights": {
        "households": 0.3, "villages": 0.3, "funds": 0.2, "helper_coverage": 0.2}}, headers=W)
    assert ok.status_code == 200 and ok.json()["team_min_days"] == 180
    assert (await client.get("/assistance/policies/2030", headers=W)).json()["weights"]["villages"] == "0.30"
    assert (await client.put("/assistance/policies/2030", json=body,
                             headers=token("assistance:read"))).status_code == 403
