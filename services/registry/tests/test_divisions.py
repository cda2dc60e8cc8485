import asyncio
import json

import httpx
from aiokafka import AIOKafkaConsumer
from registry_helpers import KAFKA, READ, WRITE, codes, make_tree, registered_household

from fupin_events.payloads import DivisionUpdated
from fupin_kit.events.topics import kafka_topic
from fupin_kit.testing import wait_for_event


async def test_put_creates_then_updates_a_division(client: httpx.AsyncClient) -> None:
    c = codes()
    body = {"name": "洋县", "level": "county", "parent_code": None, "poor": True, "population": 300000}
    created = await client.put(f"/registry/divisions/{c['county']}", headers=WRITE, json=body)
    assert created.status_code == 201
    assert created.json()["stats"] == {"households": 0, "persons": 0, "poor_persons": 0,
                                       "poverty_incidence": "0.0000"}
    updated = await client.put(f"/registry/divisions/{c['county']}", headers=WRITE,
                               json={**body, "population": 250000})
    assert updated.status_code == 200
    assert (await client.get(f"/registry/divisions/{c['county']}", headers=READ)).json()["population"] == 250000


async def test_every_put_publishes_division_updated(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    await client.put(f"/registry/divisions/{tree['village']}", headers=WRITE, json={
        "name": "新村", "level": "village", "parent_code": tree["town"], "poor": False, "population": 77})
    event = await wait_for_event(KAFKA, "division-updated", tree["county"])
    county = DivisionUpdated.model_validate(event["data"])
    assert county.division_code == tree["county"] and county.level == "county" and county.parent_code == tree["city"]
    assert event["type"] == "cn.fupin.division-updated" and event["subject"] == tree["county"]
    # The compacted topic keeps the latest per code; the probe reads from the start, so wait for the second one.
    consumer = AIOKafkaConsumer(kafka_topic("division-updated"), bootstrap_servers=KAFKA, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    seen: list[DivisionUpdated] = []
    try:
        async with asyncio.timeout(20):
            async for record in consumer:
                if record.key is not None and record.key.decode() == tree["village"]:
                    seen.append(DivisionUpdated.model_validate(json.loads(record.value)["data"]))
                    if len(seen) == 2:
                        break
    finally:
        await consumer.stop()
    assert seen[0].population != 77 and seen[1] == DivisionUpdated(
        division_code=tree["village"], level="village", parent_code=tree["town"], name="新村", poor=False,
        population=77)


async def test_unknown_parent_is_invalid_division(client: httpx.AsyncClient) -> None:
    c = codes()
    answer = await client.put(f"/registry/divisions/{c['town']}", headers=WRITE, json={
        "name": "镇", "level": "town", "parent_code": c["county"], "poor": False, "population": 10})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_division"


async def test_code_that_does_not_fit_its_level_is_invalid_division(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    for code, level, parent in ((tree["town"] + "1", "town", tree["county"]),      # 10 digits for a town
                                ("999999999", "town", tree["county"]),             # not under its county
                                (tree["town"] + "001", "village", tree["county"]),  # a village under a county
                                (tree["county"], "village", tree["town"])):        # 6 digits for a village
        answer = await client.put(f"/registry/divisions/{code}", headers=WRITE, json={
            "name": "x", "level": level, "parent_code": parent, "poor": False, "population": 1})
        assert answer.status_code == 422, (code, level)
        assert answer.json()["code"] == "invalid_division"


async def test_missing_division_is_404_and_scopes_are_checked(client: httpx.AsyncClient) -> None:
    missing = await client.get("/registry/divisions/123456", headers=READ)
    assert missing.status_code == 404 and missing.json()["code"] == "division_not_found"
    assert (await client.get("/registry/divisions/123456")).status_code == 401
    tree = codes()
    forbidden = await client.put(f"/registry/divisions/{tree['county']}", headers=READ, json={
        "name": "x", "level": "county", "parent_code": None, "poor": False, "population": 1})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"


async def test_bad_body_is_validation_error_naming_the_field(client: httpx.AsyncClient) -> None:
    answer = await client.put("/registry/divisions/610723", headers=WRITE, json={
        "name": "x", "level": "province", "parent_code": None, "poor": False, "population": -1})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"level", "population"} <= fields


async def test_stats_count_poor_persons_of_registered_households(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client, population=200)
    await registered_household(client, tree["village"], size=3)
    await registered_household(client, tree["village"], size=2)
    await client.post("/registry/households", headers=WRITE,
                      json=__import__("registry_helpers").household_body(tree["village"], size=4))
    for level in ("village", "town", "county", "city"):
        stats = (await client.get(f"/registry/divisions/{tree[level]}", headers=READ)).json()["stats"]
        assert stats == {"households": 3, "persons": 9, "poor_persons": 5, "poverty_incidence": "0.0250"}, level
