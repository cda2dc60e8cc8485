"""`household-status-changed` (the war map counts every status): identified, town_verified and rejected are published
through the outbox with ids, the division and the status only; registered goes on its snapshot topic, not here."""

import asyncio
import json
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from registry_helpers import KAFKA, WRITE, create_household, household_body, make_tree, verify

from fupin_events.payloads import HouseholdStatusChanged
from fupin_kit.events.topics import kafka_topic

TOPIC = "household-status-changed"


async def events_about(subjects: set[str], count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The first `count` events of the topic about any of `subjects`, in topic order (one partition per key)."""
    consumer = AIOKafkaConsumer(kafka_topic(TOPIC), bootstrap_servers=KAFKA, group_id=f"probe-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            async for record in consumer:
                if record.key is not None and record.key.decode() in subjects:
                    found.append(json.loads(record.value))
                    if len(found) == count:
                        return found
    finally:
        await consumer.stop()
    return found


async def test_statuses_without_a_snapshot_are_published(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=2)
    registered = (await client.post("/registry/households", headers=WRITE, json=body)).json()["household_id"]
    assert (await verify(client, registered, "town")).status_code == 201
    assert (await verify(client, registered, "county")).status_code == 201
    refused = (await create_household(client, tree["village"]))["household_id"]
    assert (await verify(client, refused, "town", approved=False)).json()["status"] == "rejected"

    events = await events_about({registered, refused}, 4)
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
