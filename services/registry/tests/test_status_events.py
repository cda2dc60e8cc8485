"""`household-status-changed` (the war map counts every status): identified, town_verified and rejected are published
through the outbox with ids, the division and the status only; registered goes on its snapshot topic, not here."""

import json

import httpx
from registry_helpers import KAFKA, WRITE, create_household, household_body, make_tree, verify

from fupin_events.payloads import HouseholdStatusChanged
from fupin_kit.testing import events_about

TOPIC = "household-status-changed"


async def test_statuses_without_a_snapshot_are_published(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=2)
    registered = (await client.post("/registry/households", headers=WRITE, json=body)).json()["household_id"]
    assert (await verify(client, registered, "town")).status_code == 201
    assert (await verify(client, registered, "county")).status_code == 201
    refused = (await create_household(client, tree["village"]))["household_id"]
    assert (await verify(client, refused, "town", approved=False)).json()["status"] == "rejected"

    events = [r.event for r in await events_about(KAFKA, TOPIC, {registered, refused}, 4, timeout=20)]
    by_household: dict[str, list[str]] = {}
    for event in events:
        data = HouseholdStatusChanged.model_validate(event["data"])
        assert event["type"] == f"cn.fupin.{TOPIC}" and event["source"] == "registry"
        assert event["subject"] == str(data.household_id)
        assert data.village_code == tree["village"] and data.county_code == tree["county"]
        assert data.town_code == tree["town"]
        by_household.setdefault(str(data.household_id), []).append(data.status)
    # registered travels on household-registered (a snapshot), never here
    assert by_household == {registered: ["identified", "town_verified"], refused: ["identified", "rejected"]}
    assert set(events[0]["data"]) == {"household_id", "status", "previous_status", "village_code", "town_code",
                                      "county_code", "occurred_at"}
    raw = json.dumps(events, ensure_ascii=False)
    for m in body["members"]:
        assert m["id_number"] not in raw and m["name"] not in raw
    assert "person_ref" not in raw and "birth_date" not in raw
