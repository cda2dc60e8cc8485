"""POST /microcredit/eligibility-checks against the read model kept from registry events on the real Kafka."""

import datetime as dt
import uuid

import httpx
import pytest
from conftest import token
from mc_support import BANK, GOV_READ, Registry, adult_id, member, resident_id

from fupin_kit.clock import today

URL = "/microcredit/eligibility-checks"
ANSWER_FIELDS = {"eligible", "reasons", "max_amount", "available_amount", "max_term_months", "guarantee_required",
                 "collateral_required", "interest_subsidy", "benchmark_rate", "masked_id_number"}


async def check(client: httpx.AsyncClient, id_number: str) -> dict:
    answer = await client.post(URL, json={"id_number": id_number}, headers=token(**BANK))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_registered_member_is_eligible_with_nothing_else_about_the_household(
        client: httpx.AsyncClient, registry: Registry) -> None:
    id_number = adult_id(40)
    await registry.household("registered", member(id_number), member(adult_id(38), relation="spouse"))
    body = await check(client, id_number)
    assert set(body) == ANSWER_FIELDS
    assert body == {"eligible": True, "reasons": [], "max_amount": "50000.00", "available_amount": "50000.00",
                    "max_term_months": 36, "guarantee_required": False, "collateral_required": False,
                    "interest_subsidy": "full", "benchmark_rate": "4.35",
                    "masked_id_number": id_number[:6] + "********" + id_number[-4:]}


@pytest.mark.parametrize("status", ["exited", "returned"])
async def test_exited_and_returned_households_stay_eligible(
        client: httpx.AsyncClient, registry: Registry, status: str) -> None:
    id_number = adult_id(30)
    await registry.household(status, member(id_number))
    assert (await check(client, id_number))["eligible"] is True


async def test_unknown_person_is_not_registered_poor(client: httpx.AsyncClient) -> None:
    body = await check(client, adult_id(40))
    assert body["eligible"] is False
    assert body["reasons"] == ["not_registered_poor"]
    assert body["available_amount"] == "0.00"


async def test_removal_revokes_eligibility_once_consumed(client: httpx.AsyncClient, registry: Registry) -> None:
    id_number = adult_id(45)
    household_id = await registry.household("registered", member(id_number))
    assert (await check(client, id_number))["eligible"] is True
    await registry.publish(household_id, "removed", [member(id_number)])
    await registry.wait_for_status(household_id, "removed")
    body = await check(client, id_number)
    assert (body["eligible"], body["reasons"]) == (False, ["not_registered_poor"])


async def test_an_older_snapshot_arriving_late_does_not_undo_a_removal(
        client: httpx.AsyncClient, registry: Registry) -> None:
    id_number = adult_id(45)
    household_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    await registry.publish(household_id, "removed", [member(id_number)], occurred_at=now)
    await registry.wait_for_status(household_id, "removed")
    # registered earlier, delivered later on another topic: ignored
    await registry.publish(household_id, "registered", [member(id_number)], occurred_at=now - dt.timedelta(hours=1))
    marker = await registry.household("registered", member(adult_id(50)))  # consumed after the stale one
    assert marker
    assert await registry.household_status(household_id) == "removed"
    assert (await check(client, id_number))["reasons"] == ["not_registered_poor"]


async def test_a_malformed_event_does_not_stop_the_read_model(client: httpx.AsyncClient, registry: Registry) -> None:
    bad_household = str(uuid.uuid4())
    await registry.publish(bad_household, "registered", [{"relation": "head"}], village_code="not-a-village")
    id_number = adult_id(33)
    await registry.household("registered", member(id_number))
    assert await registry.household_status(bad_household) is None
    assert (await check(client, id_number))["eligible"] is True


@pytest.mark.parametrize("years, days, in_range", [
    (18, 0, True),     # 18th birthday today
    (18, -1, False),   # 17: 18 tomorrow
    (65, 0, True),     # 65th birthday today
    (66, -1, True),    # still 65: 66 tomorrow
    (66, 0, False),    # 66th birthday today
])
async def test_age_on_the_day_of_the_check(client: httpx.AsyncClient, registry: Registry, years: int, days: int,
                                           in_range: bool) -> None:
    day = today()
    born = day.replace(year=day.year - years) + dt.timedelta(days=-days)
    if born.month == 2 and born.day == 29:
        pytest.skip("birthday on 29 February")
    id_number = resident_id(born)
    await registry.household("registered", member(id_number))
    body = await check(client, id_number)
    assert body["eligible"] is in_range
    assert body["reasons"] == ([] if in_range else ["age_out_of_range"])


async def test_no_labor_capacity(client: httpx.AsyncClient, registry: Registry) -> None:
    id_number, partial = adult_id(50), adult_id(48)
    await registry.household("registered", member(id_number, labor="none"), member(partial, labor="partial"))
    assert (await check(client, id_number))["reasons"] == ["no_labor_capacity"]
    assert (await check(client, partial))["eligible"] is True


async def test_scopes_and_validation(client: httpx.AsyncClient) -> None:
    id_number = adult_id(40)
    assert (await client.post(URL, json={"id_number": id_number})).json()["code"] == "unauthorized"
    forbidden = await client.post(URL, json={"id_number": id_number}, headers=token(**GOV_READ))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    broken = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    invalid = await client.post(URL, json={"id_number": broken}, headers=token(**BANK))
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith("application/problem+json")
    assert invalid.json()["code"] == "validation_error"
    assert invalid.json()["errors"][0]["field"] == "id_number"
    assert broken not in invalid.text
    missing = await client.post(URL, json={}, headers=token(**BANK))
    assert missing.json()["errors"][0]["field"] == "id_number"


async def test_a_member_left_out_of_a_newer_snapshot_is_no_longer_registered_poor(
        client: httpx.AsyncClient, registry: Registry) -> None:
    head, lodger = adult_id(44), adult_id(30)
    household_id = await registry.household("registered", member(head), member(lodger, relation="other"))
    assert (await check(client, lodger))["eligible"] is True
    await registry.publish(household_id, "exited", [member(head)])
    await registry.wait_for_status(household_id, "exited")
    assert (await check(client, lodger))["reasons"] == ["not_registered_poor"]
    assert (await check(client, head))["eligible"] is True
