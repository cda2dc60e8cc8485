"""household-status-changed (identified, town_verified, rejected) moves a household between the status counts, in
lifecycle order and never over a snapshot's status; funds-allocated counts where the money went (a county, or the
city's own accounts plus its counties')."""

import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from dash_support import publish, snapshot
from test_figures import build_county, until


def status(household_id: str, value: str, village: str) -> dict[str, Any]:
    return {"household_id": household_id, "status": value, "village_code": village, "town_code": village[:9],
            "county_code": village[:6], "occurred_at": "2026-11-30T08:00:00Z"}


def allocation(jurisdiction: str, program: str, amount: str) -> dict[str, Any]:
    return {"allocation_id": str(uuid.uuid4()), "fund_id": str(uuid.uuid4()), "jurisdiction_code": jurisdiction,
            "program": program, "amount": amount, "year": 2026, "allocated_at": "2026-11-30T09:00:00Z"}


async def test_statuses_without_a_snapshot_are_counted(client: httpx.AsyncClient,
                                                       producer: AIOKafkaProducer) -> None:
    county, town, village, _ = await build_county(producer)
    waiting, refused, registered = (str(uuid.uuid4()) for _ in range(3))
    topic = "household-status-changed"
    await publish(producer, topic, waiting, status(waiting, "identified", village))
    await publish(producer, topic, waiting, status(waiting, "town_verified", village))
    await publish(producer, topic, refused, status(refused, "identified", village))
    await publish(producer, topic, refused, status(refused, "rejected", village))
    await publish(producer, topic, refused, status(refused, "town_verified", village))  # late: rejected stays
    # the snapshot comes first, its town_verified after it (another topic): the snapshot's status stays
    await publish(producer, "household-registered", registered, snapshot(registered, "registered", village, 3, 3))
    await publish(producer, topic, registered, status(registered, "town_verified", village))
    body = await until(client, county, lambda b: b["households"]["registered"] == 1
                       and b["households"]["rejected"] == 1 and b["households"]["town_verified"] == 1)
    assert body["households"]["identified"] == 0 and body["poor_persons"] == 3
    village_body = await until(client, village, lambda b: b["households"]["town_verified"] == 1)
    assert village_body["households"]["rejected"] == 1
    town_body = await until(client, town, lambda b: b["households"]["town_verified"] == 1)
    assert town_body["households"]["registered"] == 1

    # the county approves the waiting household: its snapshot moves it out of town_verified
    await publish(producer, "household-registered", waiting, snapshot(waiting, "registered", village, 2, 3))
    body = await until(client, county, lambda b: b["households"]["registered"] == 2)
    assert body["households"]["town_verified"] == 0 and body["poor_persons"] == 5


async def test_allocations_count_for_their_jurisdiction(client: httpx.AsyncClient,
                                                        producer: AIOKafkaProducer) -> None:
    county, _, village, _ = await build_county(producer)
    city = (await until(client, village, lambda b: len(b["ancestors"]) == 3))["ancestors"][0]["code"]
    for data in (allocation(county, "medical_assistance", "1000.00"), allocation(county, "medical_assistance", "0.50"),
                 allocation(county, "minimum_living", "300.00"), allocation(city, "medical_assistance", "20.00")):
        await publish(producer, "funds-allocated", data["allocation_id"], data)
    body = await until(client, county, lambda b: b["funds"].get("minimum_living", {}).get("allocated") == "300.00"
                       and b["funds"]["medical_assistance"]["allocated"] == "1000.50")
    assert body["funds"]["minimum_living"] == {"allocated": "300.00", "paid": "0.00", "pending": "0.00"}
    # the city: its own accounts plus its counties' (other tests' counties may share the city code)
    city_body = await until(client, city, lambda b: float(b["funds"]["medical_assistance"]["allocated"]) >= 1020.50)
    assert city_body["code"] == city
